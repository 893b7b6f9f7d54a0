import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessError } from '../../src/domain/errors.js';
import { cancelRequest } from '../../src/operations/cancel-request.js';
import { reviewRequest } from '../../src/operations/review-request.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { createHarness, examplePolicies, type Harness } from '../support/lifecycle-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => await h.close());

async function submitOwner(email = 'ada@example.com', durationSeconds = 3600) {
  const result = await submitRequest(h.deps, {
    requester: await h.as(email),
    app: 'github',
    role: 'owner',
    durationSeconds,
    justification: 'Rotate the deploy keys (INC-42)',
  });
  if (result.kind !== 'submitted') throw new Error(`expected a submitted request, got ${result.kind}`);
  return result.request;
}

async function decide(
  email: string,
  requestId: string,
  decision: 'approve' | 'deny' = 'approve',
  extra: { reason?: string; shortenToSeconds?: number; stepIndex?: number } = {},
) {
  return reviewRequest(h.deps, { actor: await h.as(email), requestId, decision, ...extra });
}

async function refusal(promise: Promise<unknown>): Promise<AccessError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AccessError) return error;
    throw error;
  }
  throw new Error('expected the operation to be refused');
}

describe('the approval chain', () => {
  it('walks manager -> security quorum of 2 -> the CISO, then provisions and activates the grant', async () => {
    const request = await submitOwner();
    expect(request.status).toBe('pending_approval');
    expect((await h.store.getSteps(request.id)).map((s) => [s.label, s.status])).toEqual([
      ['manager', 'open'],
      ['group security-team', 'waiting'],
      ['user ciso@example.com', 'waiting'],
    ]);
    expect((await h.store.getSteps(request.id))[0]!.approvers.map((a) => a.email)).toEqual(['marcus@example.com']);

    await decide('marcus@example.com', request.id);
    const step2 = (await h.store.getSteps(request.id))[1]!;
    expect(step2.status).toBe('open');
    expect(step2.notifyChannel).toBe('C0SECURITY');
    expect(step2.approvers.map((a) => a.email).sort()).toEqual([
      'jordan@example.com',
      'kim@example.com',
      'sam@example.com',
    ]);

    const first = await decide('sam@example.com', request.id);
    expect(first).toMatchObject({ kind: 'step_approved', approvals: 1, required: 2 });
    expect((await h.store.getRequest(request.id))!.currentStep).toBe(1);
    await decide('jordan@example.com', request.id);
    expect((await h.store.getRequest(request.id))!.currentStep).toBe(2);

    const last = await decide('ciso@example.com', request.id);
    expect(last.kind).toBe('request_approved');
    const approved = (await h.store.getRequest(request.id))!;
    expect(approved.status).toBe('approved');
    expect(approved.grantedSeconds).toBe(3600);
    // The decision answers with the request as stored (what the approver's message shows).
    expect(last).toMatchObject({ request: approved });
    expect(approved.grantId).not.toBeNull();

    const grant = (await h.store.grantForRequest(request.id))!;
    expect(grant.status).toBe('provisioning');
    h.clock.advance(5);
    await h.runJobs();
    const active = (await h.store.getGrant(grant.id))!;
    expect(active.status).toBe('active');
    expect(active.alreadyMember).toBe(false);
    expect(active.activatedAt).toBe('2026-03-02T09:00:05.000Z');
    expect(active.expiresAt).toBe('2026-03-02T10:00:05.000Z'); // provisioned time + duration
    expect(await h.directory.isMember('u-ada', 'github-owners')).toBe(true);

    const actions = (await h.store.auditEventsFor({ requestId: request.id })).map((e) => e.action);
    expect(actions).toEqual([
      'request.submitted',
      'step.started',
      'step.approved',
      'step.started',
      'step.approved',
      'step.approved',
      'step.started',
      'step.approved',
      'request.approved',
      'grant.provisioningStarted',
      'grant.provisioned',
      'grant.activated',
    ]);
    // The approval names everyone who approved, step by step, the last decision included.
    const approval = (await h.store.auditEventsFor({ requestId: request.id })).find(
      (e) => e.action === 'request.approved',
    );
    expect(approval?.details['approvers']).toEqual([
      'marcus@example.com (step 1)',
      'sam@example.com (step 2)',
      'jordan@example.com (step 2)',
      'ciso@example.com (step 3)',
    ]);
    // The requester heard about every step, in order.
    expect(
      h.notifier.delivered
        .filter((d) => d.notification.recipient.kind === 'person' && d.notification.recipient.directoryId === 'u-ada')
        .map((d) => d.notification.type),
    ).toEqual(['request.submitted', 'step.approved', 'step.approved', 'request.approved', 'grant.active']);
    // The quorum step posted one channel message, not three DMs.
    expect(
      h.notifier
        .of('approval.requested')
        .filter((n) => n.stepIndex === 1)
        .map((n) => n.recipient),
    ).toEqual([{ kind: 'channel', channel: 'C0SECURITY' }]);
  });

  it('refuses self-approval, a non-approver, and a second decision by the same person', async () => {
    const request = await submitOwner();
    expect((await refusal(decide('ada@example.com', request.id))).code).toBe('self_approval');
    expect((await refusal(decide('alan@example.com', request.id))).code).toBe('not_an_approver');
    await decide('marcus@example.com', request.id);
    await decide('sam@example.com', request.id);
    const again = await refusal(decide('sam@example.com', request.id));
    expect(again.code).toBe('already_decided_step');
    // Said as the approver sees it: this step, and where its quorum stands.
    expect(again.message).toBe('You already approved this step (1 of 2 approvals so far).');
    expect(await h.store.getDecisions(request.id)).toHaveLength(2);
  });

  it('lets one person satisfy at most one step: the CISO who approved as manager is replaced by the admin fallback', async () => {
    await h.close();
    h = createHarness({ policies: examplePolicies({ owner: { eligibleGroups: ['everyone'] } }) });
    const request = await submitOwner('sam@example.com'); // Sam's manager is the CISO
    await decide('ciso@example.com', request.id);
    // Sam, the requester, is excluded from the security step.
    expect((await h.store.getSteps(request.id))[1]!.approvers.map((a) => a.email).sort()).toEqual([
      'jordan@example.com',
      'kim@example.com',
    ]);
    await decide('jordan@example.com', request.id);
    await decide('kim@example.com', request.id);
    const step3 = (await h.store.getSteps(request.id))[2]!;
    expect(step3.label).toBe('user ciso@example.com (admin fallback: access-admins)');
    expect(step3.approvers.map((a) => a.email)).toEqual(['priya@example.com']);
    expect(step3.fallbackReason).toContain('decided earlier step');
    expect(
      (await h.store.auditEventsFor({ requestId: request.id })).some((e) => e.action === 'step.fallbackUsed'),
    ).toBe(true);
    expect((await refusal(decide('ciso@example.com', request.id))).code).toBe('already_decided_step');
    expect((await decide('priya@example.com', request.id)).kind).toBe('request_approved');
  });

  it('falls back to the admin group when the requester has no manager, and logs why', async () => {
    const result = await submitRequest(h.deps, {
      requester: await h.as('marcus@example.com'),
      app: 'aws',
      role: 'admin',
      justification: 'prod incident',
    });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    const step = (await h.store.getSteps(result.request.id))[0]!;
    expect(step.approvers.map((a) => a.email).sort()).toEqual(['ciso@example.com', 'priya@example.com']);
    const fallback = (await h.store.auditEventsFor({ requestId: result.request.id })).find(
      (e) => e.action === 'step.fallbackUsed',
    );
    expect(fallback?.details.reason).toContain('marcus@example.com has no manager in the directory');
  });

  it('resolves each step from live directory data when it starts', async () => {
    const request = await submitOwner();
    await h.yaml.removeFromGroup('u-kim', 'security-team');
    h.directory.setStatus('u-jordan', 'suspended');
    await decide('marcus@example.com', request.id);
    const step2 = (await h.store.getSteps(request.id))[1]!;
    // Only Sam is left of security-team: fewer than 2, so the admins decide the step.
    expect(step2.label).toContain('admin fallback');
    expect(step2.approvers.map((a) => a.email).sort()).toEqual(['ciso@example.com', 'priya@example.com']);
    expect(step2.fallbackReason).toContain('1 eligible approver, 2 needed');
  });

  it('does not let an approver who is no longer active decide', async () => {
    const request = await submitOwner();
    h.directory.setStatus('u-marcus', 'suspended');
    const error = await refusal(decide('marcus@example.com', request.id));
    expect(error.code).toBe('approver_inactive');
    expect((await h.store.getRequest(request.id))!.status).toBe('pending_approval');
  });

  it('checks eligibility again at each decision', async () => {
    const request = await submitOwner();
    await h.yaml.removeFromGroup('u-ada', 'platform-team');
    const result = await decide('marcus@example.com', request.id);
    expect(result.kind).toBe('no_longer_eligible');
    const denied = (await h.store.getRequest(request.id))!;
    expect(denied.status).toBe('denied');
    expect(denied.decisionReason).toContain('no longer eligible');
  });

  it('ends the request on any deny, which needs a reason', async () => {
    const request = await submitOwner();
    expect((await refusal(decide('marcus@example.com', request.id, 'deny'))).code).toBe('reason_required');
    const result = await decide('marcus@example.com', request.id, 'deny', { reason: 'Use the deploy bot instead' });
    expect(result.kind).toBe('denied');
    const denied = (await h.store.getRequest(request.id))!;
    expect(denied).toMatchObject({ status: 'denied', decisionReason: 'Use the deploy bot instead' });
    await h.runJobs();
    expect(h.notifier.of('request.denied', 'u-ada')).toHaveLength(1);
    // A late click on the decided request changes nothing and says why.
    const stale = await refusal(decide('sam@example.com', request.id));
    expect(stale.code).toBe('stale_decision');
    expect(stale.message).toContain('already denied');
  });

  it('lets an approver shorten the duration but never lengthen it', async () => {
    const request = await submitOwner('ada@example.com', 4 * 3600);
    expect(
      (await refusal(decide('marcus@example.com', request.id, 'approve', { shortenToSeconds: 5 * 3600 }))).code,
    ).toBe('invalid_duration');
    await decide('marcus@example.com', request.id, 'approve', { shortenToSeconds: 3600 });
    await decide('sam@example.com', request.id);
    await decide('kim@example.com', request.id);
    await decide('ciso@example.com', request.id);
    expect((await h.store.getRequest(request.id))!.grantedSeconds).toBe(3600);
    expect((await h.store.grantForRequest(request.id))!.durationSeconds).toBe(3600);
  });

  it('treats a click on an earlier step as stale', async () => {
    const request = await submitOwner();
    await decide('marcus@example.com', request.id, 'approve', { stepIndex: 0 });
    const stale = await refusal(decide('sam@example.com', request.id, 'approve', { stepIndex: 0 }));
    expect(stale.code).toBe('stale_decision');
    expect(stale.message).toContain('Step 1');
  });

  it('records exactly one outcome when two approvers race for one step', async () => {
    await h.close();
    h = createHarness({
      policies: examplePolicies({ owner: { approval: [{ kind: 'group', group: 'security-team', minApprovals: 1 }] } }),
    });
    const request = await submitOwner();
    const results = await Promise.allSettled([
      decide('sam@example.com', request.id),
      decide('jordan@example.com', request.id, 'deny', { reason: 'no' }),
      decide('kim@example.com', request.id),
    ]);
    const winners = results.filter((r) => r.status === 'fulfilled');
    expect(winners).toHaveLength(1);
    for (const r of results) if (r.status === 'rejected') expect((r.reason as AccessError).code).toBe('stale_decision');
    expect(await h.store.getDecisions(request.id)).toHaveLength(1);
    const outcomes = (await h.store.auditEventsFor({ requestId: request.id })).filter(
      (e) => e.action === 'request.approved' || e.action === 'request.denied',
    );
    expect(outcomes).toHaveLength(1);
  });

  it('lets only the requester cancel, and only while pending', async () => {
    const request = await submitOwner();
    await expect(
      cancelRequest(h.deps, {
        actor: {
          person: {
            id: 'u-marcus',
            email: 'marcus@example.com',
            login: 'marcus@example.com',
            name: 'Marcus',
            status: 'active',
            active: true,
          },
        },
        requestId: request.id,
      }),
    ).rejects.toThrow(/Only the person who asked/);
    const cancelled = await cancelRequest(h.deps, { actor: await h.as('ada@example.com'), requestId: request.id });
    expect(cancelled.status).toBe('cancelled');
    await expect(
      cancelRequest(h.deps, {
        actor: {
          person: {
            id: 'u-ada',
            email: 'ada@example.com',
            login: 'ada@example.com',
            name: 'Ada',
            status: 'active',
            active: true,
          },
        },
        requestId: request.id,
      }),
    ).rejects.toThrow(/already cancelled/);
    expect((await refusal(decide('marcus@example.com', request.id))).code).toBe('stale_decision');
  });
});

