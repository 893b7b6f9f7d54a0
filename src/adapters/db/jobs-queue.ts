/** The job outbox: effects recorded in the transaction that causes them, claimed and run after commit. */
import { and, asc, count, eq, inArray, lt, lte, or, sql } from 'drizzle-orm';
import type { JobPayload, JobRecord, JobStatus } from '../../domain/records.js';
import type { Connection } from './open-database.js';
import { toJob } from './row-mappers.js';
import { inJsonList, limitInText } from './prepared-query.js';
import * as t from './schema.js';
import type { SyncPort } from './sync-port.js';

type Methods =
  | 'getJob'
  | 'getJobByKey'
  | 'listJobs'
  | 'countJobs'
  | 'dueJobs'
  | 'enqueueJob'
  | 'claimJob'
  | 'claimJobs'
  | 'renewJob'
  | 'finishJob'
  | 'finishJobs'
  | 'releaseJob'
  | 'failJob'
  | 'pruneJobs';

export class JobsQueue implements SyncPort<Methods> {
  constructor(private readonly c: Connection) {}

  getJob(id: number): JobRecord | undefined {
    const row = this.c
      .prepared('getJob', (db) =>
        db
          .select()
          .from(t.jobs)
          .where(eq(t.jobs.id, sql.placeholder('id'))),
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
          .where(eq(t.jobs.key, sql.placeholder('key'))),
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

  countJobs(status: JobStatus[], kinds?: JobPayload['kind'][]): number {
    if (status.length === 0) return 0;
    // Through the jobs_due index (status first): no row is loaded unless kinds are asked for.
    return (
      this.c.db
        .select({ n: count() })
        .from(t.jobs)
        .where(and(inArray(t.jobs.status, status), kinds?.length ? inArray(t.jobs.kind, kinds) : undefined))
        .get()?.n ?? 0
    );
  }

  enqueueJob(key: string, payload: JobPayload, runAt: string, subject: string | null = null): void {
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
            subject: sql.placeholder('subject'),
          })
          .onConflictDoNothing({ target: t.jobs.key }),
      )
      .run({ key, kind: payload.kind, payload, runAt, subject });
  }

  dueJobs(now: string, limit: number, kinds?: JobPayload['kind'][], subjects?: readonly string[]): JobRecord[] {
    if (subjects?.length === 0) return [];
    // One prepared statement per shape: the kinds (few, baked in), whether subjects are given, the
    // limit. The subjects are one parameter (a JSON array), so any number of them is one statement.
    const kindList = kinds?.length ? [...kinds].sort() : undefined;
    const key = `dueJobs:${kindList?.join(',') ?? '*'}:${limit}`;
    if (subjects !== undefined) return this.dueJobsOf(`${key}:subjects`, now, limit, kindList, subjects);
    // The jobs waiting their turn and those whose worker's lock expired, each read in its index's
    // order (jobs_due: status, run_at, then the rowid, which is id) and merged here: one statement
    // with both (an OR) sorted every due job in a temporary b-tree to return the first `limit`,
    // which with thousands of jobs due (a sweep after downtime) cost about a millisecond per batch.
    const due = (status: 'pending' | 'running') =>
      this.c
        .prepared(`${key}:${status}`, (db) =>
          db
            .select()
            .from(t.jobs)
            .where(
              and(
                eq(t.jobs.status, status),
                lte(status === 'pending' ? t.jobs.runAt : t.jobs.lockedUntil, sql.placeholder('now')),
                kindList ? inArray(t.jobs.kind, kindList) : undefined,
              ),
            )
            .orderBy(asc(t.jobs.runAt), asc(t.jobs.id))
            .limit(limitInText(limit)),
        )
        .all({ now });
    const expired = due('running');
    const rows = expired.length === 0 ? due('pending') : [...due('pending'), ...expired].sort(byRunAtThenId);
    return rows.slice(0, limit).map(toJob);
  }

  /** The due jobs of some subjects: their few jobs through jobs_subject. */
  private dueJobsOf(
    key: string,
    now: string,
    limit: number,
    kindList: string[] | undefined,
    subjects: readonly string[],
  ): JobRecord[] {
    const statement = this.c.prepared(
      key,
      (db) => {
        const now_ = sql.placeholder('now');
        return db
          .select()
          .from(t.jobs)
          .where(
            and(
              or(
                and(eq(t.jobs.status, 'pending'), lte(t.jobs.runAt, now_)),
                and(eq(t.jobs.status, 'running'), lte(t.jobs.lockedUntil, now_)),
              ),
              kindList ? inArray(t.jobs.kind, kindList) : undefined,
              inJsonList(t.jobs.subject, 'subjects'),
            ),
          )
          .orderBy(asc(t.jobs.runAt), asc(t.jobs.id))
          .limit(limitInText(limit));
      },
      // Named because SQLite's statistics (ANALYZE) count the jobs without a subject (messages) as
      // one subject's: with many of them it would read every job instead of each subject's few.
      { indexedBy: 'jobs_subject' },
    );
    return statement.all({ now, subjects: JSON.stringify(subjects) }).map(toJob);
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
                // Effects on one subject run one at a time: not while another job of the subject
                // holds a live lock. Atomic with the claim: this runs under BEGIN IMMEDIATE.
                sql`(jobs.subject is null or not exists (select 1 from jobs other where other.subject = jobs.subject
                  and other.id <> jobs.id and other.status = 'running' and other.locked_until > ${now_}))`,
              ),
            ),
        )
        .run({ id, worker, now, lockedUntil }).changes === 1
    );
  }

  claimJobs(ids: number[], worker: string, now: string, lockedUntil: string): number[] {
    if (ids.length === 0) return [];
    // One statement for the batch, the ids as a JSON array, each found by its id (the unary plus keeps
    // SQLite from scanning jobs_due for every due job instead). Its WHERE sees the table as before
    // the statement: of two jobs of one subject in the list, the older is claimed (if due), never both.
    const statement = this.c.cached('claimJobs', () =>
      this.c.sqlite
        .prepare<{ ids: string; worker: string; now: string; lockedUntil: string }, number>(
          `update jobs set status = 'running', locked_by = :worker, locked_until = :lockedUntil,
          updated_at = :now, attempts = attempts + 1
        where id in (select value from json_each(:ids))
          and ((+status = 'pending' and run_at <= :now) or (+status = 'running' and locked_until <= :now))
          and (subject is null or not exists (select 1 from jobs other where other.subject = jobs.subject
            and other.id <> jobs.id and ((other.status = 'running' and other.locked_until > :now)
              or (other.id < jobs.id and other.id in (select value from json_each(:ids))))))
        returning id`,
        )
        .pluck(),
    );
    return statement.all({ ids: JSON.stringify(ids), worker, now, lockedUntil });
  }

  renewJob(id: number, worker: string, now: string, lockedUntil: string): boolean {
    return (
      this.c.db
        .update(t.jobs)
        .set({ lockedUntil, updatedAt: now })
        .where(and(eq(t.jobs.id, id), eq(t.jobs.status, 'running'), eq(t.jobs.lockedBy, worker)))
        .run().changes === 1
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
            ),
        )
        .run({ id, worker, now }).changes === 1
    );
  }

  finishJobs(ids: number[], worker: string, now: string): number[] {
    if (ids.length === 0) return [];
    const statement = this.c.cached('finishJobs', () =>
      this.c.sqlite
        .prepare<{ ids: string; worker: string; now: string }, number>(
          `update jobs set status = 'done', locked_by = null, locked_until = null, updated_at = :now, last_error = null
        where id in (select value from json_each(:ids)) and +status = 'running' and locked_by = :worker
        returning id`,
        )
        .pluck(),
    );
    return statement.all({ ids: JSON.stringify(ids), worker, now });
  }

  releaseJob(id: number, worker: string, now: string): boolean {
    return (
      this.c.db
        .update(t.jobs)
        .set({
          status: 'pending',
          lockedBy: null,
          lockedUntil: null,
          updatedAt: now,
          attempts: sql`max(0, ${t.jobs.attempts} - 1)`,
        })
        .where(and(eq(t.jobs.id, id), eq(t.jobs.status, 'running'), eq(t.jobs.lockedBy, worker)))
        .run().changes === 1
    );
  }

  failJob(
    id: number,
    worker: string,
    now: string,
    error: string,
    retryAt: string | null,
    options: { refundAttempt?: boolean } = {},
  ): boolean {
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
          ...(options.refundAttempt ? { attempts: sql`max(0, ${t.jobs.attempts} - 1)` } : {}),
        })
        .where(and(eq(t.jobs.id, id), eq(t.jobs.status, 'running'), eq(t.jobs.lockedBy, worker)))
        .run().changes === 1
    );
  }

  pruneJobs(before: string, limit: number): number {
    if (limit <= 0) return 0;
    // A finished job ran when it was due, so `run_at <= updated_at`: the range on jobs_due
    // (status, run_at) finds the candidates without reading the jobs still to run.
    return this.c
      .prepared('pruneJobs', (db) => {
        const old = db
          .select({ id: t.jobs.id })
          .from(t.jobs)
          .where(
            and(
              inArray(t.jobs.status, ['done', 'dead']),
              lt(t.jobs.runAt, sql.placeholder('before')),
              lt(t.jobs.updatedAt, sql.placeholder('before')),
            ),
          )
          .orderBy(asc(t.jobs.runAt))
          .limit(sql.placeholder('limit'));
        return db.delete(t.jobs).where(inArray(t.jobs.id, old));
      })
      .run({ before, limit }).changes;
  }
}

function byRunAtThenId(a: { runAt: string; id: number }, b: { runAt: string; id: number }): number {
  return a.runAt < b.runAt ? -1 : a.runAt > b.runAt ? 1 : a.id - b.id;
}
