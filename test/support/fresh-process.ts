/**
 * Runs an ES module script in a new Node process (with tsx, in the repository root) and answers
 * the JSON it prints: for what depends on a clean module cache, such as which packages a module
 * loads (this process's cache has seen other tests' imports).
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

export const ROOT = join(import.meta.dirname, '..', '..');

/**
 * Script source defining `loadedFiles()`: the files in the CJS module cache, by package, without
 * the stand-in entries of modules deferred to their first use (src/adapters/load-on-first-use.ts).
 */
export const LOADED_FILES = `
  import { createRequire as createRequireForCache } from 'node:module';
  function loadedFiles() {
    const files = {};
    for (const [file, entry] of Object.entries(createRequireForCache(import.meta.url).cache)) {
      const name = /node_modules\\/((?:@[^/]+\\/)?[^/]+)\\/(.*)$/.exec(file);
      if (!name || Object.getPrototypeOf(entry) === null) continue;
      (files[name[1]] ??= []).push(name[2]);
    }
    return files;
  }
`;

/** Runs `script` (which ends by printing one JSON value) and parses what it printed. */
export async function runFresh<T>(script: string): Promise<T> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', '--input-type=module', '-e', `${script}\nprocess.exit(0);`],
    { cwd: ROOT },
  );
  return JSON.parse(stdout) as T;
}
