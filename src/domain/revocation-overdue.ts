/**
 * "Revocation overdue": a grant whose revocation started but is not confirmed in time. It is derived
 * from the grant, never stored, so it cannot disagree with the grant's state: the grant stays
 * `revoking` (a revocation is recorded as done only when the provider confirms it) and is overdue
 *
 * - for an automatic revocation (Okta group, webhook): after REVOCATION_OVERDUE_AFTER_FAILURES
 *   failed attempts, or when it started more than REVOCATION_OVERDUE_AFTER_SECONDS.automatic ago
 *   (a provider that hangs, or a job that cannot run, fails no attempt but is just as late);
 * - for a manual revocation (a person must click Done): when the task has been open longer than
 *   REVOCATION_OVERDUE_AFTER_SECONDS.manual. A person is not a failing API; a day is their deadline.
 */
import { describeProvision } from './provisioning/methods.js';
import type { Grant } from './records.js';

/** Same threshold as the job runner's first alert (REVOCATION_ALERT_AFTER): both mean "keeps failing". */
export const REVOCATION_OVERDUE_AFTER_FAILURES = 3;

const REVOCATION_OVERDUE_AFTER_SECONDS = { automatic: 15 * 60, manual: 24 * 3600 } as const;

export interface RevocationOverdue {
  overdue: boolean;
  /** Why, for people: "3 failed attempts", "started 2 hours ago and not confirmed". */
  why?: string;
  /** Seconds since the revocation started. */
  ageSeconds?: number;
}

export function revocationOverdue(
  grant: Pick<Grant, 'status' | 'revocationStartedAt' | 'failures' | 'snapshot'>,
  now: string,
): RevocationOverdue {
  if (grant.status !== 'revoking' || !grant.revocationStartedAt) return { overdue: false };
  const ageSeconds = Math.max(0, (Date.parse(now) - Date.parse(grant.revocationStartedAt)) / 1000);
  // A revocation a person does (a manual task) has a person's deadline, not a failing API's.
  const manual = !describeProvision(grant.snapshot.provision).automatic;
  const limit = manual ? REVOCATION_OVERDUE_AFTER_SECONDS.manual : REVOCATION_OVERDUE_AFTER_SECONDS.automatic;
  if (!manual && grant.failures >= REVOCATION_OVERDUE_AFTER_FAILURES) {
    return { overdue: true, ageSeconds, why: `${grant.failures} failed attempts` };
  }
  if (ageSeconds > limit) {
    return {
      overdue: true,
      ageSeconds,
      why: manual ? 'the manual revocation task is still open' : 'started and not confirmed in time',
    };
  }
  return { overdue: false, ageSeconds };
}
