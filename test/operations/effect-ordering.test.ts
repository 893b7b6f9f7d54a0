/**
 * A revocation never loses to provisioning still in flight (security review H1). Okta holds the
 * add, or the webhook receiver holds the grant call, while the grant is revoked and a second job
 * runner (the pump beside the sweep) tries the revocation: it must wait, and follow the add.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { oktaGroupProvisioner } from '../../src/adapters/provisioners/okta-group-provisioner.js';
import { relinquishGrant } from '../../src/operations/revoke-grant.js';
import { runDueJobs } from '../../src/operations/run-jobs.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { sweep } from '../../src/operations/sweep.js';
import { companyOktaPerTest } from '../okta/company-org.js';
import { directoryFor } from '../okta/fixtures.js';
import type { OktaStandIn } from '../okta/okta-stand-in.js';
import { approvedAwsAdmin, effectHarness, HOOK_SECRET } from '../support/effect-harness.js';
import type { Harness } from '../support/lifecycle-harness.js';
import { REVOCATIONS } from '../support/revocations.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const org = companyOktaPerTest();
let okta: OktaStandIn;
let receiver: WebhookReceiver;
let h: Harness;

beforeEach(async () => {
  okta = org.okta;
  receiver = await startWebhookReceiver({ secret: HOOK_SECRET });
  h = effectHarness({ oktaUrl: okta.url, webhookUrl: receiver.url });
});
/** Job runs a test started; a failed assertion must not leave them running against a closed store. */
const running: Promise<unknown>[] = [];
afterEach(async () => {
  okta.releaseHolds();
  await receiver.close();
  await Promise.allSettled(running.splice(0));
  await h.close();
});

const ADA_IN = (group: string) => `/api/v1/groups/00g-${group}/users/u-ada`;
const grantActions = async (grantId: string) => (await h.store.auditEventsFor({ grantId })).map((e) => e.action);
const runner = (worker: string) => {
  const run = runDueJobs(h.deps, { worker, baseDelaySeconds: 1 });
  running.push(run);
  return run;
};

describe('a revocation that overtakes the Okta add', () => {
  it.each(REVOCATIONS)(
    'waits for the add, then removes the membership and reads it back (%s)',
    async (reason, revoke) => {
      const grantId = await approvedAwsAdmin(h);
      const add = okta.hold(ADA_IN('aws-admins'), { method: 'PUT' });
      const sweepRun = runner('sweep');
      await add.arrived;

      await revoke(h, grantId);
      await runner('pump'); // the second runner must not touch Okta while the add is in flight
      expect(okta.count(ADA_IN('aws-admins'), 'DELETE')).toBe(0);
      expect((await h.store.getGrant(grantId))!.status).toBe('revoking');

      add.release();
      await sweepRun; // the runner that did the add follows up with the revocation at once
      expect(okta.isMember('00g-aws-admins', 'u-ada')).toBe(false);
      expect(await h.store.getGrant(grantId)).toMatchObject({ status: 'revoked', revocationReason: reason });
      // Okta saw the add, then the removal, then the read-back that confirmed it.
      const changes = okta.requests.filter(
        (r) => r.path === ADA_IN('aws-admins') || r.path === '/api/v1/users/u-ada/groups',
      );
      const deleteAt = changes.findIndex((r) => r.method === 'DELETE');
      expect(changes.filter((r) => r.method !== 'GET').map((r) => r.method)).toEqual(['PUT', 'DELETE']);
      expect(changes.slice(deleteAt + 1).some((r) => r.method === 'GET')).toBe(true);
      // The log tells it as it happened: the add landed after the revocation started, before it was done.
      expect(await grantActions(grantId)).toEqual([
        'grant.provisioningStarted',
        'grant.revocationStarted',
        'grant.provisioned',
        'grant.revoked',
      ]);
      expect(
        (await h.store.auditEventsFor({ grantId })).find((e) => e.action === 'grant.provisioned')!.details,
      ).toMatchObject({ late: true });
    },
  );

  it('undoes an add that lands after a worker stalled past its lock and another finished the revocation', async () => {
    const grantId = await approvedAwsAdmin(h);
    const add = okta.hold(ADA_IN('aws-admins'), { method: 'PUT' });
    const stalled = runner('stalled');
    await add.arrived;
    await relinquishGrant(h.deps, { actor: await h.as('ada@example.com'), grantId });
    // The stalled worker's lock runs out; another process takes its job over and revokes (nothing
    // to remove yet). It has its own Okta client, as another process would.
    h.clock.advance(301);
    const other = directoryFor(okta.url);
    const provisioners = { ...h.deps.provisioners, okta_group: oktaGroupProvisioner(other) };
    await runDueJobs({ ...h.deps, directory: other, provisioners }, { worker: 'other', baseDelaySeconds: 1 });
    expect((await h.store.getGrant(grantId))!.status).toBe('revoked');

    add.release(); // the stalled add lands after all
    await stalled;
    expect(okta.isMember('00g-aws-admins', 'u-ada')).toBe(false);
    expect((await grantActions(grantId)).slice(-2)).toEqual(['grant.provisioned', 'grant.provisioningUndone']);
    expect((await h.store.auditEventsFor({ grantId })).at(-1)!.details).toMatchObject({
      removed: true,
      confirmed: true,
    });
  });
});

