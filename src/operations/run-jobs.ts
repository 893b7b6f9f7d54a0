/**
 * The job runner: every external effect (provisioning, revocation, messages) was recorded as a
 * job in the transaction that caused it; this runs the due ones, marks them done, or schedules a
 * retry with exponential backoff and jitter. A job claimed by a process that died is picked up
 * again when its lock expires, so a crash between intent and effect loses nothing.
 *
 * Jobs run in batches, to spend one transaction on many jobs rather than one or two on each (a
 * commit is most of a message job's cost): one transaction claims up to `claimBatch` due jobs, of
 * different subjects; their effects run one after the other; one transaction records the outcomes
 * of those that ran and claims the next batch. Outcomes are recorded after `claimBatch` effects,
 * when no claimed job is left, or at the end of the first effect that ends `recordWithinMs` or more
 * after the first outcome waiting (an effect is never interrupted), and before a message runs about
 * a grant or request whose change of state waits (or a message naming neither, such as the digest):
 * a message reports committed state, while the jobs behind it go ahead.
 * A crash between the effects and that transaction leaves the jobs claimed: they run again once
 * their locks expire, the whole batch (at most `claimBatch` effects) rather than one job. That is
 * safe because every effect is idempotent: an add finds the person in the group, a removal finds
 * them gone, a message is keyed (the notifier updates the message it posted under the job's key
 * instead of posting twice), a provisioning outcome is recorded against the grant as it is then
 * (provision-grant.ts).
 */
import { PermanentError, TransientError } from '../domain/errors.js';
import type { JobRecord } from '../domain/records.js';
import { addSeconds, nowIso, type Deps } from './context.js';
import type { GrantPreparation, ProvisionerContext, StoreTx } from './ports.js';
import {
  executeRevocation,
  prepareProvision,
  provisionGrant,
  recordEffectFailure,
  RevocationReads,
  type EffectRecord,
} from './provision-grant.js';
import { publishDigest } from './publish-digest.js';
import { forOperation, operationStore, withOwnStore } from './operation-scope.js';
import { executeReviewRemoval, recordRemovalFailure } from './reviews/review-remediation.js';
import { publishReviewSummary } from './reviews/publish-review-summary.js';

export interface JobRunnerOptions {
  /** Identifies this process in job locks. */
  worker: string;
  /** How long a claimed job stays locked before another worker may take it over. */
  lockSeconds?: number;
  /** Attempts before a provisioning job or a message is given up (revocations never are). */
  maxAttempts?: number;
  baseDelaySeconds?: number;
  maxDelaySeconds?: number;
  /** How many due jobs are read at once (default: twice `claimBatch`). */
  batch?: number;
  /** How many jobs are claimed together, and their outcomes recorded together (one transaction). */
  claimBatch?: number;
  /** How long a finished effect may wait for its outcome to be recorded with others, in ms. */
  recordWithinMs?: number;
  random?: () => number;
  /** Run only these kinds of job (the CLI leaves messages to the running bot). */
  kinds?: JobRecord['payload']['kind'][];
  /**
   * Stops the run between jobs (a shutdown): the job in flight finishes, the outcomes are
   * recorded, the jobs claimed but not started are given back, the rest wait for the next pass.
   */
  signal?: AbortSignal;
}

export interface JobRunSummary {
  ran: number;
  done: number;
  retried: number;
  dead: number;
  skipped: number;
  /** Rate-limited: waiting for the service's Retry-After, no attempt spent. */
  deferred: number;
}

