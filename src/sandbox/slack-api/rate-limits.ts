/**
 * Slack's Web API rate limits, as the stand-in enforces them: HTTP 429 with `Retry-After` (whole
 * seconds) once a method's budget for the current window is spent.
 *
 * Sources:
 * - https://docs.slack.dev/apis/web-api/rate-limits (also api.slack.com/docs/rate-limits): limits
 *   are counted "per API method per workspace per app"; Tier 1 1+/min, Tier 2 20+/min, Tier 3
 *   50+/min, Tier 4 100+/min; chat.postMessage "generally allows posting one message per second
 *   per channel, while also maintaining a workspace-wide limit" ("Posting messages: 1 per second.
 *   Short bursts >1 allowed"; the workspace limit is "several hundred messages per minute").
 * - The tier of each method: slack-ruby/slack-api-ref @ f4837c0c, `docs.slack.dev/methods/<method>.json`
 *   (`rate_limits`: t1..t4, t5 = special).
 *
 * The documented numbers are minimums ("50+"), and Slack does not document its window algorithm:
 * the stand-in uses the minimum per fixed window of 60 s that starts with the window's first call,
 * so a bot that stays inside it stays inside Slack's. For chat.postMessage the per-channel limit is
 * a token bucket of one message per second holding a short burst of 3 (our reading of "short
 * bursts >1 allowed"), and the workspace-wide limit 300 per minute (the low end of "several
 * hundred"). `auth.test` is special-tier without numbers and is not limited.
 */

export type RateTier = 1 | 2 | 3 | 4;

/** Requests per 60 s window per tier (the documented minimums). */
export const TIER_LIMITS: Readonly<Record<RateTier, number>> = { 1: 1, 2: 20, 3: 50, 4: 100 };

/** The tier of each method the stand-in answers (SLK-REF `rate_limits`). */
export const METHOD_TIERS: Readonly<Record<string, RateTier>> = {
  'apps.connections.open': 3,
  'chat.delete': 3,
  'chat.update': 3,
  'chat.postEphemeral': 4,
  'conversations.info': 3,
  'conversations.open': 3,
  'files.completeUploadExternal': 4,
  'files.getUploadURLExternal': 4,
  'users.info': 4,
  'users.lookupByEmail': 3,
  'views.open': 4,
  'views.publish': 4,
  'views.push': 4,
  'views.update': 4,
};

export const POST_MESSAGE_PER_CHANNEL = { perSecond: 1, burst: 3 } as const;
export const POST_MESSAGE_WORKSPACE_PER_MINUTE = 300;
const WINDOW_MS = 60_000;

export interface RateLimitOptions {
  /**
   * Multiplies every window and refill period (default 1: Slack's values). Tests that must not
   * wait real seconds either share a fake clock with the bot (no scaling needed) or scale the
   * windows down; the sandbox always runs with 1.
   */
  windowScale?: number;
}

/** What one call costs: allowed, or refused with the whole seconds to wait. */
export type RateDecision = { limited: false } | { limited: true; retryAfterSeconds: number; key: string };

interface Window {
  startedAt: number;
  used: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class SlackRateLimiter {
  private readonly scale: number;
  private readonly windows = new Map<string, Window>();
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly now: () => number,
    options: RateLimitOptions = {},
  ) {
    const scale = options.windowScale ?? 1;
    if (!(scale > 0)) throw new Error(`windowScale must be positive, got ${scale}`);
    this.scale = scale;
  }

  /**
   * Spends one call of `method` (for chat.postMessage, on `channel`, the conversation it resolves
   * to). A refused call spends nothing, as Slack does not count a 429 against the window.
   */
  take(method: string, channel?: string): RateDecision {
    if (method === 'chat.postMessage') return this.takePost(channel ?? '');
    const tier = METHOD_TIERS[method];
    if (tier === undefined) return { limited: false };
    return this.takeWindow(`method:${method}`, TIER_LIMITS[tier]);
  }

  private takePost(channel: string): RateDecision {
    const key = `chat.postMessage:${channel}`;
    const now = this.now();
    const periodMs = (1000 * this.scale) / POST_MESSAGE_PER_CHANNEL.perSecond;
    const bucket = this.buckets.get(key) ?? { tokens: POST_MESSAGE_PER_CHANNEL.burst, at: now };
    const refilled = Math.min(POST_MESSAGE_PER_CHANNEL.burst, bucket.tokens + (now - bucket.at) / periodMs);
    if (refilled < 1) {
      this.buckets.set(key, { tokens: refilled, at: now });
      return { limited: true, retryAfterSeconds: seconds((1 - refilled) * periodMs), key };
    }
    // The workspace-wide window is checked before the channel's token is spent.
    const workspace = this.takeWindow('chat.postMessage:workspace', POST_MESSAGE_WORKSPACE_PER_MINUTE);
    if (workspace.limited) {
      this.buckets.set(key, { tokens: refilled, at: now });
      return workspace;
    }
    this.buckets.set(key, { tokens: refilled - 1, at: now });
    return { limited: false };
  }

  private takeWindow(key: string, limit: number): RateDecision {
    const now = this.now();
    const length = WINDOW_MS * this.scale;
    let window = this.windows.get(key);
    if (!window || now >= window.startedAt + length) {
      window = { startedAt: now, used: 0 };
      this.windows.set(key, window);
    }
    if (window.used >= limit) {
      return { limited: true, retryAfterSeconds: seconds(window.startedAt + length - now), key };
    }
    window.used++;
    return { limited: false };
  }
}

/** Retry-After is whole seconds: rounded up, so a client that waits it is never early. */
function seconds(ms: number): number {
  return Math.max(1, Math.ceil(ms / 1000));
}
