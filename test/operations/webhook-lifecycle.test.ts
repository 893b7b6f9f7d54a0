import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebhookClient } from '../../src/adapters/provisioners/webhook-provisioner.js';
import { exportOf } from '../exports/helpers.js';
import { recordPolicyVersions } from '../../src/operations/record-policy-versions.js';
import { relinquishGrant } from '../../src/operations/revoke-grant.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { createHarness, examplePolicies, type Harness } from '../support/lifecycle-harness.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const SECRET = 'billing-test-secret';
let h: Harness;
let receiver: WebhookReceiver;

beforeEach(async () => {
  receiver = await startWebhookReceiver({ secret: SECRET });
  const policies = examplePolicies();
  const billing = policies.find((p) => p.app === 'billing')!;
  billing.roles = [
    {
      ...billing.roles[0]!,
      provision: { method: 'webhook', url: receiver.url, secretEnv: 'BILLING_HOOK_SECRET', timeoutSeconds: 5 },
    },
  ];
  // The real provisioner, over real HTTP; plain http is allowed only because the receiver is on loopback.
  h = createHarness({
    policies,
    webhook: new WebhookClient({ env: { BILLING_HOOK_SECRET: SECRET }, allowInsecureLoopback: true }),
  });
});
afterEach(async () => {
  await h.close();
  await receiver.close();
});

describe('a webhook URL with a token in its query string (L4)', () => {
  it('is called as written, but the token appears in no audit event, stored policy version or export', async () => {
    const policies = examplePolicies();
    const billing = policies.find((p) => p.app === 'billing')!;
    billing.roles = [
      {
        ...billing.roles[0]!,
        provision: {
          method: 'webhook',
          url: `${receiver.url}?api_key=QUERYTOKEN123`,
          secretEnv: 'BILLING_HOOK_SECRET',
          timeoutSeconds: 5,
        },
      },
    ];
    await h.close();
    h = createHarness({
      policies,
      webhook: new WebhookClient({ env: { BILLING_HOOK_SECRET: SECRET }, allowInsecureLoopback: true }),
    });
    await recordPolicyVersions(h.deps);
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'billing',
      role: 'viewer',
    });
    if (result.kind !== 'submitted' || !result.grant) throw new Error(result.kind);
    await h.runJobs();
    await relinquishGrant(h.deps, { actor: await h.as('ada@example.com'), grantId: result.grant.id });
    await h.runJobs();
    expect((await h.store.getGrant(result.grant.id))!.status).toBe('revoked');
    expect(receiver.requests.map((r) => r.path)).toEqual([
      '/hooks?api_key=QUERYTOKEN123',
      '/hooks?api_key=QUERYTOKEN123',
    ]);

    expect(JSON.stringify(await h.store.auditEvents({ limit: 10_000 }))).not.toContain('QUERYTOKEN123');
    expect(JSON.stringify(await h.store.latestPolicyVersions())).not.toContain('QUERYTOKEN123');
    for (const kind of ['events', 'requests', 'policies', 'access'] as const) {
      const { buffer } = await exportOf(h, kind);
      expect(buffer.toString('utf8'), kind).not.toContain('QUERYTOKEN123');
    }
  });
});

describe('webhook provisioning through the lifecycle', () => {
  it('grants and revokes with signed calls the receiver verifies, each applied once despite a retry', async () => {
    receiver.answerWith(503, { times: 1 });
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'billing',
      role: 'viewer',
    });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    await h.runJobs();
    const grant = (await h.store.grantForRequest(result.request.id))!;
    expect(grant.status).toBe('provisioning'); // the 503 is retried later, not lost
    // The requester hears of the delay at once, not days later when retries run out.
    expect(h.notifier.of('grant.provisioningDelayed', 'u-ada').map((n) => n.grantId)).toEqual([grant.id]);
    h.clock.advance(60);
    await h.runJobs();
    expect((await h.store.getGrant(grant.id))!.status).toBe('active');
    expect(h.notifier.of('grant.provisioningDelayed')).toHaveLength(1);

    await relinquishGrant(h.deps, { actor: await h.as('ada@example.com'), grantId: grant.id });
    await h.runJobs();
    expect((await h.store.getGrant(grant.id))!.status).toBe('revoked');

    expect(receiver.requests.every((r) => r.signatureValid)).toBe(true);
    expect(receiver.requests.map((r) => [r.idempotencyKey, r.status])).toEqual([
      [`${grant.id}:grant`, 503],
      [`${grant.id}:grant`, 200],
      [`${grant.id}:revoke`, 200],
    ]);
    expect(receiver.applied.map((a) => [a.call.action, a.call.user.email, a.call.grant_id])).toEqual([
      ['grant', 'ada@example.com', grant.id],
      ['revoke', 'ada@example.com', grant.id],
    ]);
    expect(receiver.applied[0]!.call.expires_at).not.toBeNull();
  });
});
