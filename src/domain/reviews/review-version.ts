/**
 * A review definition's version, like a policy's: the SHA-256 of the canonical JSON of its
 * definition. Key order, YAML formatting, the order of the scope lists and the spelling of
 * durations do not change it; any rule change does.
 */
import { canonicalJson, sha256Hex } from '../canonical.js';
import { formatDuration } from '../duration.js';
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
