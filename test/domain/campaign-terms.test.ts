/**
 * A campaign follows its definition as it was when it started: the snapshot written at the start
 * (canonicalReviewDefinition) reads back as the same terms, and a snapshot missing a key (written
 * by an older version) reads as the definition's defaults.
 */
import { describe, expect, it } from 'vitest';
import type { ReviewDefinition } from '../../src/domain/reviews/review-definition.js';
import { campaignTerms, canonicalReviewDefinition } from '../../src/domain/reviews/review-version.js';

const review: ReviewDefinition = {
  id: 'quarterly',
  name: 'Quarterly review',
  schedule: null,
  scope: {
    roles: [
      { app: 'aws', role: 'admin' },
      { app: 'github', role: 'owner' },
    ],
    groups: ['prod-db'],
  },
  reviewer: { kind: 'manager' },
  fallbackReviewer: { kind: 'group', group: 'security' },
  dueSeconds: 14 * 86_400,
  remindersSeconds: [86_400, 7 * 86_400],
  undecided: 'revoke',
  remediate: 'remove',
};

describe('campaign terms', () => {
  it('reads back what the start wrote: undecided, remediation, reminders longest first, roles in scope', () => {
    const definition = JSON.parse(JSON.stringify(canonicalReviewDefinition(review))) as Record<string, unknown>;
    expect(campaignTerms({ definition })).toEqual({
      undecided: 'revoke',
      remediate: 'remove',
      remindersSeconds: [7 * 86_400, 86_400],
      scopeRoles: ['aws/admin', 'github/owner'],
    });
  });

  it('falls back to keep, report, no reminders and no roles for a snapshot without those keys', () => {
    expect(campaignTerms({ definition: { review: 'old', reminders: ['soon', 3] } })).toEqual({
      undecided: 'keep',
      remediate: 'report',
      remindersSeconds: [],
      scopeRoles: [],
    });
  });
});
