/**
 * `provision: { webhook: { url, secret_env, timeout } }`: the application's own API does the grant
 * and the revoke, called with a signed JSON POST (PRODUCT.md, "Other provisioning methods").
 */
import { z } from 'zod';
import { formatDuration } from '../duration.js';
import { DurationSchema, ENV_NAME_PATTERN, expected } from '../schema-primitives.js';
import { defineProvisionMethod } from './method.js';

export type WebhookProvision = { method: 'webhook'; url: string; secretEnv: string; timeoutSeconds: number };

export const DEFAULT_WEBHOOK_TIMEOUT_SECONDS = 10;

const WebhookSchema = z
  .strictObject({
    url: z.string().refine(
      (text) => {
        try {
          return new URL(text).protocol === 'https:';
        } catch {
          return false;
        }
      },
      { error: expected('must be an https:// URL') },
    ),
    secret_env: z.string().regex(ENV_NAME_PATTERN, {
      error: expected('must be the NAME of an environment variable holding the HMAC key (like BILLING_HOOK_SECRET)'),
    }),
    timeout: DurationSchema.optional(),
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
  canonical: (p) => ({ webhook: { url: p.url, secret_env: p.secretEnv, timeout: formatDuration(p.timeoutSeconds) } }),
  describe: (p) => ({ method: p.method, target: p.url, automatic: true }),
  groups: () => [],
  managedGroup: () => null,
  secrets: [{ key: 'secret_env', holds: "the webhook's HMAC key" }],
});
