/**
 * How long typed text may be, checked on the server whatever the form allowed: the same caps as
 * the Slack fields (`max_length` 3000 for justifications, 1000 for reasons), so a crafted payload
 * or the sandbox page cannot store megabytes in the audit log.
 */
import { AccessError } from './errors.js';

export const TEXT_LIMITS = {
  justification: 3000,
  reason: 1000,
  /** A break-glass grant's incident: a link or a ticket id. */
  incident: 500,
} as const;

export function assertTextWithin(text: string | undefined, limit: number, what: string): void {
  if (text !== undefined && text.length > limit) {
    throw new AccessError('too_long', `${what} is ${text.length} characters long; at most ${limit} are allowed.`);
  }
}
