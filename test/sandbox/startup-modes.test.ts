/** `npm start`'s choice of mode, as a real child process. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'access-bot-start-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src', 'main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', DATABASE_PATH: join(dir, 'access.db'), ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return { child, output: () => ({ stdout, stderr }), exited: once(child, 'exit').then(([code]) => code as number) };
}

describe('npm start', () => {
  it.each([
    [{ OKTA_ORG_URL: 'https://example.okta.com', OKTA_API_TOKEN: 'token' }, 'OKTA_API_TOKEN, OKTA_ORG_URL'],
    [{ SLACK_SIGNING_SECRET: 'leftover' }, 'SLACK_SIGNING_SECRET'],
    [{ SLACK_API_URL: 'http://127.0.0.1:9/api/' }, 'SLACK_API_URL'],
    [{ DATABASE_URL: 'postgres://bot@db.internal:5432/access' }, 'DATABASE_URL'],
  ])('makes any SLACK_*, OKTA_* or DATABASE_URL a production start, which refuses to run without SLACK_BOT_TOKEN (M2): %j', async (env, named) => {
    const run = start({ ...env, PORT: '0' });
    expect(await run.exited).toBe(2);
    expect(run.output().stderr).toContain(`Refusing to start: ${named}`);
    expect(run.output().stderr).toContain('SLACK_BOT_TOKEN is not set');
    expect(run.output().stdout).not.toContain('Sandbox');
  });

  it('runs the sandbox on 127.0.0.1 with neither Slack nor Okta, and stops cleanly on SIGTERM', async () => {
    const run = start({ PORT: '0' });
    const url = await new Promise<string>((resolve, reject) => {
      run.child.stdout.on('data', () => {
        const match = /Sandbox: open (http:\/\/127\.0\.0\.1:\d+)/.exec(run.output().stdout);
        if (match) resolve(match[1]!);
      });
      void run.exited.then((code) => reject(new Error(`exited ${code}: ${run.output().stderr}`)));
    });
    const workspace = (await (await fetch(`${url}/api/workspace`)).json()) as { people: { email: string; title: string }[] };
    expect(workspace.people.map((p) => p.email)).toContain('ada@example.com');
    expect((await fetch(`${url}/api/workspace`, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    // The bot's /healthz on the page's port, as a production bot serves it on PORT: with the rows per table.
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { database: { auditEvents: number }; tables: Record<string, number> };
    expect(body).toMatchObject({ status: 'ok', slack: { mode: 'sandbox' }, tables: { jobs: 0, requests: 0 } });
    expect(body.tables.audit_events).toBe(body.database.auditEvents);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });
});
