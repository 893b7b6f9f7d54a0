/**
 * The one place where calls to Okta wait, retry and give up.
 *
 * Every HTTP request the Okta SDK makes (API calls, each page of a collection, the OAuth token
 * request) passes through `OktaCallGate.run`, because the SDK's own retries are switched off.
 * The gate:
 *  - bounds concurrency (Okta's concurrent-request limit is per org and shared with every other
 *    integration; Okta recommends 5 or fewer from one client);
 *  - reads `X-Rate-Limit-Limit/-Remaining/-Reset` from every response and spreads the remaining
 *    budget evenly until the reset, so the per-minute limit is rarely hit;
 *  - on 429 waits until the reset, then retries; a concurrency 429 (too many requests in flight
 *    org-wide, reported with X-Rate-Limit-Limit and -Remaining 0 and an estimated reset) is waited
 *    out with a short backoff instead and leaves the per-minute bucket as it was;
 *  - retries 5xx answers and network errors with exponential backoff and jitter, a bounded number
 *    of times, then throws `TransientError`.
 * Everything else (2xx, 4xx) is handed back to the SDK untouched.
 */
import { TransientError } from '../../domain/errors.js';
import type { Logger } from '../../operations/ports.js';
import type { SharedRateWindows, WindowAnswer } from './shared-rate-windows.js';

/** The part of a fetch response the gate reads. */
export interface GateResponse {
  status: number;
  headers: { get(name: string): string | null };
  /** Drains the body of a response the gate discards, so a keep-alive socket is freed. */
  text?(): Promise<string>;
}

export interface GateRequest {
  method: string;
  url: string;
}

export interface OktaCallGateOptions {
  /** Requests on the wire at once. Default 5. */
  concurrency?: number;
  /** Attempts for a request answered 5xx or failing on the network, first one included. Default 4. */
  maxAttempts?: number;
  /** First backoff delay; doubles per attempt, with full jitter. Default 250 ms. */
  baseDelayMs?: number;
  /** Cap on one backoff delay. Default 8 s. */
  maxDelayMs?: number;
  /** How many 429 answers one request may wait out before giving up. Default 5. */
  maxRateLimitWaits?: number;
  /**
   * A 429 whose reset is further away than this is not waited for in-line: the caller gets a
   * TransientError carrying `retryAfterMs` and its job runner retries later. Default 90 s.
   */
  maxRateLimitWaitMs?: number;
  /** Safety margin after a reset before the next window is used. Default 50 ms. */
  resetMarginMs?: number;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  logger?: Logger;
  /**
   * Rate-limit windows shared with the other replicas (through the database): every replica paces
   * against one budget per bucket. Without it the gate paces on what this process saw.
   */
  shared?: SharedRateWindows;
}

/** What the gate knows about one rate-limit bucket, from the latest response. */
interface BucketState {
  limit: number;
  remaining: number;
  /** Local epoch ms at which Okta opens the next window. */
  resetAt: number;
}

export interface GateStats {
  /** Requests put on the wire (retries included). */
  sent: number;
  /** 429 answers received. */
  rateLimited: number;
  /** 5xx answers and network errors that were retried. */
  retried: number;
  /** Requests that ended in TransientError. */
  gaveUp: number;
  /** Total time spent waiting for pacing, 429 resets and backoff (ms, summed over requests). */
  waitedMs: number;
}

const RETRYABLE_STATUS = new Set([500, 502, 503, 504]);
const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
]);

const noopLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export class OktaCallGate {
  private readonly concurrency: number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxRateLimitWaits: number;
  private readonly maxRateLimitWaitMs: number;
  private readonly resetMarginMs: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly logger: Logger;
  private readonly shared: SharedRateWindows | undefined;

  private active = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private readonly buckets = new Map<string, BucketState>();
  private readonly inFlight = new Map<string, number>();
  private readonly lastSentAt = new Map<string, number>();
  private readonly sendTimes = new Map<string, number[]>();
  /** Per bucket, pacing decisions are taken one at a time, each with the latest state. */
  private readonly paceChains = new Map<string, Promise<void>>();
  private readonly responseWaiters = new Map<string, (() => void)[]>();
  private readonly counters: GateStats = { sent: 0, rateLimited: 0, retried: 0, gaveUp: 0, waitedMs: 0 };

  constructor(options: OktaCallGateOptions = {}) {
    this.concurrency = positive(options.concurrency, 5, 'concurrency');
    this.maxAttempts = positive(options.maxAttempts, 4, 'maxAttempts');
    this.baseDelayMs = options.baseDelayMs ?? 250;
    this.maxDelayMs = options.maxDelayMs ?? 8_000;
    this.maxRateLimitWaits = options.maxRateLimitWaits ?? 5;
    this.maxRateLimitWaitMs = options.maxRateLimitWaitMs ?? 90_000;
    this.resetMarginMs = options.resetMarginMs ?? 50;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.logger = options.logger ?? noopLogger;
    this.shared = options.shared;
  }

  stats(): GateStats {
    return { ...this.counters };
  }

  /** The rate-limit state per bucket, as last reported by Okta (for /healthz and the bench). */
  rateLimits(): Record<string, { limit: number; remaining: number; resetAt: string }> {
    const out: Record<string, { limit: number; remaining: number; resetAt: string }> = {};
    for (const [key, s] of this.buckets) {
      out[key] = { limit: s.limit, remaining: s.remaining, resetAt: new Date(s.resetAt).toISOString() };
    }
    return out;
  }

  /**
   * Sends one request through the gate and returns the answer Okta gave it, which is never a
   * 429 or a 5xx: those are waited out or retried here, and end in `TransientError`.
   */
  async run<R extends GateResponse>(request: GateRequest, send: () => Promise<R>): Promise<R> {
    const bucket = bucketOf(request.url);
    const what = `${request.method.toUpperCase()} ${pathOf(request.url)}`;
    let attempt = 0;
    let rateLimitWaits = 0;
    for (;;) {
      // Whether the request holds a place in the shared window (else it paced on this process's view).
      let reserved = false;
      if (this.shared) reserved = await this.reserveShared(bucket, this.shared);
      else await this.pace(bucket);
      await this.acquireSlot();
      let response: R | undefined;
      let failure: unknown;
      this.counters.sent++;
      try {
        response = await send();
      } catch (error) {
        failure = error;
      } finally {
        this.releaseSlot();
        this.inFlight.set(bucket, (this.inFlight.get(bucket) ?? 1) - 1);
      }

      if (response !== undefined) {
        const concurrency = response.status === 429 && isConcurrencyLimit(response);
        if (!concurrency) await this.record(bucket, response, reserved);
        else {
          await this.observeShared(bucket, null, reserved);
          this.notify(bucket);
        }
        if (response.status === 429) {
          this.counters.rateLimited++;
          rateLimitWaits++;
          await drain(response);
          const state = this.buckets.get(bucket);
          // Concurrency: another request finishing frees a slot, usually within a moment; Okta's
          // reset is "only a suggested value" (rl2-monitor), so a short backoff, not the minute.
          const waitMs = concurrency
            ? this.backoff(rateLimitWaits)
            : state
              ? Math.max(0, state.resetAt - this.now()) + this.resetMarginMs
              : this.backoff(1);
          if (rateLimitWaits > this.maxRateLimitWaits || waitMs > this.maxRateLimitWaitMs) {
            this.counters.gaveUp++;
            throw new TransientError(
              `Okta ${concurrency ? 'concurrency' : 'rate'} limit reached for ${what}; ` +
                `retry after ${Math.ceil(waitMs / 1000)} s`,
              waitMs,
              { rateLimited: true },
            );
          }
          const event = concurrency ? 'okta.concurrency_limited' : 'okta.rate_limited';
          this.logger.warn(event, { request: what, waitMs, bucket });
          await this.wait(waitMs);
          continue;
        }
        if (RETRYABLE_STATUS.has(response.status)) {
          attempt++;
          await drain(response);
          if (attempt >= this.maxAttempts) {
            this.counters.gaveUp++;
            throw new TransientError(`Okta answered ${response.status} to ${what} ${attempt} times; giving up for now`);
          }
          this.counters.retried++;
          const delay = this.backoff(attempt);
          this.logger.warn('okta.retrying', { request: what, status: response.status, attempt, delayMs: delay });
          await this.wait(delay);
          continue;
        }
        return response;
      }

      await this.observeShared(bucket, null, reserved);
      this.notify(bucket);
      if (!isRetryableNetworkError(failure)) throw failure;
      attempt++;
      const reason = describeNetworkError(failure);
      if (attempt >= this.maxAttempts) {
        this.counters.gaveUp++;
        throw new TransientError(`Okta unreachable for ${what} after ${attempt} attempts: ${reason}`, undefined, {
          cause: failure,
        });
      }
      this.counters.retried++;
      const delay = this.backoff(attempt);
      this.logger.warn('okta.retrying', { request: what, error: reason, attempt, delayMs: delay });
      await this.wait(delay);
    }
  }

  /** Exponential backoff with full jitter: uniform in [base*2^(n-1)/2, base*2^(n-1)], capped. */
  private backoff(attempt: number): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    return Math.round(ceiling / 2 + (this.random() * ceiling) / 2);
  }

  private async wait(ms: number): Promise<void> {
    if (ms <= 0) return;
    this.counters.waitedMs += ms;
    await this.sleep(ms);
  }

  /**
   * Waits until this request may be sent without spending the bucket's budget before its reset:
   * requests are spaced by (time to reset) / (budget left), so a full window's worth of work
   * finishes just as the window ends instead of hitting 429 half-way.
   */
  private async pace(bucket: string): Promise<void> {
    const previous = this.paceChains.get(bucket) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const chain = previous.then(() => mine);
    this.paceChains.set(bucket, chain);
    await previous;
    try {
      for (;;) {
        const now = this.now();
        const state = this.buckets.get(bucket);
        const inFlight = this.inFlight.get(bucket) ?? 0;
        const lastSent = this.lastSentAt.get(bucket) ?? 0;
        if (!state || now >= state.resetAt + this.resetMarginMs) {
          // A new (or first) window: nothing is known about its budget until one answer comes
          // back, so one probe goes and the others wait for its headers (at most a second).
          if (inFlight > 0 && (!state || lastSent >= state.resetAt)) {
            await this.waitForResponse(bucket, 1_000);
            continue;
          }
          break;
        }
        const budget = state.remaining - inFlight;
        if (budget <= 0) {
          await this.wait(state.resetAt + this.resetMarginMs - now);
          continue;
        }
        // While the budget outlasts the window at the current pace, send at once: interactive
        // bursts stay fast. Only sustained traffic that would spend it early is spread out.
        const timeLeft = state.resetAt - now;
        if ((this.recentSends(bucket, now) * timeLeft) / 1000 < budget) break;
        const interval = timeLeft / budget;
        const due = lastSent + interval;
        if (due > now) {
          await this.wait(Math.ceil(due - now));
          continue;
        }
        break;
      }
      const sentAt = this.now();
      this.lastSentAt.set(bucket, sentAt);
      const sends = this.sendTimes.get(bucket) ?? [];
      sends.push(sentAt);
      this.sendTimes.set(bucket, sends);
      this.inFlight.set(bucket, (this.inFlight.get(bucket) ?? 0) + 1);
    } finally {
      release();
      if (this.paceChains.get(bucket) === chain) this.paceChains.delete(bucket);
    }
  }

  /** Requests sent to this bucket in the last second. */
  private recentSends(bucket: string, now: number): number {
    const sends = this.sendTimes.get(bucket);
    if (!sends) return 0;
    while (sends.length > 0 && sends[0]! <= now - 1_000) sends.shift();
    return sends.length;
  }

  private waitForResponse(bucket: string, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const list = this.responseWaiters.get(bucket) ?? [];
      list.push(done);
      this.responseWaiters.set(bucket, list);
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  /**
   * The place of this request in the bucket's window shared by every replica: waits for its slot
   * (or for the probe of a new window, or the reset after a 429), then counts it as in flight. When
   * the database cannot be reached, this process paces on its own view instead: slower to agree
   * with the others, never stopped.
   */
  private async reserveShared(bucket: string, shared: SharedRateWindows): Promise<boolean> {
    for (;;) {
      let reservation;
      try {
        reservation = await shared.reserve(bucket, this.resetMarginMs);
      } catch (error) {
        this.logger.warn('okta.shared_budget_unavailable', {
          bucket,
          error: error instanceof Error ? error.message : String(error),
        });
        await this.pace(bucket);
        return false;
      }
      if (reservation.go) {
        await this.wait(reservation.at - this.now());
        break;
      }
      await this.wait(reservation.retryInMs);
    }
    this.lastSentAt.set(bucket, this.now());
    this.inFlight.set(bucket, (this.inFlight.get(bucket) ?? 0) + 1);
    return true;
  }

  /** Keeps the freshest view of the bucket; remaining only goes down within one window. */
  private async record(bucket: string, response: GateResponse, reserved: boolean): Promise<void> {
    const limit = intHeader(response, 'x-rate-limit-limit');
    const remaining = intHeader(response, 'x-rate-limit-remaining');
    const reset = intHeader(response, 'x-rate-limit-reset');
    let answer: WindowAnswer | null = null;
    if (limit !== undefined && remaining !== undefined && reset !== undefined) {
      const resetAt = reset * 1000 - this.clockSkew(response);
      const current = this.buckets.get(bucket);
      const effectiveRemaining = response.status === 429 ? 0 : remaining;
      if (!current || resetAt > current.resetAt) {
        this.buckets.set(bucket, { limit, remaining: effectiveRemaining, resetAt });
      } else if (resetAt === current.resetAt) {
        current.remaining = Math.min(current.remaining, effectiveRemaining);
        current.limit = limit;
      }
      answer = { limit, remaining, resetAt, rateLimited: response.status === 429 };
    }
    await this.observeShared(bucket, answer, reserved);
    this.notify(bucket);
  }

  /**
   * Tells the shared window that a request came back (with what its headers said of the window,
   * or null): it is no longer in flight there. A request that did not reserve its place there (the
   * database was out of reach) still reports its headers.
   */
  private async observeShared(bucket: string, answer: WindowAnswer | null, reserved: boolean): Promise<void> {
    if (!this.shared || (!reserved && answer === null)) return;
    try {
      await this.shared.observe(bucket, answer, { reserved });
    } catch (error) {
      this.logger.warn('okta.shared_budget_unavailable', {
        bucket,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }

  private notify(bucket: string): void {
    const waiters = this.responseWaiters.get(bucket);
    if (waiters) {
      this.responseWaiters.delete(bucket);
      for (const w of waiters) w();
    }
  }

  /**
   * How far Okta's clock is ahead of ours, from the `Date` header. The header has one-second
   * resolution, so a difference under 1.5 s is read as "in sync" (NTP-synced hosts are): using
   * it would shift every reset by up to a second and waste that much of each window.
   */
  private clockSkew(response: GateResponse): number {
    const date = response.headers.get('date');
    if (!date) return 0;
    const serverNow = Date.parse(date);
    if (Number.isNaN(serverNow)) return 0;
    const skew = serverNow - this.now();
    return Math.abs(skew) < 1_500 ? 0 : skew;
  }

  private acquireSlot(): Promise<void> {
    if (this.active < this.concurrency) {
      this.active++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.slotWaiters.push(resolve));
  }

  private releaseSlot(): void {
    const next = this.slotWaiters.shift();
    if (next) next();
    else this.active--;
  }
}

/**
 * The rate-limit bucket a request counts against, as far as the client can tell: the path with
 * ids replaced (`/api/v1/groups/{id}/users/{id}`). Okta's own buckets are coarser for some
 * endpoints ("most other API actions"); then the bucket's headers are shared and a 429 may
 * still happen, which is waited out.
 */
export function bucketOf(url: string): string {
  const segments = pathOf(url)
    .split('/')
    .filter((s) => s.length > 0);
  // /api/v1/<collection>/<id>/<sub-collection>/<id>: every second segment after the version is an id.
  return (
    '/' +
    segments
      .map((segment, index) => (index >= 3 && index % 2 === 1 && segments[0] === 'api' ? '{id}' : segment))
      .join('/')
  );
}

function pathOf(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return url.split('?')[0] ?? url;
  }
}

function intHeader(response: GateResponse, name: string): number | undefined {
  const raw = response.headers.get(name);
  // Duplicate headers arrive comma-joined; Okta documents them as a known fault (OKTA-112507).
  if (raw === null || raw.includes(',')) return undefined;
  const value = Number.parseInt(raw, 10);
  return Number.isFinite(value) ? value : undefined;
}

/**
 * A 429 for too many requests in flight rather than for the bucket: "The first two header values
 * are always 0 for concurrent rate limit errors" (okta-developer-docs reference/rl2-monitor).
 */
function isConcurrencyLimit(response: GateResponse): boolean {
  return intHeader(response, 'x-rate-limit-limit') === 0 && intHeader(response, 'x-rate-limit-remaining') === 0;
}

async function drain(response: GateResponse): Promise<void> {
  try {
    await response.text?.();
  } catch {
    // The body of an answer we discard does not matter.
  }
}

function isRetryableNetworkError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const e = error as Error & { code?: unknown; type?: unknown; errno?: unknown };
  if (typeof e.code === 'string' && RETRYABLE_NETWORK_CODES.has(e.code)) return true;
  // node-fetch v2 FetchError: type 'system' (socket errors) or 'request-timeout'.
  return e.name === 'FetchError' && (e.type === 'system' || e.type === 'request-timeout' || e.type === 'body-timeout');
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as Error & { code?: unknown }).code;
  return typeof code === 'string' ? `${code} (${error.message})` : error.message;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`OktaCallGate: ${name} must be a positive integer, got ${value}`);
  return value;
}
