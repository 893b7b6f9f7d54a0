import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/domain/catalog.js';
import { AccessError, PermanentError, TransientError } from '../../src/domain/errors.js';
import { completeTask } from '../../src/operations/complete-task.js';
import { extendGrant } from '../../src/operations/extend-grant.js';
import { reviewRequest } from '../../src/operations/review-request.js';
import {
  offboardPerson,
  recordExternalRemoval,
  relinquishGrant,
  revokeGrantAsAdmin,
} from '../../src/operations/revoke-grant.js';
import { runDueJobs } from '../../src/operations/run-jobs.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { sweep } from '../../src/operations/sweep.js';
import { createHarness, examplePolicies, type Harness } from '../support/lifecycle-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => await h.close());

async function grantOf(
  email: string,
  app: string,
  role: string,
  extra: { durationSeconds?: number; justification?: string } = {},
) {
  const result = await submitRequest(h.deps, {
    requester: await h.as(email),
    app,
    role,
    justification: 'needed for work',
    ...extra,
  });
  if (result.kind !== 'submitted') throw new Error(result.kind);
  if (result.request.status === 'pending_approval') {
    // aws/admin: one manager step.
    await reviewRequest(h.deps, {
      actor: await h.as('marcus@example.com'),
      requestId: result.request.id,
      decision: 'approve',
    });
  }
  await h.runJobs();
  return (await h.store.grantForRequest(result.request.id))!;
}

const sweepNow = () => sweep(h.deps, { worker: 'test', baseDelaySeconds: 1, random: () => 0.999999 });

