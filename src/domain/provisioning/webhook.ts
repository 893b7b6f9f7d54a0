/**
 * `provision: { webhook: { url, secret_env, timeout } }`: the application's own API does the grant
 * and the revoke, called with a signed JSON POST (PRODUCT.md, "Other provisioning methods").
 */
import * as z from 'zod';
import { formatDuration } from '../duration.js';
import { redactUrl } from '../redact-url.js';
import { DurationSchema, ENV_NAME_PATTERN, expected, httpsUrl, showValue } from '../schema-primitives.js';
import { defineProvisionMethod } from './method.js';

export type WebhookProvision = { method: 'webhook'; url: string; secretEnv: string; timeoutSeconds: number };

const DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 10;

/**
 * A webhook call must end well inside the job lock (run-jobs: 300 s, renewed while it runs), and
 * Node clamps timers of 2^31 ms or more to 1 ms, so `4w` would abort every call at once.
 */
const WEBHOOK_TIMEOUT_BOUNDS_SECONDS = { min: 1, max: 60 } as const;

const inTimeoutBounds = (seconds: number | undefined) =>
  seconds === undefined ||
  (seconds >= WEBHOOK_TIMEOUT_BOUNDS_SECONDS.min && seconds <= WEBHOOK_TIMEOUT_BOUNDS_SECONDS.max);

const WebhookSchema = z
  .strictObject({
    url: httpsUrl('secret_env'),
    secret_env: z.string().regex(ENV_NAME_PATTERN, {
      error: expected('must be the NAME of an environment variable holding the HMAC key (like BILLING_HOOK_SECRET)'),
    }),
    timeout: DurationSchema.optional().refine(inTimeoutBounds, {
      error: (issue) =>
        'must be between 1s and 60s (the call must end well inside the job lock), got ' +
        (typeof issue.input === 'number' ? formatDuration(issue.input) : showValue(issue.input)),
    }),
  })
  .transform((w): WebhookProvision => ({
    method: 'webhook',
    url: w.url,
    secretEnv: w.secret_env,
    timeoutSeconds: w.timeout ?? DEFAULT_WEBHOOK_TIMEOUT_SECONDS,
  }));

export const webhookMethod = defineProvisionMethod<WebhookProvision>({
  method: 'webhook',
  schema: WebhookSchema,
  // Redacted: this definition is stored with every version and exported; a token in the query
  // string must not be. (A URL without one is kept as written, so its hash is unchanged.)
  canonical: (p) => ({
    webhook: { url: redactUrl(p.url), secret_env: p.secretEnv, timeout: formatDuration(p.timeoutSeconds) },
  }),
  describe: (p) => ({ method: p.method, target: redactUrl(p.url), automatic: true }),
  groups: () => [],
  managedGroup: () => null,
  secrets: [{ key: 'secret_env', holds: "the webhook's HMAC key" }],
});
