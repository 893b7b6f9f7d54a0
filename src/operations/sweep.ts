/**
 * One pass of everything time makes due: approval timeouts, ended delegations, escalations,
 * approver reminders, expired grants, reminders, unreviewed break-glass access, access reviews
 * past their due time and their reminders, the jobs waiting to run, and the housekeeping of
 * records older than the retention. It re-derives what is due from the database every time and
 * calls the same
 * operations a person would, so a missed or repeated pass does no harm.
 */
import { describeDuration } from '../domain/duration.js';
import { revocationOverdue } from '../domain/revocation-overdue.js';
import { alertUnreviewedBreakGlass } from './break-glass.js';
import { nowIso, type Deps } from './context.js';
import { expireDelegations } from './delegations.js';
import { escalateSteps } from './escalate-steps.js';
import { expireUnapprovedRequests } from './expire-requests.js';
import { withOwnStore } from './operation-scope.js';
import { alert, notify } from './lifecycle.js';
import { pruneOldRecords, type PruneSummary } from './prune-records.js';
import { remindApprovers } from './remind-approvers.js';
import { expireGrants } from './revoke-grant.js';
import { runDueJobs, type JobRunnerOptions, type JobRunSummary } from './run-jobs.js';
import { closeDueReviews } from './reviews/close-review.js';
import { sendReviewReminders } from './reviews/review-reminders.js';

export interface SweepSummary {
  expiredRequests: number;
  /** Delegations whose end passed. */
  endedDelegations: number;
  /** Steps that escalated. */
  escalatedSteps: number;
  /** Approver reminders queued (one per recipient). */
  approverReminders: number;
  expiredGrants: number;
  reminders: number;
  /** Admin alerts queued about break-glass access nobody reviewed in time. */
  breakGlassAlerts: number;
  /** Access review campaigns closed at their due time in this pass. */
  reviewsClosed: number;
  reviewReminders: number;
  jobs: JobRunSummary;
  /** Grants whose revocation is overdue after this pass (still `revoking`; the runner keeps retrying them). */
  overdueRevocations: number;
  /** Overdue alerts queued by this pass (the first one, then one a day). */
  overdueAlerts: number;
  /** Records older than `retention` deleted by this pass (see `pruneOldRecords`). */
  pruned: PruneSummary;
}

export async function sweep(deps: Deps, jobs: JobRunnerOptions): Promise<SweepSummary> {
  // Each phase has its own handle on the store (operation-scope.ts): a second transaction (which
  // would wait for itself) or a store read inside the phase's own transaction fails at once. The
  // job runner makes its own, one for its loop and one for its heartbeat, which run at once.
  const phase = () => withOwnStore(deps);
  const expiredRequests = await expireUnapprovedRequests(phase());
  // Before escalations and reminders: a delegate whose delegation ended is not asked.
  const endedDelegations = await expireDelegations(phase());
  const escalatedSteps = await escalateSteps(phase());
  const approverReminders = await remindApprovers(phase());
  const expiredGrants = await expireGrants(phase());
  const reminders = await sendReminders(phase());
  const breakGlassAlerts = await alertUnreviewedBreakGlass(phase());
  // Before the jobs: an undecided item the review revokes is revoked in this same pass.
  const reviewsClosed = await closeDueReviews(phase());
  const reviewReminders = await sendReviewReminders(phase());
  const jobSummary = await runDueJobs(deps, jobs);
  // After the jobs: a revocation that succeeded in this pass is not reported as overdue.
  const overdue = await alertOverdueRevocations(phase());
  const pruned = await pruneOldRecords(phase(), { signal: jobs.signal });
  return {
    expiredRequests,
    endedDelegations,
    escalatedSteps,
    approverReminders,
    expiredGrants,
    reminders,
    breakGlassAlerts,
    reviewsClosed,
    reviewReminders,
    jobs: jobSummary,
    overdueRevocations: overdue.overdue,
    overdueAlerts: overdue.alerted,
    pruned,
  };
}

const DAY_SECONDS = 86_400;

/**
 * Tells the alerts channel about every overdue revocation (see `revocationOverdue`): once when it
 * becomes overdue, then once for each further day it stays so, counted from when the revocation
 * started. The job key carries the day, so repeated passes (or two processes) queue each alert
 * once. Day 0 uses the key the job runner's "keeps failing" alert uses, so a revocation that
 * crosses the failure threshold is announced once, by whichever writes first.
 */
