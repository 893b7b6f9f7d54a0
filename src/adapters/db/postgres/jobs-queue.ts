/**
 * The job outbox on PostgreSQL: effects recorded in the transaction that causes them, claimed and
 * run after commit by any replica.
 *
 * A claim takes the job's row with `FOR UPDATE SKIP LOCKED`: of two replicas claiming the same job
 * at once, the second skips it at once instead of waiting for the first to commit. A job with a
 * subject (a person's membership of one Okta group, one grant's webhook) is claimed under the
 * subject's advisory lock, taken before the check for another running job of the subject: the
 * check then runs on a fresh READ COMMITTED snapshot, after any claim of the subject that got the
 * lock first has committed, so two jobs of one subject never both pass it.
 */
import { and, asc, count, eq, inArray, lt, lte, or, sql } from 'drizzle-orm';
import type { JobPayload, JobRecord, JobStatus } from '../../../domain/records.js';
import type { StoreTx } from '../../../operations/ports.js';
import { toJob } from '../row-mappers.js';
import { LOCKS } from './connection.js';
import * as t from './schema.js';
import { textArray, type PgSession } from './session.js';

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

export class PgJobsQueue implements Pick<StoreTx, Methods> {
  constructor(private readonly s: PgSession) {}

  async getJob(id: number): Promise<JobRecord | undefined> {
    const [row] = await this.s.db.select().from(t.jobs).where(eq(t.jobs.id, id));
    return row && toJob(row);
  }

  async getJobByKey(key: string): Promise<JobRecord | undefined> {
    const [row] = await this.s.db.select().from(t.jobs).where(eq(t.jobs.key, key));
    return row && toJob(row);
  }

  async listJobs(filter: { status?: JobStatus[]; limit?: number }): Promise<JobRecord[]> {
    const rows = await this.s.db
      .select()
      .from(t.jobs)
      .where(filter.status?.length ? inArray(t.jobs.status, filter.status) : undefined)
      .orderBy(asc(t.jobs.id))
      .limit(filter.limit ?? 1000);
    return rows.map(toJob);
  }

  async countJobs(status: JobStatus[], kinds?: JobPayload['kind'][]): Promise<number> {
    if (status.length === 0) return 0;
    const [row] = await this.s.db
      .select({ n: count() })
      .from(t.jobs)
      .where(and(inArray(t.jobs.status, status), kinds?.length ? inArray(t.jobs.kind, kinds) : undefined));
    return row?.n ?? 0;
  }

  async enqueueJob(key: string, payload: JobPayload, runAt: string, subject: string | null = null): Promise<void> {
    await this.s.db
      .insert(t.jobs)
      .values({
        key,
        kind: payload.kind,
        payload,
        status: 'pending',
        attempts: 0,
        runAt,
        createdAt: runAt,
        updatedAt: runAt,
        subject,
      })
      .onConflictDoNothing({ target: t.jobs.key });
  }

  async dueJobs(
    now: string,
    limit: number,
    kinds?: JobPayload['kind'][],
    subjects?: readonly string[],
  ): Promise<JobRecord[]> {
    if (subjects?.length === 0) return [];
    const rows = await this.s.db
      .select()
      .from(t.jobs)
      .where(
        and(
          due(now),
          kinds?.length ? inArray(t.jobs.kind, kinds) : undefined,
          subjects !== undefined ? sql`${t.jobs.subject} = any(${textArray(subjects)})` : undefined,
        ),
      )
      .orderBy(asc(t.jobs.runAt), asc(t.jobs.id))
      .limit(limit);
    return rows.map(toJob);
  }

  async claimJob(id: number, worker: string, now: string, lockedUntil: string): Promise<boolean> {
    const claim = {
      status: 'running' as const,
      lockedBy: worker,
      lockedUntil,
      updatedAt: now,
      attempts: sql`${t.jobs.attempts} + 1`,
    };
    // Messages (no subject), the common case: one statement.
    const plain = await this.s.db
      .update(t.jobs)
      .set(claim)
      .where(
        and(
          eq(
            t.jobs.id,
            sql`(select id from jobs where id = ${id} and subject is null and ${due(now)} for update skip locked)`,
          ),
        ),
      );
    if (plain.rowCount === 1) return true;
    // A job with a subject: the row first (skipped when another replica is claiming it now), then
    // the subject's lock, then the check against the other jobs of the subject, on a fresh snapshot.
    const [row] = await this.s.db
      .select({ subject: t.jobs.subject })
      .from(t.jobs)
      .where(and(eq(t.jobs.id, id), sql`${t.jobs.subject} is not null`, due(now)))
      .for('update', { skipLocked: true });
    if (!row?.subject) return false;
    await this.s.db.execute(sql`select pg_advisory_xact_lock(${LOCKS.jobSubject}, hashtext(${row.subject}))`);
    const result = await this.s.db
      .update(t.jobs)
      .set(claim)
      .where(
        and(
          eq(t.jobs.id, id),
          due(now),
          sql`not exists (select 1 from jobs other where other.subject = ${row.subject}
            and other.id <> ${id} and other.status = 'running' and other.locked_until > ${now})`,
        ),
      );
    return result.rowCount === 1;
  }

