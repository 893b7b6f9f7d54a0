/**
 * The provisioner registry: one provisioner per provisioning method the policies can name, each
 * answering the port (grant, revoke, verify, describe) from the grant's snapshot.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createProvisioners } from '../../src/adapters/provisioners/provisioners.js';
import { describeProvision, PROVISION_METHODS } from '../../src/domain/provisioning/methods.js';
import type { Grant } from '../../src/domain/records.js';
import { provisionerFor } from '../../src/operations/ports.js';
import { grant as storedGrant, request as storedRequest } from '../store/store-contract.js';
import { FakeWebhook } from '../support/fakes.js';
import { createHarness, type Harness } from '../support/lifecycle-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(() => h.close());

const viaGroup = (id: string, group: string, overrides: Partial<Grant> = {}) =>
  storedGrant(id, {
    holder: { directoryId: 'u-ada', email: 'ada@example.com', name: 'Ada' },
    status: 'provisioning',
    snapshot: { provision: { method: 'okta_group', group }, policyName: 'p', policyVersion: 'v1' },
    ...overrides,
  });

async function insert(g: Grant): Promise<void> {
  await h.store.transaction(async (tx) => {
    await tx.insertRequest(storedRequest(g.requestId, { status: 'approved', requester: g.holder, role: g.id }));
    await tx.insertGrant(g);
  });
}

describe('the provisioners', () => {
  it('has one provisioner for every provisioning method, describing it as the policy does', () => {
    const provisioners = createProvisioners({ directory: h.directory, env: {}, webhook: new FakeWebhook() });
    expect(Object.keys(provisioners).sort()).toEqual(PROVISION_METHODS.map((m) => m.method).sort());
    const samples = [
      { method: 'okta_group', group: 'github-owners' },
      { method: 'webhook', url: 'https://billing.example.com/hooks', secretEnv: 'X', timeoutSeconds: 10 },
      { method: 'manual', assigneeGroup: 'it-helpdesk' },
    ] as const;
    for (const provision of samples)
      expect(provisionerFor(provisioners, provision).describe(provision)).toEqual(describeProvision(provision));
    expect(samples.map((p) => [describeProvision(p).target, describeProvision(p).automatic])).toEqual([
      ['github-owners', true],
      ['https://billing.example.com/hooks', true],
      ['it-helpdesk', false],
    ]);
  });

  it('okta_group: records the membership held before the add, adds, and confirms it by reading it back', async () => {
    const g = viaGroup('grt_1', 'github-members'); // Alan is a member already; Ada is not
    await insert(g);
    const okta = h.deps.provisioners.okta_group;
    const provision = { method: 'okta_group' as const, group: 'github-members' };
    expect(await okta.verify(g, provision)).toBe('absent');
    expect(await okta.grant(g, provision, h.deps)).toEqual({
      kind: 'done',
      details: { group: 'github-members', alreadyMember: false, confirmed: true },
    });
    expect((await h.store.getGrant('grt_1'))!.alreadyMember).toBe(false);
    expect(await okta.verify(g, provision)).toBe('present');
    const revoking = { ...(await h.store.getGrant('grt_1'))!, status: 'revoking' as const };
    expect(await okta.revoke(revoking, provision, h.deps, { undo: false })).toEqual({
      kind: 'done',
      details: { group: 'github-members', removed: true, confirmed: true },
    });
    expect(await okta.verify(g, provision)).toBe('absent');
  });

  it('okta_group: leaves a membership the person had before the grant, and says why', async () => {
    const alan = { directoryId: 'u-alan', email: 'alan@example.com', name: 'Alan' };
    const g = viaGroup('grt_1', 'github-members', { holder: alan });
    await insert(g);
    const okta = h.deps.provisioners.okta_group;
    const provision = { method: 'okta_group' as const, group: 'github-members' };
    expect(await okta.grant(g, provision, h.deps)).toMatchObject({ details: { alreadyMember: true } });
    const revoking = { ...(await h.store.getGrant('grt_1'))!, status: 'revoking' as const };
    const outcome = await okta.revoke(revoking, provision, h.deps, { undo: false });
    expect(outcome).toEqual({
      kind: 'done',
      details: { group: 'github-members', removed: false, confirmed: false },
      kept: {
        group: 'github-members',
        why: 'alan@example.com was already a member of github-members before this grant',
      },
    });
    expect(await okta.verify(g, provision)).toBe('present');
  });

  it('manual: hands both effects to the assignee group, and cannot tell whether the access is there', async () => {
    const manual = h.deps.provisioners.manual;
    const provision = { method: 'manual' as const, assigneeGroup: 'it-helpdesk' };
    const g = storedGrant('grt_1', { snapshot: { provision, policyName: 'p', policyVersion: 'v1' } });
    expect(await manual.grant(g, provision, h.deps)).toEqual({ kind: 'task', assigneeGroup: 'it-helpdesk' });
    expect(await manual.revoke(g, provision, h.deps, { undo: false })).toEqual({
      kind: 'task',
      assigneeGroup: 'it-helpdesk',
    });
    expect(await manual.verify(g, provision)).toBe('unknown');
  });

  it("webhook: one signed call per effect, the grant carrying its expiry from now and the revoke the grant's", async () => {
    const webhook = h.deps.provisioners.webhook;
    const provision = {
      method: 'webhook' as const,
      url: 'https://billing.example.com/hooks',
      secretEnv: 'X',
      timeoutSeconds: 10,
    };
    const g = storedGrant('grt_1', {
      durationSeconds: 3600,
      expiresAt: '2026-03-02T12:00:00.000Z',
      snapshot: { provision, policyName: 'p', policyVersion: 'v1' },
    });
    expect(await webhook.grant(g, provision, h.deps)).toEqual({
      kind: 'done',
      details: { url: provision.url, status: 200 },
    });
    expect(await webhook.revoke(g, provision, h.deps, { undo: false })).toEqual({
      kind: 'done',
      details: { url: provision.url, status: 200 },
    });
    // Undoing a late grant is a second revoke under a key of its own, so a receiver that dedupes applies it.
    expect(await webhook.revoke(g, provision, h.deps, { undo: true })).toEqual({
      kind: 'done',
      details: { url: provision.url, status: 200, idempotencyKey: 'grt_1:revoke:after-grant' },
    });
    expect(h.webhook.calls.map((c) => [c.action, c.grantId, c.expiresAt])).toEqual([
      ['grant', 'grt_1', new Date(h.clock.now().getTime() + 3600_000).toISOString()],
      ['revoke', 'grt_1', '2026-03-02T12:00:00.000Z'],
      ['revoke', 'grt_1', '2026-03-02T12:00:00.000Z'],
    ]);
    expect(h.webhook.keys).toEqual(['grt_1:grant', 'grt_1:revoke', 'grt_1:revoke:after-grant']);
    expect(await webhook.verify(g, provision)).toBe('unknown');
  });
});
