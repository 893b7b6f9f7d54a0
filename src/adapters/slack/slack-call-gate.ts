/**
 * Where the bot's own Slack calls (messages, DMs, uploads: everything the job runner sends) wait
 * for Slack's rate limits, so that one 429 slows every job using the same method instead of each
 * job finding the limit again.
 *
 * Slack counts its limits "per API method per workspace per app" (docs.slack.dev/apis/web-api/
 * rate-limits). chat.postMessage is limited per channel and per workspace, and a 429 does not say
 * which: it pauses the whole method too (a busy channel costs the others a second, never a
 * hammered workspace limit). A 429's `Retry-After` pauses that method in this process until it
 * has passed: a short pause is
 * waited out in-line, a long one ends the call at once with a rate-limited TransientError, which
 * the job runner waits out without counting an attempt. While a pause lasts, no call of that
 * method is sent at all ("no call before its Retry-After").
 */
import { ErrorCode } from '@slack/web-api';
import { TransientError } from '../../domain/errors.js';
import type { Clock, Logger } from '../../operations/ports.js';

export interface SlackCallGateOptions {
  clock: Clock;
  logger?: Logger;
  /** Pauses up to this long are waited out in the call; longer ones defer the job. Default 5 s. */
  maxInlineWaitMs?: number;
  /** How a pause is waited out; tests pass one that moves their clock. */
  sleep?: (ms: number) => Promise<void>;
}

const MAX_INLINE_RETRIES = 3;

export class SlackCallGate {
  private readonly pausedUntil = new Map<string, number>();
  private readonly maxInlineWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: SlackCallGateOptions) {
    this.maxInlineWaitMs = options.maxInlineWaitMs ?? 5_000;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /**
   * Runs one Web API call of `method` (`channel`, for the log: where a message goes). Throws the
   * WebClient's own error for anything but a rate limit.
   */
  async call<T>(method: string, send: () => Promise<T>, channel?: string): Promise<T> {
    const key = method;
    for (let attempt = 0; ; attempt++) {
      const waitMs = (this.pausedUntil.get(key) ?? 0) - this.now();
      if (waitMs > 0) {
        if (waitMs > this.maxInlineWaitMs || attempt > MAX_INLINE_RETRIES) {
          const what = `${method}: Slack rate limit (retry after ${Math.ceil(waitMs / 1000)} s)`;
          throw new TransientError(what, waitMs, { rateLimited: true });
        }
        await this.sleep(waitMs);
        continue;
      }
      try {
        return await send();
      } catch (error) {
        const retryAfter = retryAfterSeconds(error);
        if (retryAfter === undefined) throw error;
        const until = this.now() + retryAfter * 1000;
        this.pausedUntil.set(key, Math.max(until, this.pausedUntil.get(key) ?? 0));
        const where = channel ? { channel } : {};
        this.options.logger?.warn('slack.rate_limited', { method, ...where, retryAfterSeconds: retryAfter });
      }
    }
  }

  private now(): number {
    return this.options.clock.now().getTime();
  }
}

/** The Retry-After (seconds) of a 429 the WebClient rejected (`rejectRateLimitedCalls`), if it is one. */
function retryAfterSeconds(error: unknown): number | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const e = error as { code?: unknown; retryAfter?: unknown };
  if (e.code !== ErrorCode.RateLimitedError) return undefined;
  return typeof e.retryAfter === 'number' && e.retryAfter > 0 ? e.retryAfter : 1;
}
