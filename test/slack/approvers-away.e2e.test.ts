/**
 * Approvers who do not answer, end to end: reminders at `approver_reminders`, escalation after
 * `escalate_after`, and delegation (`/access delegate @person until DATE`, `off`, expiry).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, onTestFinished } from 'vitest';
import { ACTION, BLOCK } from '../../blocks/ids.js';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import type { Store } from '../../src/operations/ports.js';
import { offboardPerson } from '../../src/operations/revoke-grant.js';
import { sweep } from '../../src/operations/sweep.js';
import { EXAMPLE_ROLES, examplePolicies } from '../support/lifecycle-harness.js';
import { exportOf } from '../exports/helpers.js';
import { countingStore } from '../support/counting-store.js';
import { hasAction, startSlackFixture, textOf, USERS, type SlackFixture, type UserName } from './slack-fixture.js';
import { clickInView, openHome } from './slack2-helpers.js';

let fx: SlackFixture;
afterEach(async () => {
  await fx?.close();
});

const text = (value: unknown) => JSON.stringify(value);
const JOBS = { worker: 'approvers-away-e2e', baseDelaySeconds: 1, random: () => 0.999999 };
const HOUR = 3600;

/** AWS admin (one manager step) escalates to the platform team after 8 hours. */
async function start(options: { approverReminders?: number[]; store?: Store } = {}) {
  const policies = examplePolicies();
  const aws = policies.find((p) => p.app === 'aws')!;
  aws.roles = [
    {
      ...EXAMPLE_ROLES.awsAdmin,
      approval: [
        { kind: 'manager', escalation: { afterSeconds: 8 * HOUR, to: { kind: 'group', group: 'platform-team' } } },
      ],
    },
  ];
  fx = await startSlackFixture({
    policies,
    settings: { approverRemindersSeconds: options.approverReminders ?? [] },
    ...(options.store ? { store: options.store } : {}),
  });
}

/** `who` asks for AWS admin for an hour; returns the request id. */
async function requestAws(who: UserName): Promise<string> {
  const res = await fx.requestViaModal(who, 'aws', 'admin', { seconds: HOUR, justification: 'Fix the billing alarm' });
  expect(res.status).toBe(200);
  fx.slack.workspace.closeModals(USERS[who].id);
  await fx.settle();
  return (await fx.h.store.listRequests({ requesterId: USERS[who].directoryId }))[0]!.id;
}

/** Moves the clock to `hours` after the request was made, and sweeps twice (a repeated pass changes nothing). */
async function sweepAt(requestId: string, hours: number): Promise<void> {
  const created = (await fx.h.store.getRequest(requestId))!.createdAt;
  fx.h.clock.set(new Date(Date.parse(created) + hours * HOUR * 1000).toISOString());
  await sweep(fx.h.deps, JOBS);
  await sweep(fx.h.deps, JOBS);
  await fx.settle();
}

const askOf = (who: UserName) =>
  fx.dms(who).find((m) => hasAction(m, ACTION.approve) && !m.text.startsWith('Reminder'));
const reminders = (who: UserName) => fx.dms(who).filter((m) => m.text.startsWith('Reminder:'));