  async claimJobs(ids: number[], worker: string, now: string, lockedUntil: string): Promise<number[]> {
    // One job at a time, in the order given: each takes its subject's lock as `claimJob` does.
    const claimed: number[] = [];
    for (const id of ids) if (await this.claimJob(id, worker, now, lockedUntil)) claimed.push(id);
    return claimed;
  }

  async renewJob(id: number, worker: string, now: string, lockedUntil: string): Promise<boolean> {
    const result = await this.s.db
      .update(t.jobs)
      .set({ lockedUntil, updatedAt: now })
      .where(and(eq(t.jobs.id, id), eq(t.jobs.status, 'running'), eq(t.jobs.lockedBy, worker)));
    return result.rowCount === 1;
  }

  async finishJob(id: number, worker: string, now: string): Promise<boolean> {
    const result = await this.s.db
      .update(t.jobs)
      .set({ status: 'done', lockedBy: null, lockedUntil: null, updatedAt: now, lastError: null })
      .where(and(eq(t.jobs.id, id), eq(t.jobs.status, 'running'), eq(t.jobs.lockedBy, worker)));
    return result.rowCount === 1;
  }

  async finishJobs(ids: number[], worker: string, now: string): Promise<number[]> {
    if (ids.length === 0) return [];
    const rows = await this.s.db
      .update(t.jobs)
      .set({ status: 'done', lockedBy: null, lockedUntil: null, updatedAt: now, lastError: null })
      .where(and(inArray(t.jobs.id, ids), eq(t.jobs.status, 'running'), eq(t.jobs.lockedBy, worker)))
      .returning({ id: t.jobs.id });
    return rows.map((r) => r.id);
  }

  async releaseJob(id: number, worker: string, now: string): Promise<boolean> {
    const result = await this.s.db
      .update(t.jobs)
      .set({
        status: 'pending',
        lockedBy: null,
        lockedUntil: null,
        updatedAt: now,
        attempts: sql`greatest(0, ${t.jobs.attempts} - 1)`,
      })
      .where(and(eq(t.jobs.id, id), eq(t.jobs.status, 'running'), eq(t.jobs.lockedBy, worker)));
    return result.rowCount === 1;
  }

  async failJob(
    id: number,
    worker: string,
    now: string,
    error: string,
    retryAt: string | null,
    options: { refundAttempt?: boolean } = {},
  ): Promise<boolean> {
    const result = await this.s.db
      .update(t.jobs)
      .set({
        status: retryAt ? 'pending' : 'dead',
        runAt: retryAt ?? now,
        lockedBy: null,
        lockedUntil: null,
        updatedAt: now,
        lastError: error.slice(0, 2000),
        ...(options.refundAttempt ? { attempts: sql`greatest(0, ${t.jobs.attempts} - 1)` } : {}),
      })
      .where(and(eq(t.jobs.id, id), eq(t.jobs.status, 'running'), eq(t.jobs.lockedBy, worker)));
    return result.rowCount === 1;
  }

  async pruneJobs(before: string, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    // Through jobs_due (status, run_at): a finished job ran when it was due, so run_at <= updated_at.
    const old = this.s.db
      .select({ id: t.jobs.id })
      .from(t.jobs)
      .where(and(inArray(t.jobs.status, ['done', 'dead']), lt(t.jobs.runAt, before), lt(t.jobs.updatedAt, before)))
      .orderBy(asc(t.jobs.runAt))
      .limit(limit)
      .for('update', { skipLocked: true });
    const result = await this.s.db.delete(t.jobs).where(inArray(t.jobs.id, old));
    return result.rowCount ?? 0;
  }
}

/** Pending and due, or running with an expired lock (a dead worker's). */
function due(now: string) {
  return or(
    and(eq(t.jobs.status, 'pending'), lte(t.jobs.runAt, now)),
    and(eq(t.jobs.status, 'running'), lte(t.jobs.lockedUntil, now)),
  )!;
}
