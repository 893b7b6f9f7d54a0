import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import { cli, EXAMPLE_ENV } from '../cli/helpers.js';
import { person, seedGrants } from './support/seed.js';

let dir: string;
let env: Record<string, string>;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'access-bot-digest-cli-'));
  env = { ...EXAMPLE_ENV, DATABASE_PATH: join(dir, 'access.db') };
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('access-bot digest', () => {
  it('prints the digest with --dry-run, as text, JSON or Block Kit', async () => {
    const store = SqliteStore.open(env.DATABASE_PATH!);
    await seedGrants(store, [
      {
        id: 'grt_cli1',
        holder: person(1),
        activatedAt: '2026-03-08T09:00:00.000Z',
        expiresAt: '2026-03-09T17:00:00.000Z',
      },
    ]);
    const head = (await store.auditHead()).hash;
    await store.close();

    const text = await cli(['digest', '--dry-run', '--at', '2026-03-09T08:00:00.000Z'], env);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toContain('Sensitive access now (1)');
    expect(text.stdout).toContain('Person 1 <p1@example.com>');
    expect(text.stdout).toContain(`Audit log head: ${head}`);

    const json = await cli(['digest', '--dry-run', '--json', '--at', '2026-03-09T08:00:00.000Z'], env);
    expect(JSON.parse(json.stdout)).toMatchObject({
      sensitiveHolders: [{ grantId: 'grt_cli1' }],
      auditHead: { hash: head },
    });

    const blocks = await cli(['digest', '--dry-run', '--blocks', '--at', '2026-03-09T08:00:00.000Z'], env);
    const message = JSON.parse(blocks.stdout) as { text: string; blocks: unknown[] };
    expect(message.blocks.length).toBeLessThanOrEqual(50);
  });

  it('refuses to run without --dry-run: posting is the running bot’s job', async () => {
    const result = await cli(['digest'], env);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--dry-run');
  });
});
