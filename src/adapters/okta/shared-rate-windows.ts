/**
 * One Okta budget for every replica. Okta's rate limits are per org, per endpoint bucket, per
 * minute, whatever number of processes call it; so with several replicas, what one replica learns
 * about a window (limit, remaining, reset) and every request it sends count for all. Each bucket's
 * window lives in the database (a `meta` row, `okta:rate:<bucket>`), and every request reserves its
 * place in it in a short transaction before it goes:
 *
 * - a window nobody knows (the first request, or the reset passed) lets one request go as a probe;
 *   the others wait for its answer's headers, at most a second;
 * - each reservation spends one request of the remaining budget (the answers' `Remaining` then
 *   only lowers it: never counted twice, never above what Okta said);
 * - while the budget outlasts the window at the current pace (measured over all replicas), a
 *   request goes at once: interactive bursts stay fast; sustained work is spread evenly over what
 *   is left of the window (`nextAt`: the time slot of the next request), so the replicas together
 *   use the whole minute's budget without a 429;
 * - a 429 sets the window's budget to 0 until its reset: no replica sends into it again;
 * - Okta counts a request in the window it arrives in, not the one it was reserved in: a request
 *   still in flight when the next window's first answer comes back (reserved near the end of a
 *   window, or waiting for a connection) may land in that window, after the answer whose
 *   `Remaining` opened it. Each reservation is in flight until its answer (or failure) is observed;
 *   a new window's budget is Okta's `Remaining` less the requests still in flight, and one of them
 *   that turns out to have landed in the window before gives its place back.
 *
 * Times are epoch milliseconds of the replicas' clocks, which must agree to well under a second
 * (NTP); Okta's reset header is corrected for Okta's own clock skew by each replica.
 */
import * as z from 'zod';
import type { Store } from '../../operations/ports.js';

/** A bucket's window, as all replicas know it. */
export interface SharedWindow {
  limit: number;
  /** Requests left in the window: Okta's last `Remaining`, less the reservations made since. */
  remaining: number;
  /** When Okta opens the next window (epoch ms); 0 when unknown. */
  resetAt: number;
  /** The earliest time the next paced request may go. */
  nextAt: number;
  /** When the last probe of an unknown window went. */
  probeAt: number;
  /** Requests per second over all replicas, decayed over about a second. */
  rate: number;
  rateAt: number;
  /** When each request reserved and not answered yet went (any replica); see `IN_FLIGHT_MAX_MS`. */
  inFlight: number[];
}

export type Reservation = { go: true; at: number } | { go: false; retryInMs: number };

const EMPTY: SharedWindow = {
  limit: 0,
  remaining: 0,
  resetAt: 0,
  nextAt: 0,
  probeAt: 0,
  rate: 0,
  rateAt: 0,
  inFlight: [],
};
/** How long the other requests wait for a probe's answer before another probe may go. */
const PROBE_WAIT_MS = 1_000;
/** How often a request waiting for a probe looks again. */
const PROBE_POLL_MS = 50;
/**
 * A request not answered after this long is no longer counted in flight: its replica died, or it
 * failed without saying so. Longer than any request the gate lets run (the SDK's timeouts).
 */
export const IN_FLIGHT_MAX_MS = 60_000;

/**
 * Decides one request's place in its bucket's window (a pure function: the store runs it under the
 * bucket's lock). Returns the new window and when the request may go, or when to ask again.
 */
export function reserve(
  current: SharedWindow | undefined,
  now: number,
  marginMs: number,
): { window: SharedWindow; reservation: Reservation } {
  const w = current ?? EMPTY;
  if (now >= w.resetAt + marginMs) {
    // An unknown window: one probe goes, the others wait for its headers.
    if (w.probeAt > w.resetAt && now - w.probeAt < PROBE_WAIT_MS)
      return { window: w, reservation: { go: false, retryInMs: PROBE_POLL_MS } };
    return { window: { ...w, probeAt: now, ...sent(w, now) }, reservation: { go: true, at: now } };
  }
  if (w.remaining <= 0) return { window: w, reservation: { go: false, retryInMs: w.resetAt + marginMs - now } };
  const timeLeft = w.resetAt - now;
  const pace = decayed(w, now);
  // The budget outlasts the window at the current pace: go at once.
  if ((pace * timeLeft) / 1000 < w.remaining) {
    return {
      window: { ...w, remaining: w.remaining - 1, nextAt: Math.max(w.nextAt, now), ...sent(w, now) },
      reservation: { go: true, at: now },
    };
  }
  const at = Math.max(now, w.nextAt);
  // A slot past the reset belongs to the next window, which is not known yet: ask again then.
  if (at >= w.resetAt) return { window: w, reservation: { go: false, retryInMs: w.resetAt + marginMs - now } };
  // What is left of the window from this slot on, shared evenly by what is left of the budget.
  const interval = (w.resetAt - at) / w.remaining;
  return {
    window: { ...w, remaining: w.remaining - 1, nextAt: at + interval, ...sent(w, at) },
    reservation: { go: true, at },
  };
}