async function refusal(promise: Promise<unknown> | (() => unknown)): Promise<AccessError> {
  try {
    await (typeof promise === 'function' ? promise() : promise);
  } catch (error) {
    if (error instanceof AccessError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('provisioning and revocation', () => {
  it('expires a grant on time: revoked with reason expired, removed from the group, the holder told', async () => {
    const grant = await grantOf('ada@example.com', 'aws', 'admin');
    expect(grant.status).toBe('active');
    h.clock.advance(3599);
    await sweepNow();
    expect((await h.store.getGrant(grant.id))!.status).toBe('active');
    h.clock.advance(1);
    const summary = await sweepNow();
    expect(summary.expiredGrants).toBe(1);
    const revoked = (await h.store.getGrant(grant.id))!;
    expect(revoked).toMatchObject({ status: 'revoked', revocationReason: 'expired', revokedBy: 'system:sweep' });
    expect(await h.directory.isMember('u-ada', 'aws-admins')).toBe(false);
    expect(h.notifier.of('grant.revoked', 'u-ada')).toHaveLength(1);
    // A second sweep finds nothing to do.
    expect((await sweepNow()).expiredGrants).toBe(0);
    expect(
      (await h.store.auditEventsFor({ grantId: grant.id })).filter((e) => e.action === 'grant.revoked'),
    ).toHaveLength(1);
  });

  it('keeps a membership the person had before the grant, and logs why', async () => {
    const grant = await grantOf('alan@example.com', 'github', 'member'); // Alan is already in github-members
    expect(grant.alreadyMember).toBe(true);
    await relinquishGrant(h.deps, { actor: await h.as('alan@example.com'), grantId: grant.id });
    await h.runJobs();
    expect(await h.store.getGrant(grant.id)).toMatchObject({ status: 'revoked', revocationReason: 'relinquished' });
    expect(await h.directory.isMember('u-alan', 'github-members')).toBe(true);
    const kept = (await h.store.auditEventsFor({ grantId: grant.id })).find(
      (e) => e.action === 'grant.membershipKept',
    )!;
    expect(kept.details.why).toContain('was already a member of github-members before this grant');
    expect(h.directory.calls.filter((c) => c.method === 'removeFromGroup')).toHaveLength(0);
  });

  it('keeps the person in a group another active grant gives them, until the last one ends', async () => {
    const member = await grantOf('ada@example.com', 'github', 'member');
    const triage = await grantOf('ada@example.com', 'github', 'triage');
    expect(member.alreadyMember).toBe(false);
    expect(triage.alreadyMember).toBe(false); // in the group through our own grant, not from before
    await relinquishGrant(h.deps, { actor: await h.as('ada@example.com'), grantId: member.id });
    await h.runJobs();
    expect(await h.directory.isMember('u-ada', 'github-members')).toBe(true);
    expect(
      (await h.store.auditEventsFor({ grantId: member.id })).find((e) => e.action === 'grant.membershipKept')!.details
        .why,
    ).toContain('holds another grant through github-members');
    await relinquishGrant(h.deps, { actor: await h.as('ada@example.com'), grantId: triage.id });
    await h.runJobs();
    expect(await h.directory.isMember('u-ada', 'github-members')).toBe(false);
  });

  it('ends many grants in one batch, keeping exactly the memberships another grant still gives', async () => {
    // Ada holds two roles through github-members, Sam and Kim one each, Alan was a member before;
    // their member grants run out together and one sweep revokes them in one batch of jobs.
    const expiring = { durationSeconds: 3600 };
    const grants = [
      await grantOf('ada@example.com', 'github', 'member', expiring),
      await grantOf('sam@example.com', 'github', 'member', expiring),
      await grantOf('alan@example.com', 'github', 'member', expiring),
      await grantOf('kim@example.com', 'github', 'member', expiring),
    ];
    const adaTriage = await grantOf('ada@example.com', 'github', 'triage');
    h.clock.advance(3601);
    await sweepNow();
    for (const grant of grants) expect((await h.store.getGrant(grant.id))!.status).toBe('revoked');
    const members = await h.directory.membersOf('github-members');
    expect(members.map((p) => p.email).sort()).toEqual(['ada@example.com', 'alan@example.com']);
    const kept = async (grantId: string) =>
      (await h.store.auditEventsFor({ grantId })).find((e) => e.action === 'grant.membershipKept')?.details.why;
    expect(await kept(grants[0]!.id)).toContain(
      `holds another grant through github-members (github/triage ${adaTriage.id})`,
    );
    expect(await kept(grants[1]!.id)).toBeUndefined();
    expect(await kept(grants[2]!.id)).toContain('was already a member of github-members before this grant');
    expect(await kept(grants[3]!.id)).toBeUndefined();
    expect(h.directory.calls.filter((c) => c.method === 'removeFromGroup').map((c) => c.args)).toEqual([
      ['u-sam', 'github-members'],
      ['u-kim', 'github-members'],
    ]);
  });

  it('removes nothing for a grant whose add never happened, so a membership the person had stays (M3)', async () => {
    await h.yaml.addToGroup('u-ada', 'aws-admins'); // Ada was in the group before the bot
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
    h.directory.failNext('isMember', new TransientError('Okta is down')); // the first look before the add fails
    await h.runJobs();
    expect(await h.store.getGrant(review.grantId)).toMatchObject({ status: 'provisioning', alreadyMember: null });

    await relinquishGrant(h.deps, { actor: await h.as('ada@example.com'), grantId: review.grantId });
    await h.runJobs();
    expect((await h.store.getGrant(review.grantId))!.status).toBe('revoked');
    expect(await h.yaml.isMember('u-ada', 'aws-admins')).toBe(true);
    expect(h.directory.calls.filter((c) => c.method === 'removeFromGroup')).toEqual([]);
    const kept = (await h.store.auditEventsFor({ grantId: review.grantId })).find(
      (e) => e.action === 'grant.membershipKept',
    );
    expect(kept?.details.why).toContain('never added');
  });

  it('hands a kept membership over to the grant still being set up, which then removes it when it ends', async () => {
    const member = await grantOf('ada@example.com', 'github', 'member');
    expect(member).toMatchObject({ status: 'active', alreadyMember: false });
    // Ada asks for another role through the same group; before it is set up, she gives the first back.
    const triage = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'github',
      role: 'triage',
    });
    if (triage.kind !== 'submitted' || !triage.grant) throw new Error(triage.kind);
    await relinquishGrant(h.deps, { actor: await h.as('ada@example.com'), grantId: member.id });
    await runDueJobs(h.deps, { worker: 'test', kinds: ['revoke'] });
    expect((await h.store.getGrant(member.id))!.status).toBe('revoked');
    expect(await h.yaml.isMember('u-ada', 'github-members')).toBe(true); // kept: the triage grant needs it

    await h.runJobs();
    expect(await h.store.getGrant(triage.grant.id)).toMatchObject({ status: 'active', alreadyMember: false }); // ours, not Ada's own
    await relinquishGrant(h.deps, { actor: await h.as('ada@example.com'), grantId: triage.grant.id });
    await h.runJobs();
    expect(await h.yaml.isMember('u-ada', 'github-members')).toBe(false);
  });

  it('revokes from the stored snapshot even after the policy changed', async () => {
    const grant = await grantOf('ada@example.com', 'aws', 'admin');
    const changed = examplePolicies();
    const aws = changed.find((p) => p.app === 'aws')!;
    aws.roles = [{ ...aws.roles[0]!, provision: { method: 'okta_group', group: 'github-owners' } }];
    h.deps.catalog = new Catalog(changed);
    h.clock.advance(3600);
    await sweepNow();
    expect((await h.store.getGrant(grant.id))!.status).toBe('revoked');
    expect(h.directory.calls.filter((c) => c.method === 'removeFromGroup').map((c) => c.args)).toEqual([
      ['u-ada', 'aws-admins'],
    ]);
  });

  it('records a revocation only after the directory confirms it, retrying an outage with backoff', async () => {
    const grant = await grantOf('ada@example.com', 'aws', 'admin');
    h.directory.failNext('removeFromGroup', new TransientError('Okta 503'), 2);
    await revokeGrantAsAdmin(h.deps, {
      actor: await h.as('priya@example.com'),
      grantId: grant.id,
      reason: 'left the project',
    });
    await h.runJobs();
    expect((await h.store.getGrant(grant.id))!).toMatchObject({
      status: 'revoking',
      failures: 1,
      lastError: 'Okta 503',
    });
    const job = (await h.store.getJobByKey(`revoke:${grant.id}`))!;
    expect(job.status).toBe('pending');
    expect(Date.parse(job.runAt) - h.clock.now().getTime()).toBe(1000); // base 1s, first retry
    h.clock.advance(1);
    await h.runJobs();
    expect((await h.store.getGrant(grant.id))!.status).toBe('revoking');
    expect(Date.parse((await h.store.getJobByKey(`revoke:${grant.id}`))!.runAt) - h.clock.now().getTime()).toBe(2000); // doubled
    h.clock.advance(2);
    await h.runJobs();
    expect((await h.store.getGrant(grant.id))!).toMatchObject({
      status: 'revoked',
      revocationReason: 'revoked',
      revocationNote: 'left the project',
      revokedBy: 'priya@example.com',
    });
    expect(
      (await h.store.auditEventsFor({ grantId: grant.id })).filter((e) => e.action === 'grant.revocationFailed'),
    ).toHaveLength(2);
  });

  it('gives up provisioning on a permanent failure: provisioning_failed, the alerts channel told', async () => {
    h.directory.failNext('addToGroup', new PermanentError('group aws-admins not found in Okta'));
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'aws',
      role: 'admin',
      justification: 'x',
    });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    await reviewRequest(h.deps, {
      actor: await h.as('marcus@example.com'),
      requestId: result.request.id,
      decision: 'approve',
    });
    await h.runJobs();
    const grant = (await h.store.grantForRequest(result.request.id))!;
    expect(grant.status).toBe('provisioning_failed');
    await h.runJobs();
    expect(
      h.notifier.delivered.filter((d) => d.notification.type === 'alert').map((d) => d.notification.recipient),
    ).toEqual([{ kind: 'channel', channel: 'C0ACCESSOPS' }]);
  });

  it('lets only admins revoke, with a reason', async () => {
    const grant = await grantOf('ada@example.com', 'aws', 'admin');
    expect(
      (
        await refusal(
          revokeGrantAsAdmin(h.deps, { actor: await h.as('alan@example.com'), grantId: grant.id, reason: 'x' }),
        )
      ).code,
    ).toBe('not_admin');
    expect(
      (
        await refusal(
          revokeGrantAsAdmin(h.deps, { actor: await h.as('priya@example.com'), grantId: grant.id, reason: ' ' }),
        )
      ).code,
    ).toBe('reason_required');
    // Admin membership is read live: removed from the group, no longer an admin.
    await h.yaml.removeFromGroup('u-priya', 'access-admins');
    expect(
      (
        await refusal(
          revokeGrantAsAdmin(h.deps, { actor: await h.as('priya@example.com'), grantId: grant.id, reason: 'x' }),
        )
      ).code,
    ).toBe('not_admin');
  });

  it('lets only the holder give access back', async () => {
    const grant = await grantOf('ada@example.com', 'aws', 'admin');
    expect(
      (
        await refusal(
          async () => await relinquishGrant(h.deps, { actor: await h.as('alan@example.com'), grantId: grant.id }),
        )
      ).code,
    ).toBe('not_holder');
  });

  it('offboards: every grant ends with reason offboarded and pending requests are cancelled', async () => {
    const aws = await grantOf('ada@example.com', 'aws', 'admin');
    const gh = await grantOf('ada@example.com', 'github', 'member');
    const pending = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'github',
      role: 'owner',
      justification: 'x',
    });
    const result = await offboardPerson(h.deps, {
      directoryId: 'u-ada',
      source: 'status check',
      status: 'deprovisioned',
    });
    expect(result).toEqual({ grants: 2, requests: 1, delegations: 0 });
    await h.runJobs();
    for (const id of [aws.id, gh.id])
      expect(await h.store.getGrant(id)).toMatchObject({ status: 'revoked', revocationReason: 'offboarded' });
    expect(pending.kind === 'submitted' && (await h.store.getRequest(pending.request.id))!.status).toBe('cancelled');
  });

  it('ends a grant removed outside the bot as removed_externally, without adding the person back', async () => {
    const grant = await grantOf('ada@example.com', 'aws', 'admin');
    await h.yaml.removeFromGroup('u-ada', 'aws-admins');
    expect(await recordExternalRemoval(h.deps, { grantId: grant.id, detail: 'not in aws-admins at reconcile' })).toBe(
      true,
    );
    await h.runJobs();
    expect(await h.store.getGrant(grant.id)).toMatchObject({
      status: 'revoked',
      revocationReason: 'removed_externally',
    });
    expect(h.directory.calls.filter((c) => c.method === 'addToGroup')).toHaveLength(1); // only the original grant
    expect(
      h.notifier.delivered.some(
        (d) => d.notification.type === 'alert' && d.notification.text?.includes('outside the bot'),
      ),
    ).toBe(true);
  });
});

