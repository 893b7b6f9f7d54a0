/**
 * The access review export: one row per item, the columns PRODUCT.md lists first (in its order),
 * then what an auditor tests besides: how the access was obtained, the reviewer rule, the seconds
 * from the decider's first look to the decision, and the audit event that verified each removal.
 * Documented in README.md ("Audit evidence exports"). Pure: records in, cells out.
 *
 * The population hash of each row's campaign can be recomputed from the rows themselves:
 * SHA-256 of the sorted `holder_okta_id<TAB>access<TAB>source` lines, joined with LF
 * (domain/reviews/population.ts), over the campaign's `population_count` rows.
 */
import { accessLabel, sourceLabel, type ReviewItem } from '../../domain/reviews/review-records.js';
import type { ReviewerRule } from '../../domain/reviews/review-definition.js';
import type { Cell, ReviewExportRecord } from './export-ports.js';

export const REVIEW_COLUMNS = [
  'review_id',
  'campaign_id',
  'started_at',
  'due_at',
  'closed_at',
  'population_hash',
  'holder_email',
  'holder_okta_id',
  'access',
  'source',
  'reviewer',
  'decision',
  'reason',
  'decided_at',
  'remediation_status',
  'removal_verified_at',
  // Beyond the list in PRODUCT.md:
  'population_count',
  'review_version',
  'item_id',
  'holder_name',
  'how_obtained',
  'reviewer_rule',
  'seconds_to_decision',
  'remediation_detail',
  'remediation_event_seq',
] as const;

export function reviewRow({ campaign: c, item: i }: ReviewExportRecord): Cell[] {
  return [
    c.reviewId,
    c.id,
    c.startedAt,
    c.dueAt,
    c.closedAt,
    c.populationHash,
    i.holder.email,
    i.holder.directoryId,
    accessLabel(i.access),
    sourceLabel(i.source),
    i.decidedBy?.email ?? i.reviewer.label,
    // A campaign still open shows its undecided items as pending.
    i.decision,
    i.reason,
    i.decidedAt,
    i.remediation,
    i.remediation === 'removed' ? i.remediatedAt : null,
    c.populationCount,
    c.version,
    i.id,
    i.holder.name,
    howObtained(i),
    ruleText(i.reviewer.rule) + (i.reviewer.fallbackReason ? ` (fallback: ${i.reviewer.fallbackReason})` : ''),
    i.secondsToDecision,
    i.remediationDetail,
    i.remediationEventSeq,
  ];
}

function howObtained(item: ReviewItem): string {
  const s = item.source;
  if (s.kind === 'standing') return 'standing membership (not granted by the bot)';
  const since = s.grantedAt ? ` since ${s.grantedAt}` : '';
  const until = s.expiresAt ? ` until ${s.expiresAt}` : '';
  return `grant ${s.grantId} (request ${s.requestId}), approved by ${s.approvedBy.join('; ')}${since}${until}`;
}

function ruleText(rule: ReviewerRule): string {
  switch (rule.kind) {
    case 'manager':
      return 'manager';
    case 'user':
      return `user:${rule.user}`;
    case 'group':
      return `group:${rule.group}`;
  }
}
