/**
 * Provisioning through the application's own API: one signed JSON POST per grant or revoke.
 *
 * The wire contract (PRODUCT.md, "Other provisioning methods"): a POST of
 * `{action, request_id, grant_id, app, role, user: {email, okta_id}, expires_at}` with
 * `X-Access-Signature: t=<unix>,v1=<hex hmac-sha256 of "t.body">` and
 * `Idempotency-Key: <grant id>:<action>`. Only a 2xx answer counts as done.
 *
 * This adapter makes exactly one attempt. Retrying is the job runner's business (one place), so
 * every failure is classified instead: `TransientError` (timeout, network, 408/425/429/5xx) means
 * "try again later", `PermanentError` (other 4xx, redirects, bad configuration) means "a person
 * has to look". The Idempotency-Key is what makes the runner's retries safe on the receiving side.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { PermanentError, TransientError } from '../../domain/errors.js';
import { webhookMethod, type WebhookProvision } from '../../domain/provisioning/webhook.js';
import type { Grant } from '../../domain/records.js';
import { redactUrl } from '../../domain/redact-url.js';
import type { Provisioner } from '../../operations/ports.js';

export interface WebhookCall {
  action: 'grant' | 'revoke';
  requestId: string;
  grantId: string;
  app: string;
  role: string;
  user: { email: string; oktaId: string };
  /** ISO 8601; null when the grant has no expiry (or for a revoke that carries none). */
  expiresAt: string | null;
}

/** The `webhook` provision of a role, as `domain/provisioning/webhook.ts` normalises it. */
export interface WebhookTarget {
  url: string;
  /** Name of the environment variable holding the HMAC key; the key itself never sits in YAML. */
  secretEnv: string;
  timeoutSeconds: number;
}

/** One signed POST per call; throws TransientError or PermanentError (`WebhookClient`, or a test's fake). */
export interface WebhookTransport {
  /** `idempotencyKey` replaces the usual `<grant id>:<action>` (a compensating second revoke). */
  call(target: WebhookTarget, call: WebhookCall, options?: { idempotencyKey?: string }): Promise<{ status: number }>;
}

/** The `webhook` provisioner: the grant and the revoke are each one call of the application's own API. */
export function webhookProvisioner(transport: WebhookTransport): Provisioner<WebhookProvision> {
  const body = (grant: Grant, action: 'grant' | 'revoke', expiresAt: string | null): WebhookCall => ({
    action,
    requestId: grant.requestId,
    grantId: grant.id,
    app: grant.app,
    role: grant.role,
    user: { email: grant.holder.email, oktaId: grant.holder.directoryId },
    expiresAt,
  });
  return {
    async grant(grant, provision, { clock }) {
      const expiresAt = new Date(clock.now().getTime() + grant.durationSeconds * 1000).toISOString();
      const { status } = await transport.call(provision, body(grant, 'grant', expiresAt));
      return { kind: 'done', details: { url: redactUrl(provision.url), status } };
    },
    async revoke(grant, provision, _ctx, { undo }) {
      // The undo is a second revoke after a grant the receiver may have applied after the first:
      // a key of its own, so a receiver that dedupes by key applies it.
      const idempotencyKey = undo ? `${grant.id}:revoke:after-grant` : undefined;
      const call = body(grant, 'revoke', grant.expiresAt);
      const { status } = await transport.call(provision, call, idempotencyKey ? { idempotencyKey } : undefined);
      return { kind: 'done', details: { url: redactUrl(provision.url), status, ...(undo ? { idempotencyKey } : {}) } };
    },
    // The wire contract has no "check" action: only the receiver knows.
    verify: async () => 'unknown',
    describe: (provision) => webhookMethod.describe(provision),
  };
}

export interface WebhookProvisionerOptions {
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
  now?: () => Date;
  /**
   * Allow plain `http://` to 127.0.0.1, ::1 and localhost. For tests and local receivers only:
   * production targets must be https, because the body names people and grants and the
   * signature proves origin but does not hide anything. Never set from configuration.
   */
  allowInsecureLoopback?: boolean;
}

