/** The job outbox: effects recorded in the transaction that causes them, claimed and run after commit. */
import { and, asc, count, eq, inArray, lte, or, sql } from 'drizzle-orm';
import type { JobPayload, JobRecord, JobStatus } from '../../domain/records.js';
import type { Connection } from './open-database.js';
import { toJob } from './row-mappers.js';
import * as t from './schema.js';
import type { SyncPort } from './sync-port.js';

type Methods =
  'getJob' | 'getJobByKey' | 'listJobs' | 'countJobs' | 'dueJobs' | 'enqueueJob' | 'claimJob' | 'finishJob' | 'failJob';

export class JobsQueue implements SyncPort<Methods> {
  constructor(private readonly c: Connection) {}

  getJob(id: number): JobRecord | undefined {
    const row = this.c
      .prepared('getJob', (db) =>
        db
          .select()
          .from(t.jobs)
          .where(eq(t.jobs.id, sql.placeholder('id')))
          .prepare(),
      )
      .get({ id });
    return row && toJob(row);
  }

  getJobByKey(key: string): JobRecord | undefined {
    const row = this.c
      .prepared('getJobByKey', (db) =>
        db
          .select()
          .from(t.jobs)
          .where(eq(t.jobs.key, sql.placeholder('key')))
          .prepare(),
      )
      .get({ key });
    return row && toJob(row);
  }

  listJobs(filter: { status?: JobStatus[]; limit?: number }): JobRecord[] {
    return this.c.db
      .select()
      .from(t.jobs)
      .where(filter.status?.length ? inArray(t.jobs.status, filter.status) : undefined)
      .orderBy(asc(t.jobs.id))
      .limit(filter.limit ?? 1000)
      .all()
      .map(toJob);
  }

  countJobs(status: JobStatus[]): number {
    if (status.length === 0) return 0;
    // Through the jobs_due index (status first): no row is loaded.
    return this.c.db.select({ n: count() }).from(t.jobs).where(inArray(t.jobs.status, status)).get()?.n ?? 0;
  }

  enqueueJob(key: string, payload: JobPayload, runAt: string): void {
    this.c
      .prepared('enqueueJob', (db) =>
        db
          .insert(t.jobs)
          .values({
            key: sql.placeholder('key'),
            kind: sql.placeholder('kind'),
            payload: sql.placeholder('payload'),
            status: 'pending',
            attempts: 0,
            runAt: sql.placeholder('runAt'),
            createdAt: sql.placeholder('runAt'),
            updatedAt: sql.placeholder('runAt'),
          })
          .onConflictDoNothing({ target: t.jobs.key })
          .prepare(),
      )
      .run({ key, kind: payload.kind, payload, runAt });
  }

  dueJobs(now: string, limit: number, kinds?: JobPayload['kind'][]): JobRecord[] {
    const due = or(
      and(eq(t.jobs.status, 'pending'), lte(t.jobs.runAt, now)),
      and(eq(t.jobs.status, 'running'), lte(t.jobs.lockedUntil, now)),
    );
    return this.c.db
      .select()
      .from(t.jobs)
      .where(and(due, kinds?.length ? inArray(t.jobs.kind, kinds) : undefined))
      .orderBy(asc(t.jobs.runAt), asc(t.jobs.id))
      .limit(limit)
      .all()
      .map(toJob);
  }

  claimJob(id: number, worker: string, now: string, lockedUntil: string): boolean {
    const now_ = sql`${sql.placeholder('now')}`;
    return (
      this.c
        .prepared('claimJob', (db) =>
          db
            .update(t.jobs)
            .set({
              status: 'running',
              lockedBy: sql`${sql.placeholder('worker')}`,
              lockedUntil: sql`${sql.placeholder('lockedUntil')}`,
              updatedAt: now_,
              attempts: sql`${t.jobs.attempts} + 1`,
            })
            .where(
              and(
                eq(t.jobs.id, sql.placeholder('id')),
                or(
                  and(eq(t.jobs.status, 'pending'), lte(t.jobs.runAt, now_)),
                  and(eq(t.jobs.status, 'running'), lte(t.jobs.lockedUntil, now_)),
                ),
              ),
            )
            .prepare(),
        )
        .run({ id, worker, now, lockedUntil }).changes === 1
    );
  }

  finishJob(id: number, worker: string, now: string): boolean {
    return (
      this.c
        .prepared('finishJob', (db) =>
          db
            .update(t.jobs)
            .set({
              status: 'done',
              lockedBy: null,
              lockedUntil: null,
              updatedAt: sql`${sql.placeholder('now')}`,
              lastError: null,
            })
            .where(
              and(
                eq(t.jobs.id, sql.placeholder('id')),
                eq(t.jobs.status, 'running'),
                eq(t.jobs.lockedBy, sql.placeholder('worker')),
              ),
            )
            .prepare(),
        )
        .run({ id, worker, now }).changes === 1
    );
  }

  failJob(id: number, worker: string, now: string, error: string, retryAt: string | null): boolean {
    return (
      this.c.db
        .update(t.jobs)
        .set({
          status: retryAt ? 'pending' : 'dead',
          runAt: retryAt ?? now,
          lockedBy: null,
          lockedUntil: null,
          updatedAt: now,
          lastError: error.slice(0, 2000),
        })
        .where(and(eq(t.jobs.id, id), eq(t.jobs.status, 'running'), eq(t.jobs.lockedBy, worker)))
        .run().changes === 1
    );
  }
}
