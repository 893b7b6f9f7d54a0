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
import type { Logger } from '../../src/operations/ports.js';

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
    // The writer's own checkpoint, the bound: with no thread to do it earlier.
    const store = SqliteStore.open(path, { checkpoints: { startAfterCommits: Infinity } });
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

  it('is copied into the database file by the checkpoint thread, well before the writer would checkpoint', async () => {
    const path = join(dir, 'access.db');
    const events = new EventEmitter();
    const store = SqliteStore.open(path, {
      checkpoints: {
        startAfterCommits: 8,
        gatherMs: 0,
        onPass: () => events.emit('pass'),
        // Rejects the test's wait for a pass.
        onError: (error) => events.emit('error', error),
      },
    });
    const before = statSync(path).size;
    // 100 commits of a fresh four-page value each: about 500 frames, a twentieth of the writer's bound.
    const commits = 100;
    for (let i = 0; i < commits; i++) {
      await store.transaction((tx) =>
        tx.setMeta(`probe-${i}`, String(i % 10).repeat(4 * PAGE - 200), '2026-03-02T09:00:00.000Z'),
      );
    }
    expect(commits * 5).toBeLessThan(WAL_CHECKPOINT_PAGES / 10);
    // The database file grows only when a checkpoint copies pages into it; wait for the thread's
    // passes until it holds every value (each pass copies what was committed when it began).
    while (statSync(path).size < before + commits * 4 * PAGE) await once(events, 'pass');
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    const db = new Database(path, { readonly: true });
    expect(db.prepare("select count(*) from meta where key like 'probe-%'").pluck().get()).toBe(commits);
    db.close();
  });

  it('has no checkpoint thread while commits are few, and stops it when they stop', async () => {
    const path = join(dir, 'access.db');
    const events = new EventEmitter();
    const store = SqliteStore.open(path, {
      checkpoints: {
        startAfterCommits: 20,
        idleMs: 200,
        gatherMs: 0,
        onStart: () => events.emit('start'),
        onPass: () => events.emit('pass'),
        onStop: () => events.emit('stop'),
        onError: (error) => events.emit('error', error),
      },
    });
    let starts = 0;
    events.on('start', () => starts++);
    const commit = (i: number) =>
      store.transaction((tx) => tx.setMeta('probe', `value ${i}`, '2026-03-02T09:00:00.000Z'));
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
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    const db = new Database(path, { readonly: true });
    expect(db.prepare("select value from meta where key = 'probe'").pluck().get()).toBe('value 39');
    db.close();
  });

  it('is left to the writer when the checkpoint thread fails, which is not started again', async () => {
    const before = join(dir, 'before');
    const path = join(before, 'access.db');
    const events = new EventEmitter();
    const store = SqliteStore.open(path, {
      checkpoints: {
        startAfterCommits: 8,
        gatherMs: 0,
        onStart: () => events.emit('start'),
        onStop: () => events.emit('stop'),
        onError: (error) => events.emit('failed', error),
      },
    });
    let starts = 0;
    events.on('start', () => starts++);
    // The open connections keep working on their files; a new one (the thread's) finds no file.
    const moved = join(dir, 'moved');
    renameSync(before, moved);
    const commit = (i: number) =>
      store.transaction((tx) => tx.setMeta('probe', `value ${i}`, '2026-03-02T09:00:00.000Z'));
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
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
    const db = new Database(path, { readonly: true });
    expect(db.prepare("select value from meta where key = 'probe'").pluck().get()).toBe('value 39');
    db.close();
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
    for (let i = 0; i < 64; i++)
      await store.transaction((tx) => tx.setMeta('probe', `value ${i}`, '2026-03-02T09:00:00.000Z'));
    const [msg, fields] = (await warned) as [string, { error: string }];
    expect(msg).toBe('the WAL checkpoint thread failed; the writing connection checkpoints alone from now on');
    expect(fields.error).toMatch(/does not exist/);
    renameSync(moved, before);
    await store.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
  });
});
