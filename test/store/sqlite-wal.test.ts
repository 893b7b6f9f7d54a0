/**
 * The SQLite file's write-ahead log stays bounded however long the bot writes: the writing
 * connection checkpoints it once it holds WAL_CHECKPOINT_PAGES pages, after which SQLite writes it
 * again from its start, and closing the last connection folds it into the database and removes it.
 */
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WAL_CHECKPOINT_PAGES } from '../../src/adapters/db/open-database.js';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'access-bot-wal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const PAGE = 4096;
/** A WAL frame: its 24-byte header and the page. */
const FRAME = 24 + PAGE;

describe('the SQLite write-ahead log', () => {
  it('stays within the checkpoint threshold through twice as many pages of commits, and is gone after close', async () => {
    const path = join(dir, 'access.db');
    const store = SqliteStore.open(path);
    // Each commit rewrites one meta value of four pages (overflow pages; a fresh value each time).
    const commits = Math.ceil((2 * WAL_CHECKPOINT_PAGES) / 4);
    let largest = 0;
    for (let i = 0; i < commits; i++) {
      const value = String(i % 10).repeat(4 * PAGE - 200);
      await store.transaction((tx) => tx.setMeta('probe', value, '2026-03-02T09:00:00.000Z'));
      if (i % 100 === 0) largest = Math.max(largest, statSync(`${path}-wal`).size);
    }
    largest = Math.max(largest, statSync(`${path}-wal`).size);
    // One commit's frames may land past the threshold before the checkpoint that follows it.
    expect(largest).toBeGreaterThan((WAL_CHECKPOINT_PAGES / 2) * FRAME);
    expect(largest).toBeLessThanOrEqual(32 + (WAL_CHECKPOINT_PAGES + 16) * FRAME);
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    const db = new Database(path, { readonly: true });
    expect(db.prepare("select value from meta where key = 'probe'").pluck().get()).toMatch(/^9+$/);
    db.close();
  });
});
