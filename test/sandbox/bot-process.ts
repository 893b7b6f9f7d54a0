/**
 * The real bot as `npm start` runs it (`node --import tsx src/main.ts`), in a child process with
 * neither Slack nor Okta configured: the sandbox. The caller gets the page's address from the
 * "Sandbox: open http://127.0.0.1:PORT" line and must call stop() (SIGTERM, then SIGKILL).
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface BotProcess {
  url: string;
  child: ChildProcessByStdio<null, Readable, Readable>;
  output(): { stdout: string; stderr: string };
  /** SIGTERM, then SIGKILL after `graceMs`; removes the temporary database. Safe to call twice. */
  stop(graceMs?: number): Promise<void>;
}

/** `databasePath`: start on this file (kept on stop) instead of a new temporary database; `env`: more variables. */
export async function startBotProcess(
  options: { startTimeoutMs?: number; databasePath?: string; env?: Record<string, string> } = {},
): Promise<BotProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'access-bot-lifecycle-'));
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    // No SLACK_* and no OKTA_* variables: the sandbox.
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      DATABASE_PATH: options.databasePath ?? join(dir, 'access.db'),
      POLICIES_DIR: join(ROOT, 'policies'),
      DIRECTORY_FILE: join(ROOT, 'directory.example.yml'),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 5000): Promise<void> =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
        if ((await Promise.race([exited.then(() => 'exited' as const), late])) === 'late') {
          child.kill('SIGKILL');
          await exited;
        }
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    })());

  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(new Error(`the bot did not print its sandbox address within ${options.startTimeoutMs ?? 30_000} ms`)),
        options.startTimeoutMs ?? 30_000,
      );
      const look = () => {
        const match = /Sandbox: open (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout);
        if (match) {
          clearTimeout(timer);
          resolve(match[1]!);
        }
      };
      child.stdout.on('data', look);
      look();
      void exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`the bot exited (${child.exitCode ?? child.signalCode}) before serving the sandbox`));
      });
    });
    return { url, child, output: () => ({ stdout, stderr }), stop };
  } catch (error) {
    await stop();
    if (error instanceof Error) error.message += `\n--- stdout ---\n${stdout}\n--- stderr ---\n${stderr}`;
    throw error;
  }
}
