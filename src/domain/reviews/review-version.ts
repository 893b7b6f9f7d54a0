/**
 * A review definition's version, like a policy's: the SHA-256 of the canonical JSON of its
 * definition. Key order, YAML formatting, the order of the scope lists and the spelling of
 * durations do not change it; any rule change does.
 */
import { canonicalJson, sha256Hex } from '../canonical.js';
import { formatDuration, parseDuration } from '../duration.js';
import { roleRef, type ReviewDefinition, type ReviewerRule } from './review-definition.js';

export function canonicalReviewDefinition(review: ReviewDefinition): Record<string, unknown> {
  return {
    review: review.id,
    name: review.name,
    schedule: review.schedule ?? undefined,
    scope: {
      roles: review.scope.roles.map(roleRef).sort(),
      groups: [...review.scope.groups].sort(),
    },
    reviewer: canonicalRule(review.reviewer),
    fallback_reviewer: canonicalRule(review.fallbackReviewer),
    due: formatDuration(review.dueSeconds),
    reminders: review.remindersSeconds.map(formatDuration),
    undecided: review.undecided,
    remediate: review.remediate,
  };
}

/** What a running campaign follows of its definition as it was when it started. */
export interface CampaignTerms {
  undecided: ReviewDefinition['undecided'];
  remediate: ReviewDefinition['remediate'];
  /** Reminder lead times before the due time, in seconds, longest first. */
  remindersSeconds: number[];
  /** The roles in scope, as `app/role`. */
  scopeRoles: string[];
}

/**
 * Reads back the snapshot `canonicalReviewDefinition` wrote into the campaign (stored as JSON, so
 * untyped): the one place that knows its keys, with the defaults of a definition that lacks one.
 */
export function campaignTerms(campaign: { definition: Record<string, unknown> }): CampaignTerms {
  const d = campaign.definition as {
    undecided?: unknown;
    remediate?: unknown;
    reminders?: unknown;
    scope?: { roles?: unknown };
  };
  const reminders = Array.isArray(d.reminders) ? d.reminders : [];
  const roles = Array.isArray(d.scope?.roles) ? d.scope.roles : [];
  return {
    undecided: d.undecided === 'revoke' ? 'revoke' : 'keep',
    remediate: d.remediate === 'remove' ? 'remove' : 'report',
    remindersSeconds: reminders
      .map((l) => (typeof l === 'string' ? parseDuration(l) : null))
      .filter((l): l is number => l !== null)
      .sort((a, b) => b - a),
    scopeRoles: roles.filter((r): r is string => typeof r === 'string'),
  };
}

function canonicalRule(rule: ReviewerRule): unknown {
  switch (rule.kind) {
    case 'manager':
      return 'manager';
    case 'user':
      return { user: rule.user.toLowerCase() };
    case 'group':
      return { group: rule.group };
  }
}

export function reviewVersion(review: ReviewDefinition): string {
  return sha256Hex(canonicalJson(canonicalReviewDefinition(review)));
}

/**
 * The name a review definition's versions are kept under, beside the policies' in the same store
 * table and export: `review:quarterly-sensitive`. A policy name cannot contain `:`
 * (POLICY_NAME_PATTERN), so the two never collide.
 */
export function reviewVersionName(reviewId: string): string {
  return `${REVIEW_VERSION_PREFIX}${reviewId}`;
}

export const REVIEW_VERSION_PREFIX = 'review:';