export const WEBHOOK_SIGNATURE_HEADER = 'X-Access-Signature';
export const WEBHOOK_IDEMPOTENCY_HEADER = 'Idempotency-Key';
export const WEBHOOK_USER_AGENT = 'access-bot';
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
export function signWebhookBody(secret: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${hmacHex(secret, unixSeconds, body)}`;
}

/**
 * What a receiver does with `X-Access-Signature`: recompute the HMAC over the raw body and compare
 * in constant time, and refuse a `t` further than `toleranceSeconds` from its own clock so a
 * captured call cannot be replayed later. Several `v1=` entries are accepted (any may match), which
 * leaves room for key rotation.
 */
export function verifyWebhookSignature(
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

/** The snake_case body the receiver sees. */
export function webhookWireBody(call: WebhookCall): string {
  return JSON.stringify({
    action: call.action,
    request_id: call.requestId,
    grant_id: call.grantId,
    app: call.app,
    role: call.role,
    user: { email: call.user.email, okta_id: call.user.oktaId },
    expires_at: call.expiresAt,
  });
}

/** The HTTP side of webhook provisioning: signs and sends one call, and classifies its failure. */
export class WebhookClient implements WebhookTransport {
  private readonly env: Record<string, string | undefined>;
  private readonly fetch: typeof fetch;
  private readonly now: () => Date;
  private readonly allowInsecureLoopback: boolean;

  constructor(options: WebhookProvisionerOptions) {
    this.env = options.env;
    this.fetch = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? (() => new Date());
    this.allowInsecureLoopback = options.allowInsecureLoopback ?? false;
  }

  /** One attempt. Resolves on a 2xx; throws TransientError or PermanentError otherwise. */
  async call(target: WebhookTarget, call: WebhookCall, options: { idempotencyKey?: string } = {}): Promise<{ status: number }> {
    const url = this.checkUrl(target.url);
    const where = `${url.origin}${url.pathname}`; // no query string: it may carry a token
    const secret = this.env[target.secretEnv];
    if (secret === undefined || secret === '') {
      throw new PermanentError(`webhook secret env var ${target.secretEnv} is not set (needed to sign calls to ${where})`);
    }
    if (!Number.isFinite(target.timeoutSeconds) || target.timeoutSeconds <= 0) {
      throw new PermanentError(`webhook timeout for ${where} must be a positive number of seconds, got ${target.timeoutSeconds}`);
    }

    const body = webhookWireBody(call);
    const unixSeconds = Math.floor(this.now().getTime() / 1000);
    // One signal for the whole exchange, body included, so a receiver that sends headers and then
    // stalls cannot hold the job past its timeout.
    const signal = AbortSignal.timeout(Math.ceil(target.timeoutSeconds * 1000));
    const label = `webhook ${call.action} ${call.grantId} to ${where}`;

    let response: Response;
    try {
      response = await this.fetch(url, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/json',
          'User-Agent': WEBHOOK_USER_AGENT,
          [WEBHOOK_SIGNATURE_HEADER]: signWebhookBody(secret, body, unixSeconds),
          [WEBHOOK_IDEMPOTENCY_HEADER]: options.idempotencyKey ?? `${call.grantId}:${call.action}`,
        },
        body,
        // A redirect could move a signed grant to a host nobody reviewed; the spec says don't follow.
        redirect: 'manual',
        signal,
      });
    } catch (error) {
      if (isTimeout(error, signal)) {
        throw new TransientError(`${label} timed out after ${target.timeoutSeconds}s`, undefined, { cause: error });
      }
      throw new TransientError(`${label} failed: ${describe(error)}`, undefined, { cause: error });
    }

    const { status } = response;
    if (status >= 200 && status < 300) {
      await response.body?.cancel().catch(() => {});
      return { status };
    }
    if (status >= 300 && status < 400) {
      await response.body?.cancel().catch(() => {});
      const location = response.headers.get('location');
      throw new PermanentError(
        `${label} answered ${status} redirect to ${location ?? '(no Location header)'}; redirects are not followed, point the policy at the final https URL`,
      );
    }

    const excerpt = await readExcerpt(response);
    const detail = `${label} answered ${status}${excerpt ? `: ${excerpt}` : ''}`;
    if (TRANSIENT_STATUSES.has(status) || status >= 500) {
      const retryAfterMs = status === 429 || status === 503 ? parseRetryAfter(response.headers.get('retry-after'), this.now()) : undefined;
      throw new TransientError(detail, retryAfterMs);
    }
    throw new PermanentError(detail);
  }

  private checkUrl(raw: string): URL {
    let url: URL;
    try {
      url = new URL(raw);
    } catch (error) {
      throw new PermanentError(`webhook url ${JSON.stringify(raw)} is not a valid URL`, { cause: error });
    }
    if (url.protocol === 'https:') return url;
    if (url.protocol === 'http:' && this.allowInsecureLoopback && LOOPBACK_HOSTS.has(url.hostname)) return url;
    throw new PermanentError(`webhook url ${url.origin} must use https (got ${url.protocol.replace(/:$/, '')})`);
  }
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
  const reader = response.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let read = 0;
  try {
    while (read < ERROR_BODY_READ_BYTES) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      read += value.byteLength;
    }
  } catch {
    // The status already says what matters; a body cut short by the timeout is not worth more.
  } finally {
    await reader.cancel().catch(() => {});
  }
  const text = new TextDecoder().decode(Buffer.concat(chunks).subarray(0, ERROR_BODY_READ_BYTES));
  return text.replace(/\s+/g, ' ').trim().slice(0, ERROR_BODY_EXCERPT_CHARS);
}

function isTimeout(error: unknown, signal: AbortSignal): boolean {
  if (signal.aborted) return true;
  return error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
}

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // undici wraps the useful part ("ECONNREFUSED 127.0.0.1:1") in `cause`.
  const cause = error.cause;
  if (cause instanceof Error && cause.message) return `${error.message} (${cause.message})`;
  return error.message;
}
