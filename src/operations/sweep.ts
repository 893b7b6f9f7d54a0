/**
 * One pass of everything time makes due: approval timeouts, expired grants, reminders, and the
 * jobs waiting to run. It re-derives what is due from the database every time and calls the same
 * operations a person would, so a missed or repeated pass does no harm.
 */
import { nowIso, type Deps } from './context.js';
import { expireUnapprovedRequests } from './expire-requests.js';
import { notify } from './lifecycle.js';
import { expireGrants } from './revoke-grant.js';
import { runDueJobs, type JobRunnerOptions, type JobRunSummary } from './run-jobs.js';

export interface SweepSummary {
  expiredRequests: number;
  expiredGrants: number;
  reminders: number;
  jobs: JobRunSummary;
}

export async function sweep(deps: Deps, jobs: JobRunnerOptions): Promise<SweepSummary> {
  const expiredRequests = expireUnapprovedRequests(deps);
  const expiredGrants = expireGrants(deps);
  const reminders = sendReminders(deps);
  const jobSummary = await runDueJobs(deps, jobs);
  return { expiredRequests, expiredGrants, reminders, jobs: jobSummary };
}

/**
 * Reminders before expiry, once per lead time. Only lead times shorter than the grant apply (a 1h
 * grant gets no "1 day left" reminder); an extension resets them.
 */
export function sendReminders(deps: Deps, batch = 1000): number {
  const leads = deps.settings.remindersSeconds;
  if (leads.length === 0) return 0;
  const now = nowIso(deps);
  const nowMs = Date.parse(now);
  const longest = Math.max(...leads);
  const candidates = deps.store.grantsExpiringBefore(new Date(nowMs + longest * 1000).toISOString(), batch);
  let sent = 0;
  for (const grant of candidates) {
    const left = (Date.parse(grant.expiresAt!) - nowMs) / 1000;
    if (left <= 0) continue;
    // The shortest lead time already reached is the one to send; longer ones passed unsent are skipped.
    const due = leads.filter((lead) => lead < grant.durationSeconds && left <= lead && !grant.remindersSent.includes(lead));
    if (due.length === 0) continue;
    const lead = Math.min(...due);
    const ok = deps.store.transaction((tx) => {
      const fresh = tx.getGrant(grant.id);
      if (!fresh || fresh.status !== 'active' || fresh.expiresAt !== grant.expiresAt) return false;
      const marked = [...new Set([...fresh.remindersSent, ...due])];
      if (!tx.updateGrant(grant.id, ['active'], { remindersSent: marked })) return false;
      tx.appendAudit({ at: now, actor: { kind: 'system', component: 'sweep' }, action: 'grant.reminded', requestId: grant.requestId, grantId: grant.id, details: { leadSeconds: lead, expiresAt: grant.expiresAt } });
      notify(tx, now, `reminder:${grant.id}:${grant.expiresAt}:${lead}`, { type: 'grant.reminder', recipient: { kind: 'person', directoryId: grant.holder.directoryId }, grantId: grant.id, leadSeconds: lead });
      return true;
    });
    if (ok) sent++;
  }
  return sent;
}
