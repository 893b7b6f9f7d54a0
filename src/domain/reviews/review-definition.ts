/**
 * Access review definitions as the core sees them: parsed, validated and normalised (durations in
 * seconds, camelCase keys). The YAML shape lives in `review-schema.ts`; reading the files of
 * `policies/reviews/` is an adapter's job (`adapters/policies/load-reviews.ts`).
 */
import type { PeopleRule } from '../policy.js';

/** Who reviews an item: the holder's manager, one named person, or any member of a group. */
export type ReviewerRule = { kind: 'manager' } | PeopleRule;

/** The fallback names people directly: a manager fallback would be the manager missing again. */
export type FallbackReviewer = Exclude<ReviewerRule, { kind: 'manager' }>;

/** A role in scope: the active grants of this app and role are reviewed. */
export interface ReviewScopeRole {
  app: string;
  role: string;
}

export interface ReviewDefinition {
  /** The review's id (`review:` in the file), unique across files. */
  id: string;
  name: string;
  description?: string;
  /** node-cron expression in the settings' time zone; null: started by hand only. */
  schedule: string | null;
  scope: { roles: ReviewScopeRole[]; groups: string[] };
  reviewer: ReviewerRule;
  /** When the reviewer is missing, inactive, or the holder; the admin group unless the file names one. */
  fallbackReviewer: FallbackReviewer;
  /** How long after the start the review is due. */
  dueSeconds: number;
  /** Lead times before the due time, longest first. */
  remindersSeconds: number[];
  /** What happens at the due time to items nobody decided. */
  undecided: 'keep' | 'revoke';
  /** What Revoke does to standing group membership: removed through the directory, or reported. */
  remediate: 'remove' | 'report';
}

export interface LoadedReview extends ReviewDefinition {
  source: { file: string };
}

/** The reviews in force, by id. */
export class ReviewCatalog {
  private readonly byId = new Map<string, LoadedReview>();

  constructor(readonly reviews: readonly LoadedReview[] = []) {
    for (const review of reviews) this.byId.set(review.id, review);
  }

  find(id: string): LoadedReview | undefined {
    return this.byId.get(id);
  }

  all(): LoadedReview[] {
    return [...this.byId.values()];
  }
}

/** `github/owner`, the way a scope names a role. */
export function roleRef(role: ReviewScopeRole): string {
  return `${role.app}/${role.role}`;
}