// 64 rather than 32: each transaction that records a batch rewrites the pages the batch shares (the
// tails of the jobs and audit tables and their indexes) once, so larger batches write fewer pages
// per job (bench/lifecycle-bench.ts: 2.43 -> 2.23 write transactions and about 3 WAL pages fewer
// per request); a crash runs at most 64 idempotent effects again instead of 32.
// 128 rather than 64: a sweep that revokes many grants at once (after downtime) changes each grant
// in three indexes and each job in two, pages that a batch of revocations spread over many groups
// shares less; bench/sweep-bench.ts (5,000 due) wrote 25,500 WAL pages in 313 commits with 64,
// 17,800 in 171 with 128, so about one checkpoint fewer (a checkpoint takes 100-200 ms here).
// A crash now runs at most 128 idempotent effects again.
export const CLAIM_BATCH = 128;
export const RECORD_WITHIN_MS = 1000;

/** What running a job came to, waiting to be recorded. */
type Outcome =
  /** Done; `effect`: what it changed, still to record (provisioning and revocation). */
  | { kind: 'done'; job: JobRecord; effect?: EffectRecord }
  /** Rate-limited (429): pending again at `retryAt`, the attempt refunded. */
  | { kind: 'deferred'; job: JobRecord; error: string; retryAt: string }
  /** Failed: pending again at `retryAt`, or dead (given up) when null. */
  | { kind: 'failed'; job: JobRecord; error: string; retryAt: string | null; attempts: number };

export async function runDueJobs(deps: Deps, options: JobRunnerOptions): Promise<JobRunSummary> {
  return new BatchRunner(deps, options).run();
}

/** One run of the job runner: the jobs it has claimed, the outcomes it has still to record. */
class BatchRunner {
  readonly summary: JobRunSummary = { ran: 0, done: 0, retried: 0, dead: 0, skipped: 0, deferred: 0 };
  private readonly lockSeconds: number;
  private readonly claimBatch: number;
  private readonly recordWithinMs: number;
  /** Jobs this run tried to claim (or ran): never claimed twice in one run. */
  private readonly seen = new Set<number>();
  /** Due jobs read and not claimed yet, oldest first. */
  private queue: JobRecord[] = [];
  /** Claimed, not started, in the order they run. */
  private held: JobRecord[] = [];
  /** Claimed since the last `prepareHeld`. */
  private unprepared: JobRecord[] = [];
  private inFlight: JobRecord | null = null;
  /** Ran, not recorded yet; and since when the first of them waits. */
  private outcomes: Outcome[] = [];
  /**
   * The grants and requests (`grant:<id>`, `request:<id>`) whose change of state, an effect in
   * `outcomes`, waits to be recorded: kept with `outcomes` rather than gathered for every job.
   */
  private readonly waiting = new Set<string>();
  /** Outcomes committed with a write an effect needed first (`commitBeforeEffect`), for `nextCandidates`. */
  private recordedEarly: Outcome[] = [];
  private firstOutcomeAt = 0;
  /** What the revocations held read, read for all of them at once. */
  private readonly revocations: RevocationReads;

  private readonly deps: Deps;

  constructor(
    deps: Deps,
    private readonly options: JobRunnerOptions,
  ) {
    // The run's own handle on the store (operation-scope.ts): its transactions follow one another.
    // The heartbeat's, which runs beside them, and each job's are handles of their own.
    this.deps = withOwnStore(deps);
    this.lockSeconds = options.lockSeconds ?? 300;
    this.claimBatch = Math.max(1, options.claimBatch ?? CLAIM_BATCH);
    this.recordWithinMs = options.recordWithinMs ?? RECORD_WITHIN_MS;
    this.revocations = new RevocationReads(this.deps);
  }

  private get aborted(): boolean {
    return this.options.signal?.aborted === true;
  }