describe('extensions', () => {
  it('offers an extension when the person asks again for a role they hold', async () => {
    const grant = await grantOf('ada@example.com', 'github', 'member');
    const again = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'github',
      role: 'member',
    });
    expect(again.kind).toBe('extension_offer');
    if (again.kind !== 'extension_offer') return;
    expect(again.offer.grant.id).toBe(grant.id);
    expect(again.offer.maxAddSeconds).toBe(90 * 86400); // 120d in all, 30d used
    expect(again.offer.approval).toBe('auto');
  });

  it('refuses with the expiry time when the role has extension: none', async () => {
    const grant = await grantOf('ada@example.com', 'aws', 'admin');
    const again = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'aws',
      role: 'admin',
      justification: 'x',
    });
    // The offer carries the expiry (the views say it in the reader's zone) and why it stops there, in words.
    expect(again.kind === 'extension_offer' && again.offer.expiresAt).toBe(grant.expiresAt);
    expect(again.kind === 'extension_offer' && again.offer.refusal).toBe(
      'This role cannot be extended: request it again after it ends.',
    );
    const error = await refusal(
      extendGrant(h.deps, { actor: await h.as('ada@example.com'), grantId: grant.id, addSeconds: 600 }),
    );
    expect(error.code).toBe('extension_not_allowed');
  });

  it('extends within max_total under `approval: auto`, and resets reminders', async () => {
    const grant = await grantOf('ada@example.com', 'github', 'member');
    const ada = await h.as('ada@example.com');
    expect((await refusal(extendGrant(h.deps, { actor: ada, grantId: grant.id, addSeconds: 91 * 86400 }))).code).toBe(
      'extension_exceeds_limit',
    );
    expect(
      (
        await refusal(
          extendGrant(h.deps, { actor: await h.as('alan@example.com'), grantId: grant.id, addSeconds: 86400 }),
        )
      ).code,
    ).toBe('not_holder');
    const result = await extendGrant(h.deps, { actor: ada, grantId: grant.id, addSeconds: 7 * 86400 });
    expect(result.kind).toBe('extended');
    const extended = (await h.store.getGrant(grant.id))!;
    expect(Date.parse(extended.expiresAt!) - Date.parse(grant.expiresAt!)).toBe(7 * 86400 * 1000);
    expect(await h.store.getExtensions(grant.id)).toHaveLength(1);
  });

  it('sends an extension through the role chain under `approval: same`', async () => {
    const grant = await grantOf('alan@example.com', 'github', 'owner', { durationSeconds: 3600 }); // auto-approved (on call)
    expect(grant.status).toBe('active');
    const result = await extendGrant(h.deps, {
      actor: await h.as('alan@example.com'),
      grantId: grant.id,
      addSeconds: 3600,
      justification: 'incident still open',
    });
    expect(result.kind).toBe('pending_approval');
    if (result.kind !== 'pending_approval') return;
    for (const email of ['marcus@example.com', 'sam@example.com', 'jordan@example.com', 'ciso@example.com']) {
      await reviewRequest(h.deps, { actor: await h.as(email), requestId: result.request.id, decision: 'approve' });
    }
    const extended = (await h.store.getGrant(grant.id))!;
    expect(Date.parse(extended.expiresAt!) - Date.parse(grant.expiresAt!)).toBe(3600_000);
    expect(await h.store.grantForRequest(result.request.id)).toBeUndefined(); // no second grant
  });

  it('checks eligibility again for an extension', async () => {
    const grant = await grantOf('ada@example.com', 'github', 'member');
    await h.yaml.removeFromGroup('u-ada', 'everyone');
    expect(
      (
        await refusal(
          extendGrant(h.deps, { actor: await h.as('ada@example.com'), grantId: grant.id, addSeconds: 86400 }),
        )
      ).code,
    ).toBe('not_eligible');
  });
});

