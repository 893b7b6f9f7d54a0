/** `npm start`'s choice of mode, as a real child process. */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
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
  ])(
    'makes any SLACK_*, OKTA_* or DATABASE_URL a production start, which refuses to run without SLACK_BOT_TOKEN (M2): %j',
    async (env, named) => {
      const run = start({ ...env, PORT: '0' });
      expect(await run.exited).toBe(2);
      expect(run.output().stderr).toContain(`Refusing to start: ${named}`);
      expect(run.output().stderr).toContain('SLACK_BOT_TOKEN is not set');
      expect(run.output().stdout).not.toContain('Sandbox');
    },
  );

  it('runs the sandbox on 127.0.0.1 with neither Slack nor Okta, and stops cleanly on SIGTERM', async () => {
    const run = start({ PORT: '0' });
    const url = await new Promise<string>((resolve, reject) => {
      run.child.stdout.on('data', () => {
        const match = /Sandbox: open (http:\/\/127\.0\.0\.1:\d+)/.exec(run.output().stdout);
        if (match) resolve(match[1]!);
      });
      void run.exited.then((code) => reject(new Error(`exited ${code}: ${run.output().stderr}`)));
    });
    const workspace = (await (await fetch(`${url}/api/workspace`)).json()) as {
      people: { email: string; title: string }[];
    };
    expect(workspace.people.map((p) => p.email)).toContain('ada@example.com');
    expect((await fetch(`${url}/api/workspace`, { headers: { origin: 'https://evil.example' } })).status).toBe(403);
    // The bot's /healthz on the page's port, as a production bot serves it on PORT: with the rows per table.
    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { database: { auditEvents: number }; tables: Record<string, number> };
    expect(body).toMatchObject({ status: 'ok', slack: { mode: 'sandbox' }, tables: { requests: 0 } });
    expect(body.tables.audit_events).toBe(body.database.auditEvents);
    // The only job of a fresh start: the message of the first audit checkpoint, if it was signed yet
    // (it is written with its message in one transaction, and the rows are counted in one query).
    expect(body.tables.jobs).toBe(body.tables.audit_checkpoints);
    run.child.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  });

  it("streams the example's audit sink to a file beside the database, and signs checkpoints with a throwaway key it names", async () => {
    const run = start({ PORT: '0' });
    const stream = join(dir, 'audit-stream.jsonl');
    try {
      await waitFor(
        () => existsSync(stream) && readFileSync(stream, 'utf8').includes('"action":"audit.checkpointed"'),
        run,
      );
      const { stdout } = run.output();
      expect(stdout).toContain(`audit stream: local-file (file ${stream}, json)`);
      expect(stdout).toMatch(
        /audit checkpoints: every 1 hour to C0SECURITY, signed with a THROWAWAY sandbox key [0-9a-f]{16} made now in .*sandbox-audit-signing-key\.pem; it proves nothing outside this sandbox: set AUDIT_SIGNING_KEY for a real one/,
      );
      const lines = readFileSync(stream, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { seq: number; action: string });
      expect(lines.map((l) => l.seq)).toEqual(lines.map((_, i) => i + 1));
      expect(lines[0]!.action).toBe('policy.added');
      expect(statSync(join(dir, 'sandbox-audit-signing-key.pem')).mode & 0o777).toBe(0o600);

      // The walkthrough's step: something happens, the page moves the clock an hour, and a new
      // checkpoint is signed at once, streamed to the file and posted in #security.
      const url = /Sandbox: open (http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)![1]!;
      const post = (path: string, body: object) =>
        fetch(`${url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', origin: url },
          body: JSON.stringify(body),
        });
      expect(
        (await post('/api/command', { user: 'U0JORDAN', channel: 'D0JORDAN', text: '/access digest' })).status,
      ).toBe(200);
      await waitFor(() => readFileSync(stream, 'utf8').includes('"action":"digest.posted"'), run);
      expect((await post('/api/clock', { seconds: 3600 })).status).toBe(200);
      const checkpoints = () =>
        readFileSync(stream, 'utf8')
          .trim()
          .split('\n')
          .filter((l) => l.includes('"action":"audit.checkpointed"'));
      await waitFor(() => checkpoints().length === 2, run);
      const state = (await (await fetch(`${url}/api/state?user=U0JORDAN`)).json()) as {
        conversations: { id: string; messages: { text: string }[] }[];
      };
      const security = state.conversations.find((c) => c.id === 'C0SECURITY')!.messages.map((m) => m.text);
      const second = JSON.parse(checkpoints()[1]!) as { details: { seq: number; signature: string } };
      expect(security.filter((t) => t.startsWith('Audit checkpoint:')).at(-1)).toContain(
        `"seq":${second.details.seq},"signature":"${second.details.signature}"`,
      );
    } finally {
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
    }
  });
});

/** Until `check()` holds, looking every 50 ms (the child writes the file); fails if the child exits first. */
async function waitFor(check: () => boolean, run: ReturnType<typeof start>, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (run.child.exitCode !== null) throw new Error(`exited ${run.child.exitCode}: ${run.output().stderr}`);
    if (Date.now() > deadline) throw new Error(`not seen within ${ms} ms: ${run.output().stdout}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
