/**
 * Access review rows to records and back, for both stores: the PostgreSQL tables have the same
 * columns and TypeScript shapes as SQLite's (postgres/schema.ts), plus `pos`, which the mappers ignore.
 */
import type { ReviewCampaign, ReviewerRecord, ReviewItem } from '../../domain/reviews/review-records.js';
import type * as t from './schema.js';

type CampaignRow = typeof t.reviewCampaigns.$inferSelect;
type ItemRow = typeof t.reviewItems.$inferSelect;
type ReviewerRow = typeof t.reviewReviewers.$inferSelect;

export function toCampaign(row: CampaignRow): ReviewCampaign {
  return {
    id: row.id,
    reviewId: row.reviewId,
    reviewName: row.reviewName,
    version: row.version,
    definition: row.definition,
    trigger: row.trigger,
    startedBy: row.startedBy,
    slot: row.slot,
    status: row.status,
    startedAt: row.startedAt,
    dueAt: row.dueAt,
    closedAt: row.closedAt,
    closedBy: row.closedBy,
    populationCount: row.populationCount,
    populationHash: row.populationHash,
    rules: row.rules ?? null,
  };
}

export function fromCampaign(c: ReviewCampaign): CampaignRow {
  return { ...c };
}

export function toReviewItem(row: ItemRow): ReviewItem {
  return {
    id: row.id,
    campaignId: row.campaignId,
    position: row.position,
    holder: { directoryId: row.holderId, email: row.holderEmail, name: row.holderName, slackId: null },
    access:
      row.accessKind === 'role'
        ? { kind: 'role', app: row.app ?? '', role: row.role ?? '' }
        : { kind: 'group', group: row.accessGroup ?? '' },
    source: row.source,
    reviewer: { rule: row.reviewerRule, fallbackReason: row.reviewerFallbackReason, label: row.reviewerLabel },
    decision: row.decision,
    reason: row.reason,
    decidedBy: row.decidedById
      ? {
          directoryId: row.decidedById,
          email: row.decidedByEmail ?? '',
          name: row.decidedByName ?? '',
          slackId: row.decidedBySlackId,
        }
      : null,
    decidedAt: row.decidedAt,
    secondsToDecision: row.secondsToDecision,
    remediation: row.remediation,
    remediationDetail: row.remediationDetail,
    remediatedAt: row.remediatedAt,
    remediationEventSeq: row.remediationEventSeq,
  };
}

export function fromReviewItem(i: ReviewItem): ItemRow {
  return {
    id: i.id,
    campaignId: i.campaignId,
    position: i.position,
    holderId: i.holder.directoryId,
    holderEmail: i.holder.email,
    holderName: i.holder.name,
    accessKind: i.access.kind,
    app: i.access.kind === 'role' ? i.access.app : null,
    role: i.access.kind === 'role' ? i.access.role : null,
    accessGroup: i.access.kind === 'group' ? i.access.group : null,
    source: i.source,
    grantId: i.source.kind === 'grant' ? i.source.grantId : null,
    reviewerRule: i.reviewer.rule,
    reviewerFallbackReason: i.reviewer.fallbackReason,
    reviewerLabel: i.reviewer.label,
    decision: i.decision,
    reason: i.reason,
    decidedById: i.decidedBy?.directoryId ?? null,
    decidedByEmail: i.decidedBy?.email ?? null,
    decidedByName: i.decidedBy?.name ?? null,
    decidedBySlackId: i.decidedBy?.slackId ?? null,
    decidedAt: i.decidedAt,
    secondsToDecision: i.secondsToDecision,
    remediation: i.remediation,
    remediationDetail: i.remediationDetail,
    remediatedAt: i.remediatedAt,
    remediationEventSeq: i.remediationEventSeq,
  };
}

export function fromReviewItemPatch(patch: Partial<ReviewItem>): Partial<ItemRow> {
  const out: Partial<ItemRow> = {};
  const keys = [
    'decision',
    'reason',
    'decidedAt',
    'secondsToDecision',
    'remediation',
    'remediationDetail',
    'remediatedAt',
    'remediationEventSeq',
  ] as const;
  for (const key of keys) if (patch[key] !== undefined) (out as Record<string, unknown>)[key] = patch[key];
  if (patch.decidedBy !== undefined) {
    out.decidedById = patch.decidedBy?.directoryId ?? null;
    out.decidedByEmail = patch.decidedBy?.email ?? null;
    out.decidedByName = patch.decidedBy?.name ?? null;
    out.decidedBySlackId = patch.decidedBy?.slackId ?? null;
  }
  return out;
}

export function toReviewer(row: ReviewerRow): ReviewerRecord {
  return {
    campaignId: row.campaignId,
    reviewer: { directoryId: row.reviewerId, email: row.email, name: row.name, slackId: row.slackId },
    items: row.items,
    remindersSent: row.remindersSent,
  };
}

export function fromReviewer(r: ReviewerRecord): ReviewerRow {
  return {
    campaignId: r.campaignId,
    reviewerId: r.reviewer.directoryId,
    email: r.reviewer.email,
    name: r.reviewer.name,
    slackId: r.reviewer.slackId ?? null,
    items: r.items,
    remindersSent: r.remindersSent,
  };
}