  async run(): Promise<JobRunSummary> {
    // The locks of every job the run holds are renewed while it lasts (Okta's retries and 429
    // waits can outlast them), so no other worker takes a job over, nor runs another effect of
    // its subject, meanwhile: the one in flight, those waiting their turn, those to record.
    const heartbeat = setInterval(() => void this.renewLocks(), (this.lockSeconds * 1000) / 3);
    heartbeat.unref();
    try {
      for (;;) {
        if (this.aborted) {
          await this.stop();
          return this.summary;
        }
        if (this.unprepared.length > 0) await this.prepareHeld();
        const job = this.takeNext();
        if (job === 'record') {
          // A message (or a digest) reads the state it reports: what the effects before it changed
          // is committed first, so the holder is never told of a grant the store has not activated.
          await this.record();
          continue;
        }
        if (job) {
          await this.runJob(job);
          if (this.held.length === 0 || this.outcomes.length >= this.claimBatch || this.waitedTooLong()) {
            await this.record();
          }
        } else if (this.outcomes.length > 0) {
          await this.record();
        } else if (!(await this.claimFromQueue())) {
          return this.summary;
        }
      }
    } finally {
      clearInterval(heartbeat);
    }
  }

  /**
   * The held job to run next, taken out of `held`: the first one, unless it is a message about a
   * grant (or its request) whose change of state waits to be recorded. Such a message waits for
   * that record (it reports the state), and so do the later messages about the same grant or
   * request (they keep their order); the jobs behind them run meanwhile, effects included (an
   * effect held never shares its subject, so its grant, with an outcome waiting). `record` when
   * nothing held may run before the outcomes waiting are recorded, or a message about anything
   * (a digest, an alert without ids) waits for one.
   */
  private takeNext(): JobRecord | 'record' | undefined {
    // An effect never waits (see above): return it without looking at what the messages wait for.
    if (this.held[0]?.subject != null) return this.held.shift();
    const waiting = this.waiting;
    if (waiting.size === 0) return this.held.shift();
    /** What the messages held back are about: the later messages about the same keep their order. */
    let behind: Set<string> | undefined;
    for (let i = 0; i < this.held.length; i++) {
      const job = this.held[i]!;
      const about = job.subject === null ? messageAbout(job) : [];
      if (about === null) return 'record';
      if (about.some((key) => waiting.has(key) || behind?.has(key))) {
        behind ??= new Set();
        for (const key of about) behind.add(key);
        continue;
      }
      this.held.splice(i, 1);
      return job;
    }
    return 'record';
  }

  private waitedTooLong(): boolean {
    return this.outcomes.length > 0 && performance.now() - this.firstOutcomeAt >= this.recordWithinMs;
  }

  /** A shutdown: the outcomes are recorded, the jobs claimed and not started are given back. */
  private async stop(): Promise<void> {
    if (this.outcomes.length > 0) await this.record();
    await this.releaseHeld();
  }

  /**
   * Nothing held: claims a batch of the due jobs (read when none are left); false when none is due.
   * Claims refused (another worker has the job, or another job of its subject runs) are counted
   * as skipped.
   */
  private async claimFromQueue(): Promise<boolean> {
    if (!this.queue.some((j) => !this.seen.has(j.id))) {
      // Two batches' worth at a time by default: the next claim (`record`) picks from what is left.
      const read = this.options.batch ?? 2 * this.claimBatch;
      const due = await this.deps.store.dueJobs(nowIso(this.deps), read, this.options.kinds);
      this.queue = due.filter((j) => !this.seen.has(j.id));
      if (this.queue.length === 0) return false;
    }
    const candidates = this.pick(this.claimBatch, new Set());
    const now = nowIso(this.deps);
    try {
      this.held = await this.deps.store.transaction((tx) => this.claim(tx, candidates, now));
      this.unprepared.push(...this.held);
      this.summary.skipped += candidates.length - this.held.length;
    } catch (error) {
      this.unsee(candidates);
      throw error;
    }
    return true;
  }

