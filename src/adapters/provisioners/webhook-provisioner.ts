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
import { PermanentError } from '../../domain/errors.js';
import { webhookMethod, type WebhookProvision } from '../../domain/provisioning/webhook.js';
import type { Grant } from '../../domain/records.js';
import { redactUrl } from '../../domain/redact-url.js';
import type { Provisioner } from '../../operations/ports.js';
import {
  checkedUrl,
  DEFAULT_SIGNATURE_TOLERANCE_SECONDS,
  ERROR_BODY_EXCERPT_CHARS,
  ERROR_BODY_READ_BYTES,
  parseRetryAfter,
  postOnce,
  SIGNATURE_HEADER,
  signBody,
  verifySignature,
} from '../http/signed-post.js';

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

const WEBHOOK_SIGNATURE_HEADER = SIGNATURE_HEADER;
const WEBHOOK_IDEMPOTENCY_HEADER = 'Idempotency-Key';
export { DEFAULT_SIGNATURE_TOLERANCE_SECONDS, ERROR_BODY_EXCERPT_CHARS, ERROR_BODY_READ_BYTES, parseRetryAfter };

/** `t=<unix>,v1=<hex hmac-sha256 of "<unix>.<body>">` */
export const signWebhookBody = signBody;

/** What a receiver does with `X-Access-Signature` (see `verifySignature`). */
export const verifyWebhookSignature = verifySignature;

/** The snake_case body the receiver sees. */
function webhookWireBody(call: WebhookCall): string {
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
  async call(
    target: WebhookTarget,
    call: WebhookCall,
    options: { idempotencyKey?: string } = {},
  ): Promise<{ status: number }> {
    const url = checkedUrl(target.url, this.allowInsecureLoopback, 'webhook url');
    const where = `${url.origin}${url.pathname}`; // no query string: it may carry a token
    const secret = this.env[target.secretEnv];
    if (secret === undefined || secret === '') {
      throw new PermanentError(
        `webhook secret env var ${target.secretEnv} is not set (needed to sign calls to ${where})`,
      );
    }
    if (!Number.isFinite(target.timeoutSeconds) || target.timeoutSeconds <= 0) {
      throw new PermanentError(
        `webhook timeout for ${where} must be a positive number of seconds, got ${target.timeoutSeconds}`,
      );
    }
    const body = webhookWireBody(call);
    const unixSeconds = Math.floor(this.now().getTime() / 1000);
    const response = await postOnce({
      url,
      body,
      headers: {
        [WEBHOOK_SIGNATURE_HEADER]: signWebhookBody(secret, body, unixSeconds),
        [WEBHOOK_IDEMPOTENCY_HEADER]: options.idempotencyKey ?? `${call.grantId}:${call.action}`,
      },
      timeoutSeconds: target.timeoutSeconds,
      label: `webhook ${call.action} ${call.grantId} to ${where}`,
      // A redirect could move a signed grant to a host nobody reviewed; the spec says don't follow.
      redirectHint: 'point the policy at the final https URL',
      fetch: this.fetch,
      now: this.now,
    });
    await response.body?.cancel().catch(() => {});
    return { status: response.status };
  }
}