describe('webhook and manual provisioning', () => {
  it('calls the webhook to grant and to revoke', async () => {
    const grant = await grantOf('ada@example.com', 'billing', 'viewer');
    expect(grant.status).toBe('active');
    await relinquishGrant(h.deps, { actor: await h.as('ada@example.com'), grantId: grant.id });
    await h.runJobs();
    expect(h.webhook.calls.map((c) => [c.action, c.grantId, c.user.email])).toEqual([
      ['grant', grant.id, 'ada@example.com'],
      ['revoke', grant.id, 'ada@example.com'],
    ]);
    expect((await h.store.getGrant(grant.id))!.status).toBe('revoked');
  });

  it('activates a manual grant when an assignee (never the grantee) marks the task done, and revokes the same way', async () => {
    const grant = await grantOf('ada@example.com', 'laptop', 'local-admin');
    expect(grant.status).toBe('provisioning');
    const task = (await h.store.getTaskFor(grant.id, 'grant'))!;
    expect(task.assigneeGroup).toBe('it-helpdesk');
    expect(h.notifier.delivered.find((d) => d.notification.type === 'task.assigned')!.notification.recipient).toEqual({
      kind: 'group',
      group: 'it-helpdesk',
    });
    // Ada is in it-helpdesk, but it is her own access.
    expect((await refusal(completeTask(h.deps, { actor: await h.as('ada@example.com'), taskId: task.id }))).code).toBe(
      'not_assignee',
    );
    expect((await refusal(completeTask(h.deps, { actor: await h.as('alan@example.com'), taskId: task.id }))).code).toBe(
      'not_assignee',
    );
    await completeTask(h.deps, { actor: await h.as('ian@example.com'), taskId: task.id });
    expect((await h.store.getGrant(grant.id))!.status).toBe('active');
    expect(
      (await refusal(completeTask(h.deps, { actor: await h.as('priya@example.com'), taskId: task.id }))).code,
    ).toBe('stale_decision');

    await relinquishGrant(h.deps, { actor: await h.as('ada@example.com'), grantId: grant.id });
    await h.runJobs();
    const revokeTask = (await h.store.getTaskFor(grant.id, 'revoke'))!;
    expect((await h.store.getGrant(grant.id))!.status).toBe('revoking');
    await completeTask(h.deps, { actor: await h.as('priya@example.com'), taskId: revokeTask.id });
    expect(await h.store.getGrant(grant.id)).toMatchObject({ status: 'revoked', revocationReason: 'relinquished' });
  });
});

