/**
 * The lifecycle harness for the effect-ordering tests: the Okta stand-in (over real HTTP, through
 * the real SDK) as the directory, and the real webhook provisioner calling a local receiver for the
 * billing role. A child process builds the same harness on the same SQLite file.
 */
import { WebhookClient } from '../../src/adapters/provisioners/webhook-provisioner.js';
import { reviewRequest } from '../../src/operations/review-request.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { directoryFor } from '../okta/fixtures.js';
import { createHarness, examplePolicies, type Harness } from './lifecycle-harness.js';

export const HOOK_SECRET = 'billing-test-secret';

export function effectHarness(options: { oktaUrl: string; webhookUrl: string; dbPath?: string }): Harness {
  const policies = examplePolicies();
  const billing = policies.find((p) => p.app === 'billing')!;
  billing.roles = [
    {
      ...billing.roles[0]!,
      provision: { method: 'webhook', url: options.webhookUrl, secretEnv: 'BILLING_HOOK_SECRET', timeoutSeconds: 30 },
    },
  ];
  return createHarness({
    policies,
    directory: directoryFor(options.oktaUrl),
    webhook: new WebhookClient({ env: { BILLING_HOOK_SECRET: HOOK_SECRET }, allowInsecureLoopback: true }),
    ...(options.dbPath ? { dbPath: options.dbPath } : {}),
  });
}

/** Ada asks for AWS admin and her manager Marcus approves: a grant provisioning into `aws-admins`, its job due. */
export async function approvedAwsAdmin(h: Harness): Promise<string> {
  const result = await submitRequest(h.deps, {
    requester: await h.as('ada@example.com'),
    app: 'aws',
    role: 'admin',
    justification: 'incident',
  });
  if (result.kind !== 'submitted') throw new Error(result.kind);
  const review = await reviewRequest(h.deps, {
    actor: await h.as('marcus@example.com'),
    requestId: result.request.id,
    decision: 'approve',
  });
  if (review.kind !== 'request_approved' || !review.grantId) throw new Error(review.kind);
  return review.grantId;
}