describe('approver reminders', () => {
  it('reminds the pending approver at each interval, once, and never after the step is decided', async () => {
    // A third lead, still to come when the step is decided: the sweep at 30 h would send it if
    // decided steps were not skipped.
    await start({ approverReminders: [HOUR, 4 * HOUR, 8 * HOUR] });
    const requestId = await requestAws('ada');
    await sweepAt(requestId, 0.5);
    expect(reminders('marcus')).toHaveLength(0);
    await sweepAt(requestId, 1.1);
    expect(reminders('marcus')).toHaveLength(1);
    expect(reminders('marcus')[0]!.text).toMatch(
      /^Reminder: Ada Lovelace asks for AWS Administrator for 1 hour, waiting 1 hour for your decision/,
    );
    expect(hasAction(reminders('marcus')[0]!, ACTION.approve)).toBe(true);
    await sweepAt(requestId, 2);
    expect(reminders('marcus')).toHaveLength(1);
    await sweepAt(requestId, 4.1);
    expect(reminders('marcus')).toHaveLength(2);

    // The requester's App Home says who is being waited on, and since when.
    const home = await openHome(fx, 'ada');
    expect(JSON.stringify(home.definition.blocks)).toMatch(/Waiting on Marcus Chen since <!date\^\d+/);

    await fx.click('marcus', askOf('marcus')!, ACTION.approve);
    await fx.settle();
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('approved');
    // No reminder after the decision, whatever the sweep finds later (even past a configured lead).
    const posted = fx.dms('marcus').length;
    await sweepAt(requestId, 30);
    expect(fx.dms('marcus')).toHaveLength(posted);
    expect((await fx.h.store.auditEventsFor({ requestId })).filter((e) => e.action === 'step.reminded')).toHaveLength(
      2,
    );
  });
});

describe('approver reminders, to approvers only', () => {
  it('does not remind an approver who is no longer active', async () => {
    await start({ approverReminders: [HOUR] });
    const requestId = await requestAws('ada');
    fx.h.directory.setStatus(USERS.marcus.directoryId, 'suspended');
    await sweepAt(requestId, 1.1);
    expect(reminders('marcus')).toHaveLength(0);
    expect((await fx.h.store.auditEventsFor({ requestId })).filter((e) => e.action === 'step.reminded')).toMatchObject([
      { details: { to: [] } },
    ]);
  });
});

describe('escalation', () => {
  it("adds the escalation target after escalate_after, keeps the chain's rules, tells everyone, and an escalated approval completes it", async () => {
    // A reminder is due when the step escalates: Marcus is reminded, Alan (asked just now) is not.
    await start({ approverReminders: [8 * HOUR] });
    const requestId = await requestAws('ada');
    const marcusAsk = askOf('marcus')!;
    await sweepAt(requestId, 7.9);
    expect(askOf('alan')).toBeUndefined();

    await sweepAt(requestId, 8.1);
    // The platform team is Ada (the requester), Alan, Marcus (already the approver) and Dave (left):
    // only Alan is added.
    const step = (await fx.h.store.getSteps(requestId))[0]!;
    expect(step.escalatedAt).not.toBeNull();
    expect(step.escalationApprovers.map((p) => p.email)).toEqual(['alan@example.com']);
    const audit = (await fx.h.store.auditEventsFor({ requestId })).find((e) => e.action === 'step.escalated')!;
    expect(audit.details.excluded).toEqual(
      expect.arrayContaining([
        { email: 'ada@example.com', reason: 'requester' },
        { email: 'marcus@example.com', reason: 'already an approver' },
        { email: 'dave@example.com', reason: 'inactive' },
      ]),
    );
    expect(askOf('ada')).toBeUndefined();
    expect(reminders('marcus')).toHaveLength(1);
    expect(reminders('alan')).toHaveLength(0);

    // The original approver hears it, and their card says the step escalated.
    await fx.slack.waitFor('message', (m) => m.channel === fx.dm('marcus') && m.text.startsWith('Escalated:'));
    const marcusCard = await fx.slack.waitFor(
      'update',
      (m) => m.ts === marcusAsk.ts && textOf(m).includes('Escalated'),
    );
    expect(hasAction(marcusCard, ACTION.approve)).toBe(true);
    // The requester hears who is asked now.
    await fx.slack.waitFor('message', (m) => m.channel === fx.dm('ada') && m.text.includes('was escalated'));

    const alanAsk = askOf('alan')!;
    expect(textOf(alanAsk)).toContain('Escalated');
    await fx.click('alan', alanAsk, ACTION.approve);
    await fx.settle();
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('approved');
    expect((await fx.h.store.grantForRequest(requestId))!.status).toBe('active');
    // The step is decided: Marcus can no longer decide it.
    const late = await fx.click('marcus', marcusAsk, ACTION.approve);
    expect(late.status).toBe(200);
    expect(await fx.h.store.getDecisions(requestId)).toHaveLength(1);

    // The export names the escalation.
    const { rows } = await exportOf(fx.h, 'requests');
    expect(rows.find((r) => r.request_id === requestId)).toMatchObject({
      step_1_escalation_asked: expect.stringContaining('alan@example.com'),
    });
  });
});