  /**
   * Takes up to `n` unseen jobs out of the queue, oldest first, at most one per subject and none
   * of a subject in `busy` (this run holds a job of it: the claim would be refused; they stay
   * queued for a later batch). Marks them seen.
   */
  private pick(n: number, busy: Set<string>): JobRecord[] {
    const picked: JobRecord[] = [];
    const rest: JobRecord[] = [];
    for (const job of this.queue) {
      if (this.seen.has(job.id)) continue;
      if (picked.length >= n || (job.subject && busy.has(job.subject))) {
        rest.push(job);
        continue;
      }
      picked.push(job);
      if (job.subject) busy.add(job.subject);
    }
    this.queue = rest;
    for (const job of picked) this.seen.add(job.id);
    return picked;
  }

  /** The claim of a batch was rolled back: its jobs may be claimed again. */
  private unsee(jobs: JobRecord[]): void {
    for (const job of jobs) this.seen.delete(job.id);
    this.queue.unshift(...jobs);
  }

  /**
   * Claims `candidates` in `tx`, those with a subject in the order of their subjects (see
   * `StoreTx.claimJob`: two transactions claiming overlapping subjects take their locks in the
   * same order); returns those claimed in the candidates' order.
   */
  private async claim(tx: StoreTx, candidates: JobRecord[], now: string): Promise<JobRecord[]> {
    const lockedUntil = addSeconds(now, this.lockSeconds);
    // Code-unit order, the same in every process whatever its locale.
    const order = [...candidates].sort((a, b) => compare(a.subject ?? '', b.subject ?? ''));
    const claimed = new Set(
      await tx.claimJobs(
        order.map((j) => j.id),
        this.options.worker,
        now,
        lockedUntil,
      ),
    );
    return candidates.filter((j) => claimed.has(j.id));
  }

