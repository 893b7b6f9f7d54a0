/**
 * One outbound POST to a receiver the configuration names (a provisioning webhook, an audit sink),
 * and the signature that proves where it came from. Shared so every such call follows the same
 * rules: https only (plain http to loopback only when a test or the sandbox allows it), no
 * redirect followed, one timeout for the whole exchange, an error body read only in part, and
 * every failure classified: `TransientError` (timeout, network, 408/425/429/5xx) means "try again
 * later", `PermanentError` (other 4xx, a redirect, a bad URL) means "a person has to look".
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { PermanentError, TransientError } from '../../domain/errors.js';

export const SIGNATURE_HEADER = 'X-Access-Signature';
export const USER_AGENT = 'access-bot';
/** How much of an error body goes into the error message (and so into alerts and logs). */
export const ERROR_BODY_EXCERPT_CHARS = 200;
/** How much of an error body is read at most: a faulty receiver streaming megabytes is cut off here. */
export const ERROR_BODY_READ_BYTES = 64 * 1024;
/** Default clock skew a receiver accepts between the signature's `t` and its own clock. */
export const DEFAULT_SIGNATURE_TOLERANCE_SECONDS = 300;

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** Answers worth another attempt later; every other non-2xx is final. */
const TRANSIENT_STATUSES = new Set([408, 425, 429]);

/** `t=<unix>,v1=<hex hmac-sha256 of "<unix>.<body>">` */
export function signBody(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmacHex(secret, unixSeconds, body)}`;
}

/**
 * What a receiver does with `X-Access-Signature`: recompute the HMAC over the raw body and compare
 * in constant time, and refuse a `t` further than `toleranceSeconds` from its own clock so a
 * captured call cannot be replayed later. Several `v1=` entries are accepted (any may match), which
 * leaves room for key rotation.
 */
export function verifySignature(
  secret: string,
  header: string,
  body: string,
  now: Date,
  toleranceSeconds: number = DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
): boolean {
  if (secret === '') return false;
  let timestamp: number | undefined;
  const candidates: Buffer[] = [];
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (key === 't' && /^\d{1,12}$/.test(value)) timestamp = Number(value);
    else if (key === 'v1' && /^[0-9a-f]{64}$/i.test(value)) candidates.push(Buffer.from(value, 'hex'));
  }
  if (timestamp === undefined || candidates.length === 0) return false;
  if (Math.abs(Math.floor(now.getTime() / 1000) - timestamp) > toleranceSeconds) return false;
  const expected = Buffer.from(hmacHex(secret, timestamp, body), 'hex');
  // Check every candidate (no early exit) so timing does not reveal which one matched.
  let ok = false;
  for (const candidate of candidates) ok = timingSafeEqual(candidate, expected) || ok;
  return ok;
}

function hmacHex(secret: string, unixSeconds: number, body: string): string {
  return createHmac('sha256', secret).update(`${unixSeconds}.${body}`, 'utf8').digest('hex');
}

/** The URL to call: https, or plain http to loopback when `allowInsecureLoopback` (tests, the sandbox). */
export function checkedUrl(raw: string, allowInsecureLoopback: boolean, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch (error) {
    throw new PermanentError(`${what} ${JSON.stringify(raw)} is not a valid URL`, { cause: error });
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && allowInsecureLoopback && LOOPBACK_HOSTS.has(url.hostname)) return url;
  throw new PermanentError(`${what} ${url.origin} must use https (got ${url.protocol.replace(/:$/, '')})`);
}

export interface PostOptions {
  url: URL;
  body: string;
  headers: Record<string, string>;
  timeoutSeconds: number;
  /** Names the call in error messages ("webhook grant grt_1 to https://…"). */
  label: string;
  /** Said after "redirects are not followed; " when the receiver redirects. */
  redirectHint: string;
  fetch: typeof fetch;
  now: () => Date;
}

/**
 * One attempt. Resolves with the 2xx response (its body unread: read it or cancel it); throws
 * TransientError or PermanentError otherwise.
 */
export async function postOnce(options: PostOptions): Promise<Response> {
  const { label, timeoutSeconds } = options;
  if (!Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new PermanentError(`${label}: the timeout must be a positive number of seconds, got ${timeoutSeconds}`);
  }
  // One signal for the whole exchange, body included, so a receiver that sends headers and then
  // stalls cannot hold the caller past its timeout.
  const signal = AbortSignal.timeout(Math.ceil(timeoutSeconds * 1000));
  let response: Response;
  try {
    response = await options.fetch(options.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'User-Agent': USER_AGENT, ...options.headers },
      body: options.body,
      // A redirect could move signed content to a host nobody reviewed: never followed.
      redirect: 'manual',
      signal,
    });
  } catch (error) {
    if (isTimeout(error, signal))
      throw new TransientError(`${label} timed out after ${timeoutSeconds}s`, undefined, { cause: error });
    throw new TransientError(`${label} failed: ${describe(error)}`, undefined, { cause: error });
  }

  const { status } = response;
  if (status >= 200 && status < 300) return response;
  if (status >= 300 && status < 400) {
    await response.body?.cancel().catch(() => {});
    const location = response.headers.get('location');
    throw new PermanentError(
      `${label} answered ${status} redirect to ${location ?? '(no Location header)'}; redirects are not followed, ${options.redirectHint}`,
    );
  }
  const excerpt = await readExcerpt(response);
  const detail = `${label} answered ${status}${excerpt ? `: ${excerpt}` : ''}`;
  if (TRANSIENT_STATUSES.has(status) || status >= 500) {
    const retryAfterMs =
      status === 429 || status === 503
        ? parseRetryAfter(response.headers.get('retry-after'), options.now())
        : undefined;
    throw new TransientError(detail, retryAfterMs);
  }
  throw new PermanentError(detail);
}

/**
 * Reads a body as text, at most `maxBytes`, within the exchange's timeout. `partial`: a body cut
 * short (the timeout, a reset) gives what arrived instead of an error.
 */
export async function readBody(
  response: Response,
  options: { maxBytes?: number; partial?: boolean } = {},
): Promise<string> {
  const maxBytes = options.maxBytes ?? ERROR_BODY_READ_BYTES;
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let read = 0;
  try {
    while (read < maxBytes) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      read += value.byteLength;
    }
  } catch (error) {
    if (!options.partial) throw error;
  } finally {
    await reader.cancel().catch(() => {});
  }
  return new TextDecoder().decode(Buffer.concat(chunks).subarray(0, maxBytes));
}

/** Retry-After is either delta-seconds or an HTTP date; anything else is ignored. */
export function parseRetryAfter(value: string | null, now: Date): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now.getTime());
}

async function readExcerpt(response: Response): Promise<string> {
  // The status already says what matters; a body cut short by the timeout is not worth more.
  const text = await readBody(response, { partial: true });
  return text.replace(/\s+/g, ' ').trim().slice(0, ERROR_BODY_EXCERPT_CHARS);
}

function isTimeout(error: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return true;
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

export function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // undici wraps the useful part ("ECONNREFUSED 127.0.0.1:1") in `cause`.
  const cause = error.cause;
  if (cause instanceof Error && cause.message) return `${error.message} (${cause.message})`;
  return error.message;
}
