/**
 * `npm run build`, and `prepare` after every `npm install`/`npm ci`: compiles src/ and blocks/ to
 * dist/, one .js file per .ts file in the same layout (dist/src/..., dist/blocks/...), then copies
 * what the runtime reads at run time beside the code the way it sits beside the sources
 * (dist/drizzle for the migrations, dist/src/sandbox/page for the sandbox page). Every path the
 * code resolves from `import.meta.url` therefore holds from src/ (tsx: tests, `npm run dev`) and
 * from dist/ (`npm start`, the `access-bot` command).
 *
 * esbuild only strips the types, file by file (tsconfig has isolatedModules, so that is exact);
 * `npm run typecheck` checks them. It takes well under a second, where `tsc` takes 15 s of CPU on
 * every install for a check CI already runs.
 */
import { cpSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const out = join(root, 'dist');
const SOURCES = ['src', 'blocks'];
const ASSETS = ['drizzle', 'src/sandbox/page'];

const entryPoints = SOURCES.flatMap((dir) =>
  readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
    .map((file) => join(root, dir, file)),
);

rmSync(out, { recursive: true, force: true });
await build({
  entryPoints,
  outdir: out,
  outbase: root,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: 'linked',
  logLevel: 'warning',
});
for (const asset of ASSETS) cpSync(join(root, asset), join(out, asset), { recursive: true });
