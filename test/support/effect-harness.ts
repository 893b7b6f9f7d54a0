/**
 * The lifecycle harness for the effect-ordering tests: the Okta stand-in (over real HTTP, through
 * the real SDK) as the directory, and the real webhook provisioner calling a local receiver for the
 * billing role. A child process builds the same harness on the same SQLite file.
 */
import { WebhookProvisioner } from '../../src/adapters/provisioners/webhook-provisioner.js';
import { directoryFor } from '../okta/fixtures.js';
import { createHarness, examplePolicies, type Harness } from './lifecycle-harness.js';

export const HOOK_SECRET = 'billing-test-secret';

export function effectHarness(options: { oktaUrl: string; webhookUrl: string; dbPath?: string }): Harness {
  const policies = examplePolicies();
  const billing = policies.find((p) => p.app === 'billing')!;
  billing.roles = [{ ...billing.roles[0]!, provision: { method: 'webhook', url: options.webhookUrl, secretEnv: 'BILLING_HOOK_SECRET', timeoutSeconds: 30 } }];
  const h = createHarness({ policies, directory: directoryFor(options.oktaUrl), ...(options.dbPath ? { dbPath: options.dbPath } : {}) });
  h.deps.webhook = new WebhookProvisioner({ env: { BILLING_HOOK_SECRET: HOOK_SECRET }, allowInsecureLoopback: true });
  return h;
}
