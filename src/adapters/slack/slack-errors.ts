/**
 * Slack Web API failures sorted for the job runner: "retry later" (TransientError) or "gone"
 * (PermanentError). The WebClient itself never retries (retries: 0, rate-limited calls rejected):
 * the job runner is the one place that retries, with backoff, and logs each failure.
 */
import { ErrorCode } from '@slack/web-api';
import { PermanentError, TransientError } from '../../domain/errors.js';

/**
 * `ok:false` codes that no retry can fix: the target does not exist or cannot take messages, or our
 * payload is wrong. `user_disabled` (conversations.open: a deactivated account), `is_inactive`
 * (chat.update in a frozen or archived channel) and `msg_blocks_too_long` (chat.postMessage) are
 * documented on their method pages (SLK-REF). Everything else (ratelimited, internal_error,
 * fatal_error, service_unavailable, not_in_channel (an admin may still invite the bot), token
 * problems an operator fixes) is retried. `channel_not_found` is permanent here; the notifier
 * treats it as an operator's problem (retried, and alerted) for the channels it is configured with.
 */
const PERMANENT_CODES = new Set([
  'channel_not_found',
  'user_not_found',
  'users_not_found',
  'is_archived',
  'invalid_blocks',
  'invalid_blocks_format',
  'invalid_arguments',
  'msg_too_long',
  'msg_blocks_too_long',
  'no_text',
  'cant_update_message',
  'user_is_bot',
  'cannot_dm_bot',
  'invalid_channel',
  'restricted_action',
  'too_many_attachments',
  'view_too_large',
  'user_disabled',
  'is_inactive',
]);

export interface SlackCallError {
  code: string;
  slackError?: string;
  retryAfterSeconds?: number;
  statusCode?: number;
}

/** The code of a WebClient error, or undefined when it is not one. */
function slackErrorOf(error: unknown): SlackCallError | undefined {
  if (!error || typeof error !== 'object' || !('code' in error)) return undefined;
  const e = error as { code: string; data?: { error?: string }; retryAfter?: number; statusCode?: number };
  if (!Object.values(ErrorCode).includes(e.code as ErrorCode)) return undefined;
  return { code: e.code, slackError: e.data?.error, retryAfterSeconds: e.retryAfter, statusCode: e.statusCode };
}

/** The Slack error code of a platform error (`channel_not_found`), if that is what it is. */
export function platformError(error: unknown): string | undefined {
  const e = slackErrorOf(error);
  return e?.code === ErrorCode.PlatformError ? e.slackError : undefined;
}

export function classifySlackError(error: unknown, what: string): Error {
  const e = slackErrorOf(error);
  if (!e) return error instanceof Error ? error : new Error(String(error));
  switch (e.code) {
    case ErrorCode.RateLimitedError:
      return new TransientError(
        `${what}: Slack rate limit (retry after ${e.retryAfterSeconds ?? '?'} s)`,
        (e.retryAfterSeconds ?? 1) * 1000,
        { cause: error, rateLimited: true },
      );
    case ErrorCode.PlatformError: {
      const code = e.slackError ?? 'unknown_error';
      if (PERMANENT_CODES.has(code)) return new PermanentError(`${what}: Slack answered ${code}`, { cause: error });
      return new TransientError(`${what}: Slack answered ${code}`, code === 'ratelimited' ? 30_000 : undefined, {
        cause: error,
      });
    }
    case ErrorCode.HTTPError:
      if (e.statusCode !== undefined && e.statusCode >= 400 && e.statusCode < 500 && e.statusCode !== 408) {
        return new PermanentError(`${what}: Slack answered HTTP ${e.statusCode}`, { cause: error });
      }
      return new TransientError(`${what}: Slack answered HTTP ${e.statusCode ?? '?'}`, undefined, { cause: error });
    case ErrorCode.RequestError:
      return new TransientError(`${what}: Slack could not be reached`, undefined, { cause: error });
    default:
      return new TransientError(`${what}: ${error instanceof Error ? error.message : String(error)}`, undefined, {
        cause: error,
      });
  }
}
