/**
 * The job runner: every external effect (provisioning, revocation, messages) was recorded as a
 * job in the transaction that caused it; this runs the due ones, marks them done, or schedules a
 * retry with exponential backoff and jitter. A job claimed by a process that died is picked up
 * again when its lock expires, so a crash between intent and effect loses nothing.
 */
import { PermanentError, TransientError } from '../domain/errors.js';
import type { JobRecord } from '../domain/records.js';
import { addSeconds, nowIso, type Deps } from './context.js';
import type { StoreTx } from './ports.js';
import { executeRevocation, provisionGrant, recordEffectFailure } from './provision-grant.js';
import { publishDigest } from './publish-digest.js';
import { withReadScope } from './read-scope.js';
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
  batch?: number;
  random?: () => number;
  /** Run only these kinds of job (the CLI leaves messages to the running bot). */
  kinds?: JobRecord['payload']['kind'][];
  /** Stops the run between jobs (a shutdown): the job in flight finishes, the rest wait for the next pass. */
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

export async function runDueJobs(deps: Deps, options: JobRunnerOptions): Promise<JobRunSummary> {
  const summary: JobRunSummary = { ran: 0, done: 0, retried: 0, dead: 0, skipped: 0, deferred: 0 };
  const batch = options.batch ?? 100;
  const lockSeconds = options.lockSeconds ?? 300;
  const seen = new Set<number>();
  let queue: JobRecord[] = [];
  const nextInQueue = (): JobRecord | undefined => {
    let job = queue.shift();
    while (job && seen.has(job.id)) job = queue.shift();
    return job;
  };
  /**
   * In the transaction that records a job's outcome, the next job is claimed too (one transaction
   * per job instead of two): first a due job of the same subject that waited for this one (a
   * revocation that overtook an add, refused its claim meanwhile), which runs at once instead of
   * at the next sweep; else the next due job read earlier.
   */
  const claimNext = async (tx: StoreTx, at: string, waiting: JobRecord[]): Promise<JobRecord | null> => {
    if (options.signal?.aborted) return null;
    const next = waiting.find((j) => !seen.has(j.id)) ?? nextInQueue();
    if (!next) return null;
    seen.add(next.id);
    if (await tx.claimJob(next.id, options.worker, at, addSeconds(at, lockSeconds))) return next;
    summary.skipped++;
    return null;
  };
  let claimed: JobRecord | null = null;
  for (;;) {
    // A job already claimed runs (it is the job in flight); nothing more is claimed once aborted.
    if (options.signal?.aborted && !claimed) return summary;
    if (!claimed) {
      let job = nextInQueue();
      if (!job) {
        queue = (await deps.store.dueJobs(nowIso(deps), batch, options.kinds)).filter((j) => !seen.has(j.id));
        job = nextInQueue();
        if (!job) return summary;
      }
      seen.add(job.id);
      const now = nowIso(deps);
      if (
        !(await deps.store.transaction((tx) => tx.claimJob(job.id, options.worker, now, addSeconds(now, lockSeconds))))
      ) {
        summary.skipped++;
        continue;
      }
      claimed = job;
    }
    claimed = await runJob(deps, claimed, options, summary, claimNext);
  }
}

/**
 * Runs a job this worker has claimed, records its outcome and, in the same transaction, claims the
 * next one (`claimNext`, given the due jobs of the same subject): returns that one, or null.
 */
async function runJob(
  deps: Deps,
  job: JobRecord,
  options: JobRunnerOptions,
  summary: JobRunSummary,
  claimNext: (tx: StoreTx, at: string, waiting: JobRecord[]) => Promise<JobRecord | null>,
): Promise<JobRecord | null> {
  const lockSeconds = options.lockSeconds ?? 300;
  summary.ran++;
  const attempts = job.attempts + 1;
  const thenClaimNext = async (tx: StoreTx, at: string) =>
    claimNext(tx, at, job.subject ? await tx.dueJobs(at, 10, options.kinds, job.subject) : []);
  // The lock is renewed while the effect lasts (Okta's retries and 429 waits can outlast it), so
  // no other worker takes the job over, nor runs another effect of its subject, meanwhile.
  const renew = async () => {
    try {
      const at = nowIso(deps);
      if (
        !(await deps.store.transaction((tx) => tx.renewJob(job.id, options.worker, at, addSeconds(at, lockSeconds))))
      ) {
        deps.logger.warn('job lock lost: another worker took the job over', { job: job.key, worker: options.worker });
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      deps.logger.warn('could not renew a job lock', { job: job.key, error: message });
    }
  };
  const heartbeat = setInterval(() => void renew(), (lockSeconds * 1000) / 3);
  heartbeat.unref();
  try {
    // One job is one operation: its directory reads are shared, and only within it.
    await withReadScope(() => perform(deps, job));
    clearInterval(heartbeat);
    const at = nowIso(deps);
    const { finished, next } = await deps.store.transaction(async (tx) => ({
      finished: await tx.finishJob(job.id, options.worker, at),
      next: await thenClaimNext(tx, at),
    }));
    if (!finished)
      deps.logger.warn('job finished after its lock was lost; the worker that took it over records its own outcome', {
        job: job.key,
        worker: options.worker,
      });
    summary.done++;
    return next;
  } catch (error) {
    clearInterval(heartbeat);
    const message = error instanceof Error ? error.message : String(error);
    if (error instanceof TransientError && error.rateLimited) {
      // Slowed down by the service (429): the job waits its Retry-After and keeps its attempts.
      const at = nowIso(deps);
      const retryAt = addSeconds(at, Math.max(1, Math.ceil((error.retryAfterMs ?? 1000) / 1000)));
      const next = await deps.store.transaction(async (tx) => {
        await tx.failJob(job.id, options.worker, at, message, retryAt, { refundAttempt: true });
        return thenClaimNext(tx, at);
      });
      deps.logger.info('job rate-limited; waiting', { job: job.key, retryAt });
      summary.deferred++;
      return next;
    }
    const maxAttempts = options.maxAttempts ?? 8;
    let retry: boolean;
    if (job.payload.kind === 'provision' || job.payload.kind === 'revoke') {
      retry = await recordEffectFailure(deps, job.payload.kind, job.payload.grantId, error, attempts, maxAttempts);
    } else if (job.payload.kind === 'reviewRemoval') {
      retry = await recordRemovalFailure(deps, job.payload.itemId, error, attempts, maxAttempts);
    } else {
      retry = attempts < maxAttempts && !(error instanceof PermanentError);
    }
    const at = nowIso(deps);
    const retryAt = retry ? addSeconds(at, backoffSeconds(attempts, error, options)) : null;
    const next = await deps.store.transaction(async (tx) => {
      await tx.failJob(job.id, options.worker, at, message, retryAt);
      if (!retryAt)
        await tx.appendAudit({
          at,
          actor: { kind: 'system', component: 'jobs' },
          action: 'job.abandoned',
          details: { job: job.key, attempts, error: message },
        });
      return thenClaimNext(tx, at);
    });
    deps.logger[retry ? 'warn' : 'error'](retry ? 'job failed; will retry' : 'job failed; given up', {
      job: job.key,
      attempts,
      error: message,
      retryAt,
    });
    if (retry) summary.retried++;
    else summary.dead++;
    return next;
  }
}

async function perform(deps: Deps, job: JobRecord): Promise<void> {
  const payload = job.payload;
  switch (payload.kind) {
    case 'provision':
      return provisionGrant(deps, payload.grantId);
    case 'revoke':
      return executeRevocation(deps, payload.grantId, { undoLateProvision: payload.undoLateProvision === true });
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
