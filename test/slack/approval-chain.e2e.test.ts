import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION, BLOCK, durationBlockId } from '../../blocks/ids.js';
import { sendSlashCommand } from '../support/slack-signing.js';
import { hasAction, SECRET, startSlackFixture, textOf, USERS, type SlackFixture } from './slack-fixture.js';

let fx: SlackFixture;
beforeEach(async () => {
  fx = await startSlackFixture();
});
afterEach(async () => {
  await fx.close();
});

const dm = (who: keyof typeof USERS) => `D${USERS[who].id.slice(1)}`;

/** Ada asks for GitHub owner for 1 hour through the modal; returns the request id. */
async function adaRequestsOwner(justification = 'Rotate the deploy keys (INC-42)'): Promise<string> {
  const res = await fx.command('ada', 'request github owner');
  expect(res.status).toBe(200);
  const view = await fx.waitModal('ada', (v) => JSON.stringify(v.definition.blocks).includes(ACTION.duration));
  const submitted = await fx.submit(
    'ada',
    {
      [durationBlockId('github', 'owner')]: {
        [ACTION.duration]: { type: 'static_select', selected_option: { value: '3600' } },
      },
      [BLOCK.justification]: { [ACTION.justification]: { type: 'plain_text_input', value: justification } },
    },
    { view },
  );
  // A submitted request closes the form (an empty ack); the DM says what happens next.
  expect(submitted.status).toBe(200);
  expect(submitted.body).toBe('');
  const request = (await fx.h.store.listRequests({ requesterId: USERS.ada.directoryId }))[0]!;
  return request.id;
}

describe('signed requests', () => {
  it('rejects a forged signature and a stale timestamp with 401, recording nothing', async () => {
    const forged = await sendSlashCommand(
      fx.url,
      SECRET,
      { userId: USERS.ada.id, text: 'request', triggerId: fx.slack.issueTriggerId(USERS.ada.id) },
      { signature: 'v0=' + '0'.repeat(64) },
    );
    expect(forged.status).toBe(401);
    const stale = await sendSlashCommand(
      fx.url,
      SECRET,
      { userId: USERS.ada.id, text: 'request', triggerId: fx.slack.issueTriggerId(USERS.ada.id) },
      { tsSec: Math.floor(Date.now() / 1000) - 6 * 60 },
    );
    expect(stale.status).toBe(401);
    const wrongSecret = await sendSlashCommand(fx.url, 'not-the-secret', {
      userId: USERS.ada.id,
      text: 'request',
      triggerId: fx.slack.issueTriggerId(USERS.ada.id),
    });
    expect(wrongSecret.status).toBe(401);
    expect(fx.slack.workspace.calls('views.open')).toHaveLength(0);
    expect(fx.slack.workspace.calls('users.info')).toHaveLength(0);
    expect(await fx.h.store.auditEvents()).toHaveLength(0);
  });
});

describe('signed requests from the future (L8)', () => {
  it('refuses a timestamp more than 5 minutes ahead like a stale one, and accepts small clock skew', async () => {
    const now = Math.floor(Date.now() / 1000);
    const command = () => ({ userId: USERS.ada.id, text: 'help', triggerId: fx.slack.issueTriggerId(USERS.ada.id) });
    expect((await sendSlashCommand(fx.url, SECRET, command(), { tsSec: now + 10 * 365 * 86_400 })).status).toBe(401);
    expect((await sendSlashCommand(fx.url, SECRET, command(), { tsSec: now + 6 * 60 })).status).toBe(401);
    expect(fx.slack.workspace.calls('users.info')).toHaveLength(0);
    expect((await sendSlashCommand(fx.url, SECRET, command(), { tsSec: now + 30 })).status).toBe(200);
  });
});

