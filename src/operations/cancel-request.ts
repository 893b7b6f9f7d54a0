/** The requester withdraws a pending request. Only the requester; only while it is pending. */
import { AccessError } from '../domain/errors.js';
import type { AccessRequest } from '../domain/records.js';
import { actorOf, type ActingPerson } from './acting-person.js';
import { nowIso, type Deps } from './context.js';
import { notify, requesterRecipient, settleApprovalMessages } from './lifecycle.js';

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
    if (
      !(await tx.updateRequest(request.id, ['pending_approval'], {
        status: 'cancelled',
        decidedAt: now,
        decisionReason: 'cancelled by the requester',
        currentStep: -1,
      }))
    ) {
      throw new AccessError(
        'stale_decision',
        `This request is already ${request.status.replaceAll('_', ' ')}; nothing to cancel.`,
      );
    }
    const open = (await tx.getSteps(request.id)).find((s) => s.status === 'open');
    if (open) {
      await tx.updateStep(request.id, open.index, ['open'], { status: 'closed', decidedAt: now });
      await settleApprovalMessages(tx, now, request, open, 'cancelled');
    }
    await tx.appendAudit({
      at: now,
      actor: actorOf(input.actor),
      action: 'request.cancelled',
      requestId: request.id,
      details: {},
    });
    await notify(tx, now, `cancelled:${request.id}`, {
      type: 'request.cancelled',
      recipient: requesterRecipient(request),
      requestId: request.id,
    });
    return (await tx.getRequest(request.id))!;
  });
}
