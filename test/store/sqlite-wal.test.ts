/**
 * The SQLite file's write-ahead log stays bounded however long the bot writes: the writing
 * connection checkpoints it once it holds WAL_CHECKPOINT_PAGES pages, after which SQLite writes it
 * again from its start, and closing the last connection folds it into the database and removes it.
 * Under a steady stream of commits a worker thread checkpoints in between (WalCheckpointer), so
 * the pages reach the database file without the writer copying them.
 */
import { EventEmitter, once } from 'node:events';
import { existsSync, mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WAL_CHECKPOINT_PAGES } from '../../src/adapters/db/open-database.js';
import { openStore } from '../../src/adapters/db/open-store.js';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import { silentLogger } from '../../src/adapters/log/json-logger.js';
import type { CheckpointerOptions } from '../../src/adapters/db/wal-checkpointer.js';
import type { Logger, Store } from '../../src/operations/ports.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'access-bot-wal-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const PAGE = 4096;
/** A WAL frame: its 24-byte header and the page. */
const FRAME = 24 + PAGE;

const AT = '2026-03-02T09:00:00.000Z';

/** A small commit: the meta value `probe` set to `value i`. */
const setProbe = (store: Store, i: number) => store.transaction((tx) => tx.setMeta('probe', `value ${i}`, AT));

/**
 * The checkpoint thread's hooks as events on `events`: start, pass, stop, and its failure as
 * `failure` ('error' by default, which rejects a test's wait for any of the others).
 */
function threadEvents(events: EventEmitter, failure = 'error'): Partial<CheckpointerOptions> {
  return {
    onStart: () => events.emit('start'),
    onPass: () => events.emit('pass'),
    onStop: () => events.emit('stop'),
    onError: (error) => events.emit(failure, error),
  };
}

/** Closes the store, checks that its WAL went with it, and reads `sql` from the database file. */
async function closeAndRead(store: Store, path: string, sql: string): Promise<unknown> {
  await store.close();
  expect(existsSync(`${path}-wal`)).toBe(false);
  const db = new Database(path, { readonly: true });
  try {
    return db.prepare(sql).pluck().get();
  } finally {
    db.close();
  }
}

