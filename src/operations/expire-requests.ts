/** Pending requests nobody decided within `approval_timeout` expire; their approval messages say so. */
import type { AccessRequest } from '../domain/records.js';
import { nowIso, type Deps } from './context.js';
import { closePendingRequest } from './lifecycle.js';
import type { StoreTx } from './ports.js';

export async function expireUnapprovedRequests(deps: Deps, batch = 200): Promise<number> {
  const now = nowIso(deps);
  let expired = 0;
  for (;;) {
    const due = await deps.store.overdueRequests(now, batch);
    if (due.length === 0) return expired;
    for (const request of due) {
      if (await deps.store.transaction((tx) => expireRequest(tx, now, request))) expired++;
    }
    if (due.length < batch) return expired;
  }
}

/**
 * Expires one pending request whose deadline passed (the sweep, or a decision that arrived too
 * late); false when it is no longer pending or not yet due.
 */
export async function expireRequest(tx: StoreTx, now: string, request: AccessRequest): Promise<boolean> {
  if (request.approvalDeadline > now) return false;
  return closePendingRequest(tx, now, request, {
    status: 'approval_expired',
    reason: 'no decision within the approval timeout',
    actor: { kind: 'system', component: 'sweep' },
    details: (open) => ({ deadline: request.approvalDeadline, step: open ? open.index + 1 : null }),
  });
}