describe('delegation', () => {
  /** A day, YYYY-MM-DD, `days` after the clock's today. */
  const dayAfter = (days: number) =>
    new Date(fx.h.clock.now().getTime() + days * 86_400_000).toISOString().slice(0, 10);

  async function delegate(who: UserName, to: UserName, until: string) {
    const res = await fx.command(who, `delegate <@${USERS[to].id}|${USERS[to].email.split('@')[0]}> until ${until}`);
    expect(res.status).toBe(200);
    return res;
  }

  it('lets the delegate decide a step "for" the delegator, shown on the card and in the export', async () => {
    await start();
    const res = await delegate('marcus', 'kim', dayAfter(3));
    expect(JSON.stringify(res.json ?? res.body)).toContain('Kim Nguyen decides your approvals until');
    await fx.settle();
    await fx.slack.waitFor(
      'message',
      (m) => m.channel === fx.dm('kim') && m.text.startsWith('Marcus Chen delegated their approvals to you'),
    );
    expect((await fx.h.store.auditEvents()).map((e) => e.action)).toContain('delegation.created');
    const kimsHome = await openHome(fx, 'kim');
    expect(JSON.stringify(kimsHome.definition.blocks)).toContain('Marcus Chen');

    const requestId = await requestAws('ada');
    const marcusAsk = askOf('marcus')!;
    const kimAsk = askOf('kim')!;
    expect(textOf(kimAsk)).toContain('in place of Marcus Chen');
    await fx.click('kim', kimAsk, ACTION.approve);
    await fx.settle();
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('approved');
    const [decision] = await fx.h.store.getDecisions(requestId);
    expect(decision).toMatchObject({
      approver: { email: 'kim@example.com' },
      onBehalfOf: { email: 'marcus@example.com' },
    });
    const settled = await fx.slack.waitFor('update', (m) => m.ts === marcusAsk.ts && !hasAction(m, ACTION.approve));
    expect(textOf(settled)).toContain('Kim Nguyen for Marcus Chen');

    const { rows } = await exportOf(fx.h, 'requests');
    const row = rows.find((r) => r.request_id === requestId)!;
    expect(row.step_1_decided_by).toBe('Kim Nguyen <kim@example.com> for Marcus Chen <marcus@example.com>');
    expect(row.approval_summary).toContain(
      'approved by Kim Nguyen <kim@example.com> for Marcus Chen <marcus@example.com>',
    );

    // Marcus's App Home shows the delegation, with End delegation.
    const marcusHome = await openHome(fx, 'marcus');
    expect(JSON.stringify(marcusHome.definition.blocks)).toContain('Kim Nguyen');
    const after = fx.slack.workspace.cursor();
    expect((await clickInView(fx, 'marcus', marcusHome, ACTION.endDelegation)).status).toBe(200);
    await fx.slack.waitFor('home', (v) => v.userId === USERS.marcus.id, { after });
    expect(await fx.h.store.activeDelegationBy(USERS.marcus.directoryId)).toBeUndefined();
  });

  it("rebuilds the delegate's ask reading the request's steps once, and still says in whose place", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'approvers-away-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const counting = countingStore(SqliteStore.open(join(dir, 'access.db')));
    await start({ store: counting.store });
    await delegate('marcus', 'kim', dayAfter(3));
    await fx.settle();
    const requestId = await requestAws('ada');
    const kimAsk = askOf('kim')!;
    expect(textOf(kimAsk)).toContain('in place of Marcus Chen');
    const kimsDms = fx.dms('kim').length;
    counting.reset();
    // The ask delivered again (a retried job): the message rebuilt is the one posted (in place of
    // Marcus), so Kim's DM is neither posted again nor changed.
    const updates = fx.slack.workspace.calls('chat.update').length;
    await fx.h.deps.notifier.deliver(
      {
        type: 'approval.requested',
        recipient: { kind: 'person', directoryId: USERS.kim.directoryId },
        requestId,
        stepIndex: 0,
      },
      `approval:${requestId}:0:${USERS.kim.directoryId}`,
    );
    expect(fx.dms('kim')).toHaveLength(kimsDms);
    expect(fx.slack.workspace.calls('chat.update')).toHaveLength(updates);
    expect(counting.calls('getSteps')).toBe(1);
  });

  it('never lets a delegate decide a second step of the same request', async () => {
    // GitHub owner: the manager, then 2 of the security team in #security. Kim is in the security team.
    await start();
    await delegate('marcus', 'kim', dayAfter(3));
    const res = await fx.requestViaModal('ada', 'github', 'owner', {
      seconds: HOUR,
      justification: 'Rotate the deploy keys',
    });
    expect(res.status).toBe(200);
    await fx.settle();
    const requestId = (await fx.h.store.listRequests({ requesterId: USERS.ada.directoryId }))[0]!.id;
    await fx.click('kim', askOf('kim')!, ACTION.approve);
    await fx.settle();
    const channelAsk = await fx.slack.waitFor(
      'message',
      (m) => m.channel === 'C0SECURITY' && hasAction(m, ACTION.approve),
    );
    await fx.click('kim', channelAsk, ACTION.approve);
    await fx.settle();
    expect((await fx.h.store.getDecisions(requestId)).map((d) => [d.stepIndex, d.approver.email])).toEqual([
      [0, 'kim@example.com'],
    ]);
    await fx.click('sam', channelAsk, ACTION.approve);
    await fx.settle();
    expect((await fx.h.store.getDecisions(requestId)).map((d) => [d.stepIndex, d.approver.email])).toEqual([
      [0, 'kim@example.com'],
      [1, 'sam@example.com'],
    ]);
  });

  it('never lets the delegate decide their own request', async () => {
    await start();
    await delegate('marcus', 'alan', dayAfter(3));
    const requestId = await requestAws('alan');
    expect(askOf('alan')).toBeUndefined();
    // A forged click on Marcus's card by Alan is refused.
    await fx.click('alan', askOf('marcus')!, ACTION.approve);
    await fx.settle();
    expect(await fx.h.store.getDecisions(requestId)).toHaveLength(0);
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('pending_approval');
  });

  it('ends with `/access delegate off` and at its end: the delegate may no longer decide', async () => {
    await start();
    await delegate('marcus', 'kim', dayAfter(3));
    const requestId = await requestAws('ada');
    const kimAsk = askOf('kim')!;
    expect((await fx.command('marcus', 'delegate off')).status).toBe(200);
    await fx.settle();
    await fx.slack.waitFor(
      'message',
      (m) => m.channel === fx.dm('kim') && m.text.startsWith('You no longer decide Marcus Chen'),
    );
    await fx.click('kim', kimAsk, ACTION.approve);
    await fx.settle();
    expect(await fx.h.store.getDecisions(requestId)).toHaveLength(0);

    // Again, until tomorrow: past its end the sweep ends it and both are told.
    await delegate('marcus', 'kim', dayAfter(1));
    const active = (await fx.h.store.activeDelegationBy(USERS.marcus.directoryId))!;
    fx.h.clock.set(new Date(Date.parse(active.endsAt) + 60_000).toISOString());
    await sweep(fx.h.deps, JOBS);
    await fx.settle();
    expect(await fx.h.store.getDelegation(active.id)).toMatchObject({ status: 'ended', endedReason: 'expired' });
    await fx.slack.waitFor(
      'message',
      (m) => m.channel === fx.dm('marcus') && m.text.startsWith('Kim Nguyen no longer decides your approvals'),
    );
    await fx.click('kim', kimAsk, ACTION.approve);
    await fx.settle();
    expect(await fx.h.store.getDecisions(requestId)).toHaveLength(0);
    const ends = (await fx.h.store.auditEvents())
      .filter((e) => e.action === 'delegation.ended')
      .map((e) => e.details.reason);
    expect(ends).toEqual(['off', 'expired']);
  });

  it('ends when the delegator is found inactive as the delegate decides, and when either person is offboarded', async () => {
    await start();
    await delegate('marcus', 'kim', dayAfter(3));
    const requestId = await requestAws('ada');
    fx.h.directory.setStatus(USERS.marcus.directoryId, 'suspended');
    await fx.click('kim', askOf('kim')!, ACTION.approve);
    await fx.settle();
    expect(await fx.h.store.getDecisions(requestId)).toHaveLength(0);
    expect(await fx.h.store.activeDelegationBy(USERS.marcus.directoryId)).toBeUndefined();
    fx.h.directory.setStatus(USERS.marcus.directoryId, 'active');

    await delegate('marcus', 'kim', dayAfter(3));
    expect(
      await offboardPerson(fx.h.deps, { directoryId: USERS.kim.directoryId, source: 'test', status: 'deprovisioned' }),
    ).toMatchObject({ delegations: 1 });
    expect(await fx.h.store.activeDelegationBy(USERS.marcus.directoryId)).toBeUndefined();
    const ends = (await fx.h.store.auditEvents())
      .filter((e) => e.action === 'delegation.ended')
      .map((e) => e.details.reason);
    expect(ends).toEqual(['delegator_inactive', 'delegate_inactive']);
  });

  it('asks for whom and until when in a form when the arguments are missing', async () => {
    await start();
    expect((await fx.command('marcus', 'delegate')).status).toBe(200);
    const form = await fx.waitModal('marcus', (v) => v.callbackId === 'access_delegate');
    expect(JSON.stringify(form.blocks)).toContain(ACTION.delegatePerson);
    const values = (user: string, day: string) => ({
      [BLOCK.delegatePerson]: { [ACTION.delegatePerson]: { type: 'users_select', selected_user: user } },
      [BLOCK.delegateUntil]: { [ACTION.delegateUntil]: { type: 'datepicker', selected_date: day } },
    });
    // Problems come back on the field they are about.
    const toSelf = await fx.submit('marcus', values(USERS.marcus.id, dayAfter(3)), { view: form });
    expect(toSelf.json).toMatchObject({
      response_action: 'errors',
      errors: { [BLOCK.delegatePerson]: expect.stringContaining('someone other than yourself') },
    });
    const past = await fx.submit('marcus', values(USERS.kim.id, dayAfter(-2)), { view: form });
    expect(past.json).toMatchObject({
      response_action: 'errors',
      errors: { [BLOCK.delegateUntil]: expect.stringContaining('must end in the future') },
    });
    const tooLong = await fx.submit('marcus', values(USERS.kim.id, dayAfter(120)), { view: form });
    expect(tooLong.json).toMatchObject({
      response_action: 'errors',
      errors: { [BLOCK.delegateUntil]: expect.stringContaining('at most 90 days') },
    });
    expect(await fx.h.store.activeDelegationBy(USERS.marcus.directoryId)).toBeUndefined();
    const done = await fx.submit('marcus', values(USERS.kim.id, dayAfter(3)), { view: form });
    expect(text(done.json)).toContain('Kim Nguyen decides your approvals until');
    expect((await fx.h.store.activeDelegationBy(USERS.marcus.directoryId))?.delegate.email).toBe('kim@example.com');

    // A refusal is the command's ephemeral answer.
    const self = await fx.command('marcus', `delegate <@U0MARCUS|marcus> until ${dayAfter(3)}`);
    expect(self.json).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringContaining('someone other than yourself'),
    });
    expect((await fx.h.store.activeDelegationBy(USERS.marcus.directoryId))?.delegate.email).toBe('kim@example.com');
  });
});
