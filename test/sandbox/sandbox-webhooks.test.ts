/**
 * In the sandbox nothing leaves the machine (security review M2): a webhook role calls an embedded
 * receiver whose calls the page shows, never the URL in the policy, even with the policy's real
 * secret in the environment.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BLOCK, ACTION } from '../../blocks/ids.js';
import { ROOT, startBotProcess, type BotProcess } from './bot-process.js';

let dir: string;
let endpoint: Server;
let connections = 0;
let bot: BotProcess | undefined;

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'access-bot-sandbox-hooks-'));
  connections = 0;
  // The "real" application: anything that reaches it has left the sandbox.
  endpoint = createServer((socket) => {
    connections++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
  const port = (endpoint.address() as { port: number }).port;
  cpSync(join(ROOT, 'policies'), join(dir, 'policies'), { recursive: true });
  const billing = join(dir, 'policies', 'billing.yml');
  writeFileSync(
    billing,
    readFileSync(billing, 'utf8')
      .replace(
        '    approval:\n      - manager\n    extension: { max_total: 30d, approval: same }',
        '    approval: auto\n    extension: { max_total: 30d, approval: same }',
      )
      .replaceAll(
        'https://billing.internal.example.com/access-hooks',
        `https://127.0.0.1:${port}/access-hooks?api_key=QUERYTOKEN123`,
      ),
  );
});
afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  await new Promise<void>((resolve) => endpoint.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Checks `probe` now and after every change the page's event stream announces, until it answers. */
async function until<T>(url: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    const stream = await fetch(`${url}/api/events`, { signal: controller.signal });
    const reader = stream.body!.getReader();
    for (;;) {
      const found = await probe();
      if (found !== undefined) return found;
      const { done } = await reader.read(); // the next change (or keep-alive)
      if (done) throw new Error('the event stream ended');
    }
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

describe('webhooks in the sandbox', () => {
  it('go to the embedded receiver, which the page shows; the policy URL is never called', async () => {
    bot = await startBotProcess({
      env: { POLICIES_DIR: join(dir, 'policies'), BILLING_HOOK_SECRET: 'the-real-production-key' },
    });
    expect(bot.output().stdout).toContain('nothing leaves it');
    const api = async (path: string, body?: Json): Promise<Json> => {
      const response = await fetch(
        `${bot!.url}${path}`,
        body === undefined
          ? {}
          : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) },
      );
      expect(response.status, path).toBe(200);
      return (await response.json()) as Json;
    };
    const ada = ((await api('/api/workspace')).people as Json[]).find((p) => p.email === 'ada@example.com')!
      .slackId as string;
    const dm = ((await api(`/api/state?user=${ada}`)).conversations as Json[])[0]!.id as string;
    await api('/api/command', { user: ada, channel: dm, text: '/access request billing viewer' });
    const modal = await until(bot.url, async () => {
      const top = ((await api(`/api/state?user=${ada}`)).modals as Json[])[0];
      return top && JSON.stringify(top.blocks).includes(BLOCK.justification) ? top : undefined;
    });
    await api('/api/view/submit', {
      user: ada,
      viewId: modal.id,
      form: { [BLOCK.justification]: { [ACTION.justification]: { value: 'month-end close' } } },
    });

    const calls = await until(bot.url, async () => {
      const list = (await api('/api/webhooks')).calls as Json[];
      return list.length > 0 ? list : undefined;
    });
    expect(calls[0]).toMatchObject({
      action: 'grant',
      app: 'billing',
      role: 'viewer',
      email: 'ada@example.com',
      status: 200,
      signatureValid: true,
    });
    expect(calls[0]!.policyUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/access-hooks\?\(redacted\)$/);
    expect(JSON.stringify(calls)).not.toContain('QUERYTOKEN123');
    expect(connections).toBe(0);
  });
});