describe('submitting', () => {
  it('refuses an ineligible person with the reason, and logs the refusal', async () => {
    const error = await refusal(
      submitRequest(h.deps, {
        requester: await h.as('kim@example.com'),
        app: 'github',
        role: 'owner',
        justification: 'x',
      }),
    );
    expect(error.code).toBe('not_eligible');
    expect(error.message).toContain('not a member of any eligible group (platform-team)');
    expect((await h.store.auditEvents()).map((e) => e.action)).toEqual(['request.refused']);
  });

  it('requires a justification where the policy does, and a duration within the maximum', async () => {
    const ada = await h.as('ada@example.com');
    expect(
      (await refusal(submitRequest(h.deps, { requester: ada, app: 'github', role: 'owner', justification: '  ' })))
        .code,
    ).toBe('justification_required');
    expect(
      (
        await refusal(
          submitRequest(h.deps, {
            requester: ada,
            app: 'github',
            role: 'owner',
            justification: 'x',
            durationSeconds: 5 * 3600,
          }),
        )
      ).code,
    ).toBe('invalid_duration');
    expect((await refusal(submitRequest(h.deps, { requester: ada, app: 'github', role: 'nope' }))).message).toContain(
      'GitHub has no role `nope`. Its roles: `owner` (Organization owner), `member` (Member), `triage` (Triage).',
    );
  });

  it('points a second request to the pending one', async () => {
    const first = await submitOwner();
    const second = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'github',
      role: 'owner',
      justification: 'again',
    });
    expect(second).toMatchObject({ kind: 'already_pending', request: { id: first.id } });
    expect(await h.store.listRequests({})).toHaveLength(1);
  });

  it('approves automatically when auto_approve.when holds, and logs the rule', async () => {
    const result = await submitRequest(h.deps, {
      requester: await h.as('alan@example.com'),
      app: 'github',
      role: 'owner',
      durationSeconds: 3600,
      justification: 'on call',
    });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    expect(result.request).toMatchObject({ status: 'approved', autoApproveRule: 'auto_approve.when' });
    const auto = (await h.store.auditEventsFor({ requestId: result.request.id })).find(
      (e) => e.action === 'request.autoApproved',
    )!;
    expect(auto.details.rule).toBe('auto_approve.when');
    // Two hours is over the rule's max_duration: the chain applies.
    const longer = await submitRequest(h.deps, {
      requester: await h.as('alan@example.com'),
      app: 'aws',
      role: 'admin',
      durationSeconds: 7200,
      justification: 'x',
    });
    expect(longer.kind === 'submitted' && longer.request.status).toBe('pending_approval');
  });
});