describe('the SQLite write-ahead log', () => {
  it('stays within the checkpoint threshold through twice as many pages of commits, and is gone after close', async () => {
    const path = join(dir, 'access.db');
    // The writer's own checkpoint, the bound: with no thread to do it earlier.
    const store = SqliteStore.open(path, { checkpoints: { startAfterCommits: Infinity } });
    // Each commit rewrites one meta value of four pages (overflow pages; a fresh value each time).
    const commits = Math.ceil((2 * WAL_CHECKPOINT_PAGES) / 4);
    let largest = 0;
    for (let i = 0; i < commits; i++) {
      const value = String(i % 10).repeat(4 * PAGE - 200);
      await store.transaction((tx) => tx.setMeta('probe', value, AT));
      if (i % 100 === 0) largest = Math.max(largest, statSync(`${path}-wal`).size);
    }
    largest = Math.max(largest, statSync(`${path}-wal`).size);
    // One commit's frames may land past the threshold before the checkpoint that follows it.
    expect(largest).toBeGreaterThan((WAL_CHECKPOINT_PAGES / 2) * FRAME);
    expect(largest).toBeLessThanOrEqual(32 + (WAL_CHECKPOINT_PAGES + 16) * FRAME);
    expect(await closeAndRead(store, path, "select value from meta where key = 'probe'")).toMatch(/^9+$/);
  });

  it('is copied into the database file by the checkpoint thread, well before the writer would checkpoint', async () => {
    const path = join(dir, 'access.db');
    const events = new EventEmitter();
    const store = SqliteStore.open(path, {
      checkpoints: { startAfterCommits: 8, gatherMs: 0, ...threadEvents(events) },
    });
    const before = statSync(path).size;
    // 100 commits of a fresh four-page value each: about 500 frames, a twentieth of the writer's bound.
    const commits = 100;
    for (let i = 0; i < commits; i++) {
      await store.transaction((tx) => tx.setMeta(`probe-${i}`, String(i % 10).repeat(4 * PAGE - 200), AT));
    }
    expect(commits * 5).toBeLessThan(WAL_CHECKPOINT_PAGES / 10);
    // The database file grows only when a checkpoint copies pages into it; wait for the thread's
    // passes until it holds every value (each pass copies what was committed when it began).
    while (statSync(path).size < before + commits * 4 * PAGE) await once(events, 'pass');
    expect(await closeAndRead(store, path, "select count(*) from meta where key like 'probe-%'")).toBe(commits);
  });

  it('has no checkpoint thread while commits are few, and stops it when they stop', async () => {
    const path = join(dir, 'access.db');
    const events = new EventEmitter();
    const store = SqliteStore.open(path, {
      checkpoints: { startAfterCommits: 20, idleMs: 200, gatherMs: 0, ...threadEvents(events) },
    });
    let starts = 0;
    events.on('start', () => starts++);
    const commit = (i: number) => setProbe(store, i);
    for (let i = 0; i < 19; i++) await commit(i);
    expect(starts).toBe(0);
    const passed = once(events, 'pass');
    const stopped = once(events, 'stop');
    await commit(19);
    expect(starts).toBe(1);
    await passed;
    // No commit for idleMs: the thread stops by itself.
    await stopped;
    // Commits come quickly again: a new thread starts and checkpoints.
    const passedAgain = once(events, 'pass');
    for (let i = 20; i < 39; i++) await commit(i);
    expect(starts).toBe(1);
    await commit(39);
    expect(starts).toBe(2);
    await passedAgain;
    expect(await closeAndRead(store, path, "select value from meta where key = 'probe'")).toBe('value 39');
  });

  it('is left to the writer when the checkpoint thread fails, which is not started again', async () => {
    const before = join(dir, 'before');
    const path = join(before, 'access.db');
    const events = new EventEmitter();
    const store = SqliteStore.open(path, {
      // Its failure as 'failed', awaited below: an 'error' would reject the wait for its stop.
      checkpoints: { startAfterCommits: 8, gatherMs: 0, ...threadEvents(events, 'failed') },
    });
    let starts = 0;
    events.on('start', () => starts++);
    // The open connections keep working on their files; a new one (the thread's) finds no file.
    const moved = join(dir, 'moved');
    renameSync(before, moved);
    const commit = (i: number) => setProbe(store, i);
    const failed = once(events, 'failed');
    const stopped = once(events, 'stop');
    for (let i = 0; i < 8; i++) await commit(i);
    expect(starts).toBe(1);
    const [error] = (await failed) as [Error];
    expect(error.message).toMatch(/unable to open database file|does not exist/);
    await stopped;
    for (let i = 8; i < 40; i++) await commit(i);
    expect(starts).toBe(1);
    renameSync(moved, before);
    expect(await closeAndRead(store, path, "select value from meta where key = 'probe'")).toBe('value 39');
  });

  it("logs a failed checkpoint thread to the bot's logger", async () => {
    const before = join(dir, 'before');
    const path = join(before, 'access.db');
    const warnings = new EventEmitter();
    const logger: Logger = {
      ...silentLogger,
      warn: (msg, fields) => warnings.emit('warn', msg, fields),
    };
    const store = await openStore({ databasePath: path, postgres: undefined }, logger);
    const moved = join(dir, 'moved');
    renameSync(before, moved);
    const warned = once(warnings, 'warn');
    // Commits in quick succession, as many as start the thread by default.
    for (let i = 0; i < 64; i++) await setProbe(store, i);
    const [msg, fields] = (await warned) as [string, { error: string }];
    expect(msg).toBe('the WAL checkpoint thread failed; the writing connection checkpoints alone from now on');
    expect(fields.error).toMatch(/does not exist/);
    renameSync(moved, before);
    expect(await closeAndRead(store, path, "select value from meta where key = 'probe'")).toBe('value 63');
  });
});
