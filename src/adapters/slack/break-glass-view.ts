/** Assembles the builders' view of a break-glass grant and its review from stored state. */
import type { BreakGlassAlertView } from '../../../blocks/view-models.js';
import type { Deps } from '../../operations/context.js';
import { personLabel } from './request-card.js';

export async function breakGlassView(
  deps: Pick<Deps, 'store' | 'catalog' | 'settings'>,
  grantId: string,
  timezone?: string,
): Promise<BreakGlassAlertView | undefined> {
  const [grant, review] = await Promise.all([deps.store.getGrant(grantId), deps.store.getBreakGlassReview(grantId)]);
  if (!grant || !review) return undefined;
  const request = await deps.store.getRequest(grant.requestId);
  const entry = deps.catalog.find(grant.app, grant.role);
  return {
    grantId: grant.id,
    requestId: grant.requestId,
    holder: personLabel(grant.holder),
    appName: entry?.app.name ?? grant.app,
    roleName: entry?.role.name ?? grant.role,
    durationSeconds: grant.durationSeconds,
    justification: request?.justification ?? '',
    takenAt: grant.createdAt,
    expiresAt: grant.expiresAt,
    grantStatus: grant.status,
    revokedBy: grant.revokedBy,
    revocationNote: grant.revocationNote,
    review: {
      reviewers: review.reviewers,
      incident: review.incident,
      dueAt: review.dueAt,
      status: review.status,
      reviewer: review.reviewer ? personLabel(review.reviewer) : null,
      reason: review.reason,
      reviewedAt: review.reviewedAt,
    },
    policyName: grant.policyName,
    policyVersion: grant.policyVersion,
    timezone: timezone ?? deps.settings.timezone,
  };
}