describe('a revocation that overtakes the grant webhook', () => {
  it.each(REVOCATIONS)('reaches the receiver after the grant call, never before (%s)', async (reason, revoke) => {
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'billing',
      role: 'viewer',
    });
    if (result.kind !== 'submitted' || !result.grant) throw new Error(result.kind);
    const grantId = result.grant.id;
    const grantCall = receiver.holdNext({ action: 'grant' });
    const sweepRun = runner('sweep');
    await grantCall.arrived;

    await revoke(h, grantId);
    await runner('pump');
    expect(receiver.requests).toEqual([]); // no revoke overtook the grant call

    grantCall.release();
    await sweepRun;
    expect(receiver.applied.map((a) => a.idempotencyKey)).toEqual([`${grantId}:grant`, `${grantId}:revoke`]);
    expect(await h.store.getGrant(grantId)).toMatchObject({ status: 'revoked', revocationReason: reason });
    expect(await grantActions(grantId)).toEqual([
      'grant.provisioningStarted',
      'grant.revocationStarted',
      'grant.provisioned',
      'grant.revoked',
    ]);
  });
});

describe("a grant call that lands after a stalled worker's revocation", () => {
  it('is followed by a second revoke with a key of its own', async () => {
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'billing',
      role: 'viewer',
    });
    if (result.kind !== 'submitted' || !result.grant) throw new Error(result.kind);
    const grantId = result.grant.id;
    const grantCall = receiver.holdNext({ action: 'grant' });
    const stalled = runner('stalled');
    await grantCall.arrived;
    await relinquishGrant(h.deps, { actor: await h.as('ada@example.com'), grantId });
    h.clock.advance(301);
    await runner('other');
    expect(receiver.applied.map((a) => a.idempotencyKey)).toEqual([`${grantId}:revoke`]);

    grantCall.release();
    await stalled;
    expect(receiver.applied.map((a) => a.idempotencyKey)).toEqual([
      `${grantId}:revoke`,
      `${grantId}:grant`,
      `${grantId}:revoke:after-grant`,
    ]);
    expect(receiver.applied.at(-1)!.call.action).toBe('revoke');
    expect((await grantActions(grantId)).slice(-2)).toEqual(['grant.provisioned', 'grant.provisioningUndone']);
  });
});

describe('two grants through one Okta group', () => {
  it("a new grant waits for the expired one's removal, so the person ends up in the group", async () => {
    const member = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'github',
      role: 'member',
    });
    if (member.kind !== 'submitted' || !member.grant) throw new Error(member.kind);
    await runner('setup');
    expect((await h.store.getGrant(member.grant.id))!.status).toBe('active');

    h.clock.advance(31 * 86_400); // github/member lasts 30 days
    const removal = okta.hold(ADA_IN('github-members'), { method: 'DELETE' });
    const sweepRun = sweep(h.deps, { worker: 'sweep', baseDelaySeconds: 1 });
    running.push(sweepRun);
    await removal.arrived;

    // The same person asks for another role provisioned through the same group.
    const triage = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'github',
      role: 'triage',
    });
    if (triage.kind !== 'submitted' || !triage.grant) throw new Error(triage.kind);
    await runner('pump');
    expect(okta.count(ADA_IN('github-members'), 'PUT')).toBe(1); // only the first grant's add so far

    removal.release();
    await sweepRun;
    expect(await h.store.getGrant(member.grant.id)).toMatchObject({ status: 'revoked', revocationReason: 'expired' });
    expect(await h.store.getGrant(triage.grant.id)).toMatchObject({ status: 'active', alreadyMember: false });
    expect(okta.isMember('00g-github-members', 'u-ada')).toBe(true);
  });
});