export async function alertOverdueRevocations(
  deps: Deps,
  limit = 10_000,
): Promise<{ overdue: number; alerted: number }> {
  const now = nowIso(deps);
  let overdue = 0;
  let alerted = 0;
  for (const grant of await deps.store.listGrants({ status: ['revoking'], limit })) {
    const state = revocationOverdue(grant, now);
    if (!state.overdue) continue;
    overdue++;
    const day = Math.floor((state.ageSeconds ?? 0) / DAY_SECONDS);
    const key = day === 0 ? `revoke-failing:${grant.id}` : `revoke-failing:${grant.id}:day-${day}`;
    if (await deps.store.getJobByKey(`notify:alert:${key}`)) continue;
    const since = describeDuration(Math.floor(state.ageSeconds ?? 0));
    const text =
      `Revocation overdue: ${grant.app} ${grant.role} for ${grant.holder.email} (${grant.revocationReason ?? 'revocation'}) started ${since} ago and is not confirmed: ` +
      `${state.why}${grant.lastError ? `; last error: ${grant.lastError}` : ''}. The access is still in place; the bot keeps trying${day > 0 ? ` (day ${day + 1})` : ''}.`;
    await deps.store.transaction(async (tx) => {
      await alert(tx, now, deps.settings.alertsChannel, key, text, { grantId: grant.id, requestId: grant.requestId });
    });
    alerted++;
  }
  if (alerted) deps.logger.warn('revocations overdue', { overdue, alerted });
  return { overdue, alerted };
}

/**
 * Reminders before expiry, once per lead time. Only lead times shorter than the grant apply (a 1h
 * grant gets no "1 day left" reminder); an extension resets them.
 */
export async function sendReminders(deps: Deps, batch = 1000): Promise<number> {
  const leads = deps.settings.remindersSeconds;
  if (leads.length === 0) return 0;
  const now = nowIso(deps);
  const nowMs = Date.parse(now);
  let sent = 0;
  for (;;) {
    // Only grants still owed a reminder come back, so each page moves on: the ones handled here drop out.
    const candidates = await deps.store.grantsDueForReminder(now, leads, batch);
    // One transaction per page: each grant is re-read and updated conditionally inside it.
    // Counted inside and returned: a store may run a transaction's callback again (a deadlock).
    const progressed = await deps.store.transaction(async (tx) => {
      let handled = 0;
      let reminded = 0;
      // Lock order (ports.ts, Store): the page's grants before the first audit event.
      await tx.lockGrants(candidates.map((grant) => grant.id));
      for (const grant of candidates) {
        const left = (Date.parse(grant.expiresAt!) - nowMs) / 1000;
        if (left <= 0) continue;
        // The shortest lead time already reached is the one to send; longer ones passed unsent are skipped.
        const due = leads.filter(
          (lead) => lead < grant.durationSeconds && left <= lead && !grant.remindersSent.includes(lead),
        );
        if (due.length === 0) continue;
        handled++;
        const lead = Math.min(...due);
        const fresh = await tx.getGrant(grant.id);
        if (!fresh || fresh.status !== 'active' || fresh.expiresAt !== grant.expiresAt) continue;
        const marked = [...new Set([...fresh.remindersSent, ...due])];
        if (!(await tx.updateGrant(grant.id, ['active'], { remindersSent: marked }))) continue;
        await tx.appendAudit({
          at: now,
          actor: { kind: 'system', component: 'sweep' },
          action: 'grant.reminded',
          requestId: grant.requestId,
          grantId: grant.id,
          details: { leadSeconds: lead, expiresAt: grant.expiresAt },
        });
        await notify(tx, now, `reminder:${grant.id}:${grant.expiresAt}:${lead}`, {
          type: 'grant.reminder',
          recipient: { kind: 'person', directoryId: grant.holder.directoryId },
          grantId: grant.id,
          leadSeconds: lead,
        });
        reminded++;
      }
      return { handled, reminded };
    });
    sent += progressed.reminded;
    if (candidates.length < batch || progressed.handled === 0) return sent;
  }
}