  /** Runs a claimed job's effect; its outcome waits to be recorded with the batch's. */
  private async runJob(job: JobRecord): Promise<void> {
    const { deps, options } = this;
    this.summary.ran++;
    this.inFlight = job;
    const attempts = job.attempts + 1;
    let outcome: Outcome;
    try {
      // Once per batch: the first of its revocations reads for all of them (it was for each, each
      // time listing every job held, quadratic in the batch).
      const revoked = revokedGrant(job);
      if (revoked && !this.revocations.has(revoked)) await this.readAhead(job);
      // One job is one operation: its directory reads are shared, and only within it.
      const effect = await perform(forOperation(deps), job, this.revocations, (grantId, write) =>
        this.commitBeforeEffect([grantId], write),
      );
      outcome = effect ? { kind: 'done', job, effect } : { kind: 'done', job };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof TransientError && error.rateLimited) {
        // Slowed down by the service (429): the job waits its Retry-After and keeps its attempts.
        const retryAt = addSeconds(nowIso(deps), Math.max(1, Math.ceil((error.retryAfterMs ?? 1000) / 1000)));
        outcome = { kind: 'deferred', job, error: message, retryAt };
      } else {
        const maxAttempts = options.maxAttempts ?? 8;
        let retry: boolean;
        // The grant's (or review item's) side of the failure is recorded now, in a transaction of its own.
        if (job.payload.kind === 'provision' || job.payload.kind === 'revoke') {
          retry = await recordEffectFailure(deps, job.payload.kind, job.payload.grantId, error, attempts, maxAttempts);
        } else if (job.payload.kind === 'reviewRemoval') {
          retry = await recordRemovalFailure(deps, job.payload.itemId, error, attempts, maxAttempts);
        } else {
          retry = attempts < maxAttempts && !(error instanceof PermanentError);
        }
        const retryAt = retry ? addSeconds(nowIso(deps), backoffSeconds(attempts, error, options)) : null;
        outcome = { kind: 'failed', job, error: message, retryAt, attempts };
      }
    } finally {
      this.inFlight = null;
    }
    if (this.outcomes.length === 0) this.firstOutcomeAt = performance.now();
    this.keep([outcome], 'last');
  }

  /** Adds outcomes to record: a new one last, those a failed transaction did not record first. */
  private keep(outcomes: Outcome[], where: 'first' | 'last'): void {
    if (where === 'last') this.outcomes.push(...outcomes);
    else this.outcomes.unshift(...outcomes);
    for (const o of outcomes) {
      if (o.kind === 'done' && o.effect)
        this.waiting.add(`grant:${o.effect.grantId}`).add(`request:${o.effect.requestId}`);
    }
  }

  /** Takes every outcome waiting, to record them. */
  private takeOutcomes(): Outcome[] {
    this.waiting.clear();
    return this.outcomes.splice(0);
  }

  /**
   * Records the outcomes waiting, in one transaction that also claims the next batch (unless the
   * run is stopping): first a due job of the same subject as a job just recorded, which waited for
   * it (a revocation that overtook an add, refused its claim meanwhile): it runs at once instead of
   * at the next sweep; then due jobs read earlier. If that transaction fails, each outcome is
   * recorded in a transaction of its own, so one that cannot be recorded does not lose the others:
   * that one's job stays claimed until its lock expires and then runs again (idempotent), and the
   * run stops with its error.
   */
  private async record(): Promise<void> {
    const outcomes = this.takeOutcomes();
    const early = this.recordedEarly.splice(0);
    const at = nowIso(this.deps);
    let candidates: JobRecord[] = [];
    try {
      const { finished, claimed } = await this.deps.store.transaction(async (tx) => {
        // PostgreSQL runs the callback again after a deadlock: what an attempt picked goes back first.
        this.unsee(candidates);
        candidates = [];
        const finished = await this.recordOutcomes(tx, outcomes, at);
        // The claims last: a transaction holding a subject's lock waits for nothing but other
        // subjects' (in order), never for the audit head. And after the effects' records: a
        // provisioning recorded late tells whether the revocation behind it still has to run.
        let claimed: JobRecord[] = [];
        if (!this.aborted) {
          candidates = await this.nextCandidates(tx, [...early, ...outcomes], at);
          claimed = await this.claim(tx, candidates, at);
        }
        return { finished, claimed };
      });
      outcomes.forEach((outcome, i) => this.recorded(outcome, finished[i]!));
      this.held.unshift(...claimed);
      this.unprepared.push(...claimed);
      this.summary.skipped += candidates.length - claimed.length;
    } catch (error) {
      this.unsee(candidates);
      const message = error instanceof Error ? error.message : String(error);
      this.deps.logger.warn('recording a batch of job outcomes failed; recording them one by one', {
        jobs: outcomes.length,
        error: message,
      });
      let first: unknown;
      for (const outcome of outcomes) {
        try {
          const finished = await this.deps.store.transaction(async (tx) => {
            const finished = await this.recordOutcome(tx, outcome, at);
            await this.recordEffect(tx, outcome, at);
            return finished;
          });
          this.recorded(outcome, finished);
        } catch (error) {
          first ??= error;
          this.deps.logger.error('could not record a job outcome; the job runs again when its lock expires', {
            job: outcome.job.key,
            outcome: outcome.kind,
            error: error instanceof Error ? error.message : String(error),
          });
        }
      }
      if (first !== undefined) {
        await this.releaseHeld();
        throw first;
      }
    }
  }

  /**
   * The outcomes' records in `tx`: each job's row, then what the effects changed. `lockFirst`: a
   * grant the caller changes after them. Returns, for each outcome, whether its job's row changed.
   */
  private async recordOutcomes(tx: StoreTx, outcomes: Outcome[], at: string, lockFirst: string[] = []) {
    // The jobs done, in one statement; the others one by one.
    const done = outcomes.flatMap((o) => (o.kind === 'done' ? [o.job.id] : []));
    const doneNow = new Set(done.length > 0 ? await tx.finishJobs(done, this.options.worker, at) : []);
    const finished: boolean[] = [];
    for (const outcome of outcomes)
      finished.push(outcome.kind === 'done' ? doneNow.has(outcome.job.id) : await this.recordOutcome(tx, outcome, at));
    // Lock order (ports.ts, Store): every grant the effects' records change, before the first audit event.
    const grantIds = outcomes.flatMap((o) => (o.kind === 'done' && o.effect ? [o.effect.grantId] : []));
    grantIds.push(...lockFirst);
    if (grantIds.length > 0) await tx.lockGrants(grantIds);
    for (const outcome of outcomes) await this.recordEffect(tx, outcome, at);
    return finished;
  }

  /**
   * A write the effect in flight needs committed before it goes on (`ProvisionerContext`): in one
   * transaction with the outcomes waiting, which a message held may be waiting for. If that
   * transaction fails, the outcomes wait again (`record` has the fallback for them) and the write
   * gets a transaction of its own.
   */
  private async commitBeforeEffect<T>(grantIds: string[], write: (tx: StoreTx) => Promise<T>): Promise<T> {
    // Lock order (ports.ts, Store): the grants the write changes, in id order, before it changes them.
    const alone = () =>
      this.deps.store.transaction(async (tx) => {
        await tx.lockGrants(grantIds);
        return write(tx);
      });
    const outcomes = this.takeOutcomes();
    if (outcomes.length === 0) return alone();
    const at = nowIso(this.deps);
    let committed: { finished: boolean[]; result: T };
    try {
      committed = await this.deps.store.transaction(async (tx) => {
        const finished = await this.recordOutcomes(tx, outcomes, at, grantIds);
        return { finished, result: await write(tx) };
      });
    } catch (error) {
      this.deps.logger.warn('recording job outcomes with a write an effect needs failed; the write goes alone', {
        jobs: outcomes.length,
        error: error instanceof Error ? error.message : String(error),
      });
      this.keep(outcomes, 'first');
      return alone();
    }
    outcomes.forEach((outcome, i) => this.recorded(outcome, committed.finished[i]!));
    this.recordedEarly.push(...outcomes);
    return committed.result;
  }

  /**
   * Before the effects of jobs just claimed: what their provisioning jobs record before the effect
   * (`Provisioner.prepareGrant`: the membership found before an add), read for all of them and
   * committed in one transaction (with the outcomes waiting) instead of one each. A job whose
   * preparation fails prepares itself when it runs (and fails there, retried as any effect).
   * A single job prepares itself: the same one transaction.
   */
  private async prepareHeld(): Promise<void> {
    const jobs = this.unprepared.splice(0).flatMap((j) => (j.payload.kind === 'provision' ? [j.payload] : []));
    if (jobs.length < 2) return;
    const preparations: GrantPreparation[] = [];
    const grantIds: string[] = [];
    for (const { grantId } of jobs) {
      const prepared = await prepareProvision(this.deps, grantId).catch(() => undefined);
      if (!prepared) continue;
      preparations.push(prepared.write);
      grantIds.push(grantId);
    }
    if (preparations.length === 0) return;
    try {
      await this.commitBeforeEffect(grantIds, async (tx) => {
        for (const write of preparations) await write(tx);
      });
    } catch (error) {
      this.deps.logger.warn('preparing a batch of provisioning jobs failed; each prepares itself', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** Due jobs to claim after `recorded`: each one's waiting same-subject job first, then the queue's. */
  private async nextCandidates(tx: StoreTx, recorded: Outcome[], at: string): Promise<JobRecord[]> {
    const room = this.claimBatch - this.held.length;
    if (room <= 0) return [];
    const busy = new Set(this.held.flatMap((j) => (j.subject ? [j.subject] : [])));
    const waiting: JobRecord[] = [];
    // The subjects' due jobs in one read (oldest first; a few each, to look past jobs this run saw).
    const subjects = [...new Set(recorded.flatMap(({ job }) => (job.subject ? [job.subject] : [])))].filter(
      (subject) => !busy.has(subject),
    );
    const next = new Map<string, JobRecord>();
    if (subjects.length > 0) {
      for (const job of await tx.dueJobs(at, 10 * subjects.length, this.options.kinds, subjects))
        if (!this.seen.has(job.id) && !next.has(job.subject!)) next.set(job.subject!, job);
    }
    for (const subject of subjects) {
      const job = next.get(subject);
      if (!job || waiting.length >= room) continue;
      this.seen.add(job.id);
      busy.add(subject);
      waiting.push(job);
    }
    return [...waiting, ...this.pick(room - waiting.length, busy)];
  }

  /**
   * Before the first revocation of those held runs: the reads of all of them, at once (see
   * `RevocationReads`). Best effort: when it fails, each reads its own.
   */
  private async readAhead(job: JobRecord): Promise<void> {
    const grantIds = [job, ...this.held].flatMap((j) => revokedGrant(j) ?? []);
    try {
      await this.revocations.prepare(grantIds);
    } catch (error) {
      this.deps.logger.warn('could not read a batch of revocations ahead; each reads its own', {
        jobs: grantIds.length,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  /** The job's row; false when this worker no longer held its lock. */
  private async recordOutcome(tx: StoreTx, outcome: Outcome, at: string): Promise<boolean> {
    const { job } = outcome;
    const worker = this.options.worker;
    if (outcome.kind === 'done') return tx.finishJob(job.id, worker, at);
    if (outcome.kind === 'deferred')
      return tx.failJob(job.id, worker, at, outcome.error, outcome.retryAt, { refundAttempt: true });
    return tx.failJob(job.id, worker, at, outcome.error, outcome.retryAt);
  }

  /**
   * What the effect changed (a grant activated, a revocation completed: recorded against the grant
   * as it is now, even when the job's lock was lost meanwhile, see provision-grant.ts), or the
   * audit event of a job given up.
   */
  private async recordEffect(tx: StoreTx, outcome: Outcome, at: string): Promise<void> {
    if (outcome.kind === 'done') return outcome.effect?.write(tx, at);
    if (outcome.kind !== 'failed' || outcome.retryAt) return;
    await tx.appendAudit({
      at,
      actor: { kind: 'system', component: 'jobs' },
      action: 'job.abandoned',
      details: { job: outcome.job.key, attempts: outcome.attempts, error: outcome.error },
    });
  }

  /** An outcome committed: counted and logged. */
  private recorded(outcome: Outcome, finished: boolean): void {
    const { logger } = this.deps;
    const job = outcome.job.key;
    if (!finished)
      logger.warn('job finished after its lock was lost; the worker that took it over records its own outcome', {
        job,
        worker: this.options.worker,
      });
    if (outcome.kind === 'done') {
      this.summary.done++;
    } else if (outcome.kind === 'deferred') {
      logger.info('job rate-limited; waiting', { job, retryAt: outcome.retryAt });
      this.summary.deferred++;
    } else {
      const { attempts, error, retryAt } = outcome;
      logger[retryAt ? 'warn' : 'error'](retryAt ? 'job failed; will retry' : 'job failed; given up', {
        job,
        attempts,
        error,
        retryAt,
      });
      if (retryAt) this.summary.retried++;
      else this.summary.dead++;
    }
  }

  /** Gives back the jobs claimed and not started (best effort: otherwise they wait for their locks to expire). */
  private async releaseHeld(): Promise<void> {
    const held = this.held.splice(0);
    if (held.length === 0) return;
    try {
      const at = nowIso(this.deps);
      await this.deps.store.transaction(async (tx) => {
        for (const job of held) await tx.releaseJob(job.id, this.options.worker, at);
      });
    } catch (error) {
      this.deps.logger.warn('could not give back claimed jobs; they run when their locks expire', {
        jobs: held.map((j) => j.key),
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private async renewLocks(): Promise<void> {
    // In the order a record transaction touches job rows (the jobs done by id, then the others), so the
    // heartbeat and a record running at once on PostgreSQL never wait on each other in a cycle.
    const jobs = () => {
      const done = this.outcomes.flatMap((o) => (o.kind === 'done' ? [o.job] : [])).sort((a, b) => a.id - b.id);
      const others = this.outcomes.flatMap((o) => (o.kind === 'done' ? [] : [o.job]));
      return [...done, ...others, ...(this.inFlight ? [this.inFlight] : []), ...this.held];
    };
    if (jobs().length === 0) return;
    try {
      const at = nowIso(this.deps);
      const lockedUntil = addSeconds(at, this.lockSeconds);
      const lost = await operationStore(this.deps.store).transaction(async (tx) => {
        const lost: JobRecord[] = [];
        for (const job of jobs())
          if (!(await tx.renewJob(job.id, this.options.worker, at, lockedUntil))) lost.push(job);
        return lost;
      });
      // A job recorded meanwhile is no longer running: only one still held was taken over.
      const still = new Set(jobs().map((j) => j.id));
      for (const job of lost.filter((j) => still.has(j.id)))
        this.deps.logger.warn('job lock lost: another worker took the job over', {
          job: job.key,
          worker: this.options.worker,
        });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.deps.logger.warn('could not renew job locks', { jobs: jobs().map((j) => j.key), error: message });
    }
  }
}

/** The grant a job starts revoking: a revocation's first run, not an undo. */
function revokedGrant(job: JobRecord): string | undefined {
  return job.payload.kind === 'revoke' && job.payload.undoLateProvision !== true ? job.payload.grantId : undefined;
}

async function perform(
  deps: Deps,
  job: JobRecord,
  revocations: RevocationReads,
  commitBeforeEffect: NonNullable<ProvisionerContext['commitBeforeEffect']>,
): Promise<EffectRecord | void> {
  const payload = job.payload;
  switch (payload.kind) {
    case 'provision':
      return provisionGrant(deps, payload.grantId, commitBeforeEffect);
    case 'revoke':
      return executeRevocation(deps, payload.grantId, {
        undoLateProvision: payload.undoLateProvision === true,
        readAhead: revocations.take(payload.grantId),
      });
    case 'notify':
      // The digest and a review's summary are more than messages: each carries an export and its own audit event.
      if (payload.notification.type === 'digest') return publishDigest(deps, payload.notification, job.key);
      if (payload.notification.type === 'review.summary')
        return publishReviewSummary(deps, payload.notification, job.key);
      return deps.notifier.deliver(payload.notification, job.key);
    case 'reviewRemoval':
      return executeReviewRemoval(deps, payload.itemId);
  }
}

/**
 * What a message reports on, as keys (`grant:…`, `request:…`), or null when it reads more than
 * one grant or request (a digest, a review, an alert without ids).
 */
function messageAbout(job: JobRecord): string[] | null {
  if (job.payload.kind !== 'notify') return null;
  const n = job.payload.notification as { grantId?: string; requestId?: string };
  const about = [
    ...(n.grantId !== undefined ? [`grant:${n.grantId}`] : []),
    ...(n.requestId !== undefined ? [`request:${n.requestId}`] : []),
  ];
  return about.length > 0 ? about : null;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** base * 2^(attempt-1), capped, with full jitter on the upper half; a server's Retry-After wins when longer. */
export function backoffSeconds(
  attempt: number,
  error: unknown,
  options: Pick<JobRunnerOptions, 'baseDelaySeconds' | 'maxDelaySeconds' | 'random'>,
): number {
  const base = options.baseDelaySeconds ?? 5;
  const cap = options.maxDelaySeconds ?? 3600;
  const exp = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  const jittered = exp / 2 + (options.random ?? Math.random)() * (exp / 2);
  const retryAfter = error instanceof TransientError && error.retryAfterMs ? error.retryAfterMs / 1000 : 0;
  return Math.max(1, Math.ceil(Math.max(jittered, retryAfter)));
}