describe('the whole chain in Slack', () => {
  it('walks request -> manager -> security quorum of 2 in #security -> the CISO -> active', async () => {
    const requestId = await adaRequestsOwner();

    // The requester hears it was submitted: who approves, in people's words, and a Cancel button.
    const submitted = await fx.slack.waitFor(
      'message',
      (m) => m.channel === dm('ada') && m.text.includes('You asked for'),
    );
    expect(textOf(submitted)).toContain('Who approves');
    expect(textOf(submitted)).toContain('1. Your manager, Marcus Chen ← now');
    expect(textOf(submitted)).toContain('2. 2 people from Security team, in <#C0SECURITY>');
    // Not yet asked, but named: the directory says who ciso@example.com is.
    expect(textOf(submitted)).toContain('3. Grace Hopper (CISO)');
    expect(textOf(submitted)).toContain('the request expires');
    expect(hasAction(submitted, ACTION.cancel)).toBe(true);

    // Step 1: the manager's DM.
    const ask1 = await fx.slack.waitFor('message', (m) => m.channel === dm('marcus') && hasAction(m, ACTION.approve));
    const card1 = textOf(ask1);
    for (const fact of [
      '<@U0ADA>',
      'GitHub Organization owner',
      '1 hour',
      'github-owner-jit',
      'Step 1 of 3',
      'Rotate the deploy keys (INC-42)',
    ])
      expect(card1).toContain(fact);
    const click1 = await fx.click('marcus', ask1, ACTION.approve);
    expect(click1.status).toBe(200);
    // Committed before the ack: the decision is in the database when the HTTP answer arrives.
    expect(await fx.h.store.getDecisions(requestId)).toHaveLength(1);
    const settled1 = await fx.slack.waitFor('update', (m) => m.ts === ask1.ts && !hasAction(m, ACTION.approve));
    expect(textOf(settled1)).toContain('Approved* by Marcus Chen');

    // Step 2: one message in #security, not three DMs.
    const channelAsk = await fx.slack.waitFor(
      'message',
      (m) => m.channel === 'C0SECURITY' && hasAction(m, ACTION.approve),
    );
    expect(textOf(channelAsk)).toContain('0 of 2 approvals');
    expect(textOf(channelAsk)).toContain('Step 1, manager: approved by Marcus Chen');
    expect(fx.dms('sam')).toHaveLength(0);
    // Ada's status message moves on in place: step 1 ticked, step 2 now (no new DM for a step approved as asked).
    const moved = await fx.slack.waitFor(
      'update',
      (m) => m.ts === submitted.ts && textOf(m).includes('1. Your manager, Marcus Chen ✓'),
    );
    expect(textOf(moved)).toContain('← now (0 of 2 so far)');

    await fx.click('sam', channelAsk, ACTION.approve);
    const progress = await fx.slack.waitFor(
      'update',
      (m) => m.ts === channelAsk.ts && textOf(m).includes('1 of 2 approvals: Sam Rivera'),
    );
    expect(hasAction(progress, ACTION.approve)).toBe(true); // still open for the second approver

    await fx.click('jordan', channelAsk, ACTION.approve);
    const done2 = await fx.slack.waitFor('update', (m) => m.ts === channelAsk.ts && !hasAction(m, ACTION.approve));
    expect(textOf(done2)).toContain('Approved* by Sam Rivera and Jordan Lee');
    expect(fx.channel('C0SECURITY')).toHaveLength(1); // updated in place

    // Step 3: the named person.
    const ask3 = await fx.slack.waitFor('message', (m) => m.channel === dm('grace') && hasAction(m, ACTION.approve));
    expect(textOf(ask3)).toContain('Step 3 of 3');
    expect(textOf(ask3)).toContain('Step 2, 2 people from Security team: approved by Sam Rivera and Jordan Lee');
    await fx.click('grace', ask3, ACTION.approve);
    await fx.slack.waitFor('update', (m) => m.ts === ask3.ts && !hasAction(m, ACTION.approve));

    // Approved, provisioned, active: the requester is told until when.
    const active = await fx.slack.waitFor('message', (m) => m.channel === dm('ada') && m.text.includes('You now have'));
    expect(textOf(active)).toContain('<!date^');
    await fx.settle();
    const grant = (await fx.h.store.grantForRequest(requestId))!;
    expect(grant.status).toBe('active');
    // The status message lost its Cancel button and its deadline once the request was approved, and says it is active.
    const status = fx.slack.workspace.findMessage(dm('ada'), submitted.ts)!;
    expect(hasAction(status, ACTION.cancel)).toBe(false);
    expect(textOf(status)).not.toContain('the request expires');
    expect(textOf(status)).toContain('Active until');

    const actions = (await fx.h.store.auditEventsFor({ requestId })).map((e) => e.action);
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
    // Each decision names the Slack user who made it.
    const approvals = (await fx.h.store.auditEventsFor({ requestId }))
      .filter((e) => e.action === 'step.approved')
      .map((e) => e.actor);
    expect(approvals.map((a) => (a.kind === 'person' ? a.slackId : null))).toEqual([
      'U0MARCUS',
      'U0SAM',
      'U0JORDAN',
      'U0GRACE',
    ]);
    // The requester's DMs, in order: one status message, updated in place, and the news at the end.
    expect(fx.dms('ada').map((m) => m.text.split(' until ')[0])).toEqual([
      'You asked for GitHub Organization owner for 1 hour',
      'You now have GitHub Organization owner',
    ]);
    expect(textOf(active)).toContain('It is removed automatically when it ends. No reminder: it ends in 1 hour.');
  });
});
