/**
 * Errors the core raises, each with a code callers branch on and a message a person can read.
 * "Retry later" (transient) is kept apart from "gone" (permanent) so job runners know what to do.
 */
export type AccessErrorCode =
  | 'not_found'
  | 'not_eligible'
  | 'self_approval'
  | 'already_decided_step'
  | 'not_an_approver'
  | 'approver_inactive'
  | 'stale_decision'
  | 'task_cancelled'
  | 'deadline_passed'
  | 'wrong_workspace'
  | 'too_long'
  | 'not_requester'
  | 'not_holder'
  | 'not_admin'
  | 'not_assignee'
  | 'invalid_duration'
  | 'justification_required'
  | 'already_pending'
  | 'already_held'
  | 'extension_not_allowed'
  | 'extension_exceeds_limit'
  | 'reason_required'
  | 'identity_conflict'
  | 'identity_ambiguous'
  | 'identity_unknown'
  | 'identity_mismatch'
  | 'person_inactive'
  | 'invalid_state'
  | 'unknown_role'
  | 'unsatisfiable_chain'
  | 'break_glass_not_allowed'
  | 'self_review'
  | 'not_a_reviewer'
  | 'invalid_delegation'
  | 'directory_unavailable'
  | 'provisioning_failed'
  | 'permanent_failure'
  | 'transient_failure'
  | 'unknown_review'
  | 'review_open'
  | 'review_closed'
  | 'not_a_reviewer'
  | 'self_review';

export class AccessError extends Error {
  constructor(
    readonly code: AccessErrorCode,
    message: string,
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'AccessError';
  }
}

/** A failure worth retrying later: a timeout, a 5xx, a 429, a network error. */
export class TransientError extends Error {
  /**
   * The service asked us to slow down (HTTP 429 with a retry time): nothing is wrong with the
   * work itself, so a job runner waits `retryAfterMs` without counting it as a failed attempt.
   */
  readonly rateLimited: boolean;

  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: { cause?: unknown; rateLimited?: boolean },
  ) {
    super(message, options);
    this.name = 'TransientError';
    this.rateLimited = options?.rateLimited ?? false;
  }
}

/** A failure that retrying cannot fix: a 404 group, a 4xx from a webhook, a bad configuration. */
export class PermanentError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PermanentError';
  }
}

export function isAccessError(error: unknown, code?: AccessErrorCode): error is AccessError {
  return error instanceof AccessError && (code === undefined || error.code === code);
}