describe('the sweep', () => {
  it('expires requests nobody decided within the approval timeout and settles their approval messages', async () => {
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'github',
      role: 'owner',
      justification: 'x',
    });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    h.clock.advance(72 * 3600);
    const summary = await sweepNow();
    expect(summary.expiredRequests).toBe(1);
    expect((await h.store.getRequest(result.request.id))!.status).toBe('approval_expired');
    expect(h.notifier.of('approval.outcome').map((n) => n.recipient)).toEqual([
      { kind: 'person', directoryId: 'u-marcus' },
    ]);
    expect(h.notifier.of('request.expired', 'u-ada')).toHaveLength(1);
  });

  it('sends each reminder once, only for lead times shorter than the grant', async () => {
    const grant = await grantOf('ada@example.com', 'aws', 'admin', { durationSeconds: 4 * 3600 });
    h.clock.advance(2 * 3600);
    await sweepNow();
    expect(h.notifier.of('grant.reminder')).toHaveLength(0); // "1 day left" does not apply to a 4h grant
    h.clock.advance(3600 + 60);
    await sweepNow();
    await sweepNow();
    expect(h.notifier.of('grant.reminder', 'u-ada').map((n) => n.leadSeconds)).toEqual([3600]);
    expect((await h.store.getGrant(grant.id))!.remindersSent).toEqual([3600]);
  });

  it('retries a message Slack failed to take, and sends it once', async () => {
    h.notifier.failNext(1);
    await grantOf('ada@example.com', 'github', 'member');
    expect(h.notifier.of('request.approved', 'u-ada')).toHaveLength(0); // the first message failed
    expect(h.notifier.of('grant.active', 'u-ada')).toHaveLength(1); // the rest went out
    h.clock.advance(60);
    await sweepNow();
    await sweepNow();
    expect(h.notifier.of('request.approved', 'u-ada')).toHaveLength(1);
    expect(h.notifier.of('grant.active', 'u-ada')).toHaveLength(1);
  });
});
