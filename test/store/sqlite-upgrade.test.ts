/**
 * A SQLite file written before the storage-layout migrations (0010: jobs, decisions and audit
 * events keyed by plain rowids, 0011: jobs_key ordered by key_order, 0012: requests_requester)
 * opens on the current code with nothing lost: the same ids, the same audit chain, every job key
 * still unique.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import { GENESIS_HASH, hashEvent, systemActor, verifyChain, type AuditEvent } from '../../src/domain/audit.js';

const MIGRATIONS = join(import.meta.dirname, '../../drizzle/sqlite');
const BEFORE = 10; // migrations 0000..0009: the layout before

/** A copy of the first `count` migrations, for a file as an older release left it. */
function olderMigrations(dir: string, count: number): string {
  const folder = join(dir, 'migrations');
  mkdirSync(join(folder, 'meta'), { recursive: true });
  const journal = JSON.parse(readFileSync(join(MIGRATIONS, 'meta/_journal.json'), 'utf8')) as {
    entries: { idx: number; tag: string }[];
  };
  journal.entries = journal.entries.filter((e) => e.idx < count);
  writeFileSync(join(folder, 'meta/_journal.json'), JSON.stringify(journal));
  for (const entry of journal.entries)
    copyFileSync(join(MIGRATIONS, `${entry.tag}.sql`), join(folder, `${entry.tag}.sql`));
  return folder;
}

describe('SQLite upgrade to the rowid-keyed, time-ordered layout', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sqlite-upgrade-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps ids, the audit chain and job keys, and numbers new rows after the old ones', async () => {
    const path = join(dir, 'access.db');
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    migrate(drizzle(old), { migrationsFolder: olderMigrations(dir, BEFORE) });
    expect(readdirSync(join(dir, 'migrations')).filter((f) => f.endsWith('.sql'))).toHaveLength(BEFORE);

    // Three events, as the old code chained them, with rowids apart from their seqs.
    let prev = GENESIS_HASH;
    const events: AuditEvent[] = [];
    for (const [id, seq] of [
      [11, 1],
      [12, 2],
      [15, 3],
    ] as const) {
      const body = {
        seq,
        at: `2026-03-02T09:00:0${seq}.000Z`,
        actor: systemActor('sweep'),
        action: 'request.submitted' as const,
        requestId: `req_0mxbbr6g${seq}0000000000000`,
        grantId: null,
        details: { n: seq },
      };
      const hash = hashEvent(prev, body);
      events.push({ ...body, prevHash: prev, hash });
      old
        .prepare(
          `insert into audit_events (id, seq, at, actor, actor_label, action, request_id, grant_id, details, prev_hash, hash)
           values (?, ?, ?, ?, 'system:sweep', ?, ?, null, ?, ?, ?)`,
        )
        .run(
          id,
          seq,
          body.at,
          JSON.stringify(body.actor),
          body.action,
          body.requestId,
          JSON.stringify(body.details),
          prev,
          hash,
        );
      prev = hash;
    }
    const job = old.prepare(
      `insert into jobs (id, key, kind, payload, status, attempts, run_at, created_at, updated_at, subject)
       values (?, ?, ?, ?, ?, 0, '2026-03-02T09:00:00.000Z', '2026-03-02T09:00:00.000Z', '2026-03-02T09:00:00.000Z', ?)`,
    );
    job.run(
      7,
      'provision:grt_0mxbbr6gm0000000000000',
      'provision',
      '{"kind":"provision","grantId":"grt_1"}',
      'done',
      'g',
    );
    job.run(9, 'notify:digest', 'notify', '{"kind":"provision","grantId":"grt_2"}', 'pending', null);
    old.close();

    const store = SqliteStore.open(path);
    try {
      const stored = await store.auditEvents();
      expect(stored.map((e) => e.id)).toEqual([11, 12, 15]);
      expect(stored.map(({ id: _id, ...e }) => e)).toEqual(events);
      expect(verifyChain(stored).ok).toBe(true);

      expect((await store.getJobByKey('provision:grt_0mxbbr6gm0000000000000'))?.id).toBe(7);
      expect((await store.getJobByKey('notify:digest'))?.id).toBe(9);
      await store.transaction(async (tx) => {
        // Both keys were enqueued before the upgrade: ignored, finished or not.
        await tx.enqueueJob(
          'provision:grt_0mxbbr6gm0000000000000',
          { kind: 'provision', grantId: 'x' },
          '2026-03-03T00:00:00.000Z',
        );
        await tx.enqueueJob('notify:digest', { kind: 'provision', grantId: 'x' }, '2026-03-03T00:00:00.000Z');
        await tx.enqueueJob(
          'revoke:grt_0mxbbr6gm0000000000000',
          { kind: 'revoke', grantId: 'grt_1' },
          '2026-03-03T00:00:00.000Z',
        );
        await tx.appendAudit({ at: '2026-03-03T00:00:00.000Z', actor: systemActor('sweep'), action: 'grant.revoked' });
      });
      expect((await store.listJobs({})).map((j) => [j.id, j.key])).toEqual([
        [7, 'provision:grt_0mxbbr6gm0000000000000'],
        [9, 'notify:digest'],
        [10, 'revoke:grt_0mxbbr6gm0000000000000'],
      ]);
      const after = await store.auditEvents();
      expect(after.map((e) => [e.id, e.seq])).toEqual([
        [11, 1],
        [12, 2],
        [15, 3],
        [16, 4],
      ]);
      expect(verifyChain(after).ok).toBe(true);
    } finally {
      await store.close();
    }
  });
});
