/**
 * Files that hold the audit log, justifications and emails are readable by the bot's own user only
 * (security review L10), whatever the umask: the database with its WAL files, its folder, and
 * CSV exports written from the command line.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import { cli, EXAMPLE_ENV } from '../cli/helpers.js';

const mode = (path: string) => statSync(path).mode & 0o777;

let dir: string;
let umask: number;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'access-bot-modes-'));
  umask = process.umask(0o022); // the usual default: files 0644, folders 0755
});
afterEach(() => {
  process.umask(umask);
  rmSync(dir, { recursive: true, force: true });
});

describe('file modes', () => {
  it('creates the database folder 0700 and the database and its WAL files 0600', async () => {
    const path = join(dir, 'data', 'access.db');
    const store = SqliteStore.open(path);
    await store.transaction((tx) => tx.setMeta('probe', 'x', '2026-03-02T09:00:00.000Z'));
    expect(mode(join(dir, 'data'))).toBe(0o700);
    for (const file of [path, `${path}-wal`, `${path}-shm`]) expect(mode(file), file).toBe(0o600);
    await store.close();
  });

  it('tightens a database an earlier version created world-readable', async () => {
    const path = join(dir, 'access.db');
    await SqliteStore.open(path).close();
    (await import('node:fs')).chmodSync(path, 0o644);
    await SqliteStore.open(path).close();
    expect(mode(path)).toBe(0o600);
  });

  it('writes a CLI export file 0600', async () => {
    const out = join(dir, 'events.csv');
    const result = await cli(['export', 'events', '--out', out], {
      ...EXAMPLE_ENV,
      DATABASE_PATH: join(dir, 'access.db'),
    });
    expect(result.code, result.stderr).toBe(0);
    expect(mode(out)).toBe(0o600);
  });
});