/** The rate-limit headers of an answer. */
export interface WindowAnswer {
  limit: number;
  remaining: number;
  resetAt: number;
  rateLimited: boolean;
}

/**
 * A reserved request came back: what its answer's rate-limit headers say about the window (a 429:
 * nothing left until the reset), or null when it told nothing (a network failure, a concurrency
 * 429, no headers). Either way it is no longer in flight.
 */
export function observe(
  current: SharedWindow | undefined,
  answer: WindowAnswer | null,
  now: number,
  options: { reserved?: boolean } = {},
): SharedWindow {
  const w = current ?? EMPTY;
  // Which of them came back does not matter: the oldest place is freed. A request that reserved no
  // place (its replica could not reach the database then) frees none.
  const inFlight = live(w.inFlight, now).slice(options.reserved === false ? 0 : 1);
  if (answer === null) return { ...w, inFlight };
  const remaining = answer.rateLimited ? 0 : answer.remaining;
  if (answer.resetAt > w.resetAt) {
    // A new window: Okta's Remaining counts what arrived before this answer; the requests still in
    // flight may arrive in this window too, so they are charged to it.
    return {
      ...w,
      limit: answer.limit,
      remaining: Math.max(0, remaining - inFlight.length),
      resetAt: answer.resetAt,
      nextAt: 0,
      inFlight,
    };
  }
  if (answer.resetAt === w.resetAt)
    return { ...w, limit: answer.limit, remaining: Math.min(w.remaining, remaining), inFlight };
  // About a window that already ended: this request was in flight when the current window opened,
  // charged to it, and landed in the one before, so its place is given back (not into a window a
  // 429 closed, nor above the limit).
  const back = w.remaining > 0 ? Math.min(w.limit, w.remaining + 1) : w.remaining;
  return { ...w, remaining: back, inFlight };
}

/** The in-flight requests not given up on yet. */
function live(inFlight: readonly number[], now: number): number[] {
  return inFlight.filter((at) => now - at < IN_FLIGHT_MAX_MS);
}

function decayed(w: SharedWindow, now: number): number {
  return w.rate * Math.exp(-Math.max(0, now - w.rateAt) / 1000);
}

/** A request reserved to go at `at`: counted in the pace, and in flight from now on. */
function sent(w: SharedWindow, at: number): Pick<SharedWindow, 'rate' | 'rateAt' | 'inFlight'> {
  return { rate: decayed(w, at) + 1, rateAt: Math.max(at, w.rateAt), inFlight: [...live(w.inFlight, at), at] };
}

/** The windows of every bucket, shared through the store's meta rows. */
export class SharedRateWindows {
  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reserves the request's place; `at` may be in the future (the caller waits until then). */
  reserve(bucket: string, marginMs: number): Promise<Reservation> {
    return this.update(bucket, (w) => {
      const { window, reservation } = reserve(w, this.now(), marginMs);
      return { window, result: reservation };
    });
  }

  /** A request this replica reserved came back (see `observe`); null: its answer told nothing of the window. */
  async observe(bucket: string, answer: WindowAnswer | null, options: { reserved?: boolean } = {}): Promise<void> {
    await this.update(bucket, (w) => ({ window: observe(w, answer, this.now(), options), result: undefined }));
  }

  /** The windows as last stored, for /healthz and the benchmark. */
  async all(): Promise<Record<string, SharedWindow>> {
    const out: Record<string, SharedWindow> = {};
    for (const entry of await this.store.metaWithPrefix(PREFIX))
      out[entry.key.slice(PREFIX.length)] = parse(entry.value);
    return out;
  }

  /**
   * Reads and writes one bucket's window in one transaction: on PostgreSQL the read locks the key
   * (another replica's reservation waits for this one's commit), on SQLite the write lock does.
   */
  private update<T>(
    bucket: string,
    change: (window: SharedWindow | undefined) => { window: SharedWindow; result: T },
  ): Promise<T> {
    const key = `${PREFIX}${bucket}`;
    return this.store.transaction(async (tx) => {
      const stored = await tx.getMeta(key);
      const before = stored === undefined ? undefined : parse(stored);
      const { window, result } = change(before);
      if (window !== before) await tx.setMeta(key, JSON.stringify(window), new Date(this.now()).toISOString());
      return result;
    });
  }
}

const PREFIX = 'okta:rate:';

const StoredWindow = z
  .object({
    limit: z.number(),
    remaining: z.number(),
    resetAt: z.number(),
    nextAt: z.number(),
    probeAt: z.number(),
    rate: z.number(),
    rateAt: z.number(),
    inFlight: z.array(z.number()),
  })
  .partial();

function parse(value: string): SharedWindow {
  try {
    const parsed = StoredWindow.safeParse(JSON.parse(value));
    return parsed.success ? { ...EMPTY, ...parsed.data } : EMPTY;
  } catch {
    return EMPTY; // unreadable: start as with an unknown window
  }
}
