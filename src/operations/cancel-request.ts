/** The requester withdraws a pending request. Only the requester; only while it is pending. */
import { AccessError } from '../domain/errors.js';
import type { AccessRequest } from '../domain/records.js';
import { actorOf, type ActingPerson } from './acting-person.js';
import { nowIso, type Deps } from './context.js';
import { closePendingRequest } from './lifecycle.js';

export async function cancelRequest(
  deps: Deps,
  input: { actor: ActingPerson; requestId: string },
): Promise<AccessRequest> {
  const now = nowIso(deps);
  return await deps.store.transaction(async (tx) => {
    const request = await tx.getRequest(input.requestId);
    if (!request) throw new AccessError('not_found', 'This request no longer exists.');
    if (request.requester.directoryId !== input.actor.person.id)
      throw new AccessError('not_requester', 'Only the person who asked for this access can cancel the request.');
    const closed = await closePendingRequest(tx, now, request, {
      status: 'cancelled',
      reason: 'cancelled by the requester',
      actor: actorOf(input.actor),
      details: () => ({}),
    });
    if (!closed)
      throw new AccessError(
        'stale_decision',
        `This request is already ${request.status.replaceAll('_', ' ')}; nothing to cancel.`,
      );
    return (await tx.getRequest(request.id))!;
  });
}
