import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION, BLOCK } from '../../blocks/ids.js';
import { LIMITS } from '../../blocks/limits.js';
import type { StoredMessage } from '../../src/sandbox/slack-api/slack-workspace.js';
import { sendBlockAction } from '../support/slack-signing.js';
import {
  findElement,
  hasAction,
  SECRET,
  startSlackFixture,
  textOf,
  USERS,
  type SlackFixture,
  type UserName,
} from './slack-fixture.js';

let fx: SlackFixture;
beforeEach(async () => {
  fx = await startSlackFixture();
});
afterEach(async () => {
  await fx.close();
});

/** Ada asks for AWS admin (one step: her manager, Marcus); returns the request id and Marcus's message. */
async function adaAsksForAwsAdmin(
  input: { seconds?: number; justification?: string } = {},
): Promise<{ requestId: string; ask: StoredMessage }> {
  const res = await fx.requestViaModal('ada', 'aws', 'admin', { justification: 'Debug the billing lambda', ...input });
  // A submitted request closes the form (an empty ack); the DM says what happens next.
  expect(res.status).toBe(200);
  expect(res.body).toBe('');
  const requestId = (await fx.h.store.listRequests({ requesterId: USERS.ada.directoryId }))[0]!.id;
  const ask = await fx.slack.waitFor('message', (m) => m.channel === fx.dm('marcus') && hasAction(m, ACTION.approve));
  return { requestId, ask };
}

function ephemeralFor(who: UserName, includes: string) {
  return fx.slack.waitFor('ephemeral', (m) => m.ephemeralFor === USERS[who].id && m.text.includes(includes));
}

describe('deciding in Slack', () => {
  it('denies with a reason given in a modal, and refuses an empty reason inline', async () => {
    const { requestId, ask } = await adaAsksForAwsAdmin();
    await fx.click('marcus', ask, ACTION.deny);
    const form = await fx.waitModal('marcus', (v) => v.callbackId === 'access_deny_reason');

    const empty = await fx.submit(
      'marcus',
      { [BLOCK.reason]: { [ACTION.reason]: { type: 'plain_text_input', value: '   ' } } },
      { view: form },
    );
    expect(empty.json).toMatchObject({
      response_action: 'errors',
      errors: { [BLOCK.reason]: expect.stringContaining('reason') },
    });
    expect(await fx.h.store.getDecisions(requestId)).toHaveLength(0);

    const denied = await fx.submit(
      'marcus',
      { [BLOCK.reason]: { [ACTION.reason]: { type: 'plain_text_input', value: 'Not during the <!here> freeze' } } },
      { view: form },
    );
    expect(denied.status).toBe(200);
    expect(denied.body).toBe(''); // closes the modal
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('denied');

    const settled = await fx.slack.waitFor('update', (m) => m.ts === ask.ts && !hasAction(m, ACTION.approve));
    expect(textOf(settled)).toContain('Denied* by Marcus Chen');
    expect(textOf(settled)).toContain('Not during the &lt;!here&gt; freeze');
    const told = await fx.slack.waitFor('message', (m) => m.channel === fx.dm('ada') && m.text.includes('denied'));
    expect(textOf(told)).toContain('>Not during the &lt;!here&gt; freeze');
    expect((await fx.h.store.auditEventsFor({ requestId })).map((e) => e.action)).toContain('request.denied');
  });

  it('approves a shorter duration than asked for', async () => {
    const { requestId, ask } = await adaAsksForAwsAdmin({ seconds: 4 * 3600 });
    expect(textOf(ask)).toContain('Approve 4 hours');
    const option = `${requestId}|0|3600`;
    const res = await fx.click('marcus', ask, ACTION.approveShorter, {
      type: 'static_select',
      selected_option: { text: { type: 'plain_text', text: '1 hour' }, value: option },
    });
    expect(res.status).toBe(200);
    // The pick opens a form that names what was picked (Slack's confirm dialog cannot): nothing is decided yet.
    const confirm = await fx.waitModal('marcus', (v) => v.callbackId === 'access_approve_shorter_confirm');
    expect(JSON.stringify(confirm)).toContain(
      'Ada Lovelace asked for *AWS Administrator* for *4 hours*. Approve only *1 hour*?',
    );
    expect(confirm.submit).toMatchObject({ text: 'Approve 1 hour' });
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('pending_approval');
    const decided = await fx.submit('marcus', {}, { view: confirm });
    expect(decided.body).toBe('');
    expect(await fx.h.store.getRequest(requestId)).toMatchObject({
      status: 'approved',
      requestedSeconds: 4 * 3600,
      grantedSeconds: 3600,
    });
    const settled = await fx.slack.waitFor('update', (m) => m.ts === ask.ts && !hasAction(m, ACTION.approve));
    expect(textOf(settled)).toContain('Approved* by Marcus Chen, for 1 hour (asked: 4 hours)');
    const active = await fx.slack.waitFor(
      'message',
      (m) => m.channel === fx.dm('ada') && m.text.includes('You now have'),
    );
    expect(active.text).toContain('AWS Administrator');
    await fx.settle();
    expect((await fx.h.store.grantForRequest(requestId))!.durationSeconds).toBe(3600);
  });

  it('lets the requester cancel, updates the approver message, and refuses anyone else', async () => {
    const { requestId, ask } = await adaAsksForAwsAdmin();
    const submitted = await fx.slack.waitFor(
      'message',
      (m) => m.channel === fx.dm('ada') && hasAction(m, ACTION.cancel),
    );

    // A forged payload: the Cancel button's value clicked from Marcus's own conversation.
    await fx.click('marcus', { ...submitted, channel: fx.dm('marcus') }, ACTION.cancel);
    await ephemeralFor('marcus', 'Only the person who asked');
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('pending_approval');

    await fx.click('ada', submitted, ACTION.cancel);
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('cancelled');
    const settled = await fx.slack.waitFor('update', (m) => m.ts === ask.ts && !hasAction(m, ACTION.approve));
    expect(textOf(settled)).toContain('Cancelled* by the requester');
    // Her own cancellation is said where she clicked: the status message, updated in place (no new DM).
    const updated = await fx.slack.waitFor('update', (m) => m.ts === submitted.ts && !hasAction(m, ACTION.cancel));
    expect(textOf(updated)).toContain('*Cancelled*');
    expect(textOf(updated)).not.toContain('the request expires');
    await fx.settle();
    expect(fx.dms('ada').filter((m) => m.text.includes('cancelled'))).toHaveLength(0);
  });

  it('refuses forged Approve clicks by a non-approver and by the requester, recording nothing', async () => {
    const { requestId, ask } = await adaAsksForAwsAdmin();
    const before = (await fx.h.store.auditEvents()).length;

    // Forged payloads: the Approve button's value, clicked from each person's own conversation.
    await fx.click('alan', { ...ask, channel: fx.dm('alan') }, ACTION.approve);
    await ephemeralFor('alan', 'not an approver');
    await fx.click('ada', { ...ask, channel: fx.dm('ada') }, ACTION.approve);
    await ephemeralFor('ada', 'own request');

    expect(await fx.h.store.getDecisions(requestId)).toHaveLength(0);
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('pending_approval');
    // Identity binding of the forger is the only new row (first contact), never a decision.
    expect((await fx.h.store.auditEvents()).slice(before).map((e) => e.action)).toEqual(['identity.bound']);
  });

  it('records one decision for a double click, and explains the second', async () => {
    const { requestId, ask } = await adaAsksForAwsAdmin();
    const [a, b] = await Promise.all([
      fx.click('marcus', ask, ACTION.approve),
      fx.click('marcus', ask, ACTION.approve),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(await fx.h.store.getDecisions(requestId)).toHaveLength(1);
    await ephemeralFor('marcus', 'already');
    expect((await fx.h.store.auditEventsFor({ requestId })).filter((e) => e.action === 'step.approved')).toHaveLength(
      1,
    );
  });

  it('changes nothing on a stale click after the decision, and says why', async () => {
    const { requestId, ask: live } = await adaAsksForAwsAdmin();
    // The stand-in updates messages in place; keep the copy Marcus still has on screen.
    const ask = structuredClone(live);
    await fx.click('marcus', ask, ACTION.approve);
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('approved');
    await fx.settle(); // provisioning finishes, so the count below sees only what the clicks do
    const events = (await fx.h.store.auditEvents()).length;
    // The old copy of the message (with buttons) clicked again, by the approver and by a stranger.
    await fx.click('marcus', ask, ACTION.approve);
    await ephemeralFor('marcus', 'already approved');
    await fx.click('marcus', ask, ACTION.deny);
    const view = await fx.waitModal('marcus', (v) => v.callbackId === 'access_info');
    expect(JSON.stringify(view.blocks)).toContain('Nothing left to decide');
    expect(await fx.h.store.auditEvents()).toHaveLength(events);
  });

  it('escapes and truncates a 3,000-character justification with <!channel> and a link', async () => {
    const justification = '<!channel> see <https://evil.example/login|the wiki> & more '.repeat(60).slice(0, 3000);
    expect(justification).toHaveLength(3000);
    const { requestId, ask } = await adaAsksForAwsAdmin({ justification });
    expect((await fx.h.store.getRequest(requestId))!.justification).toBe(justification.trim());
    const all = [ask, ...fx.dms('ada')];
    for (const message of all) {
      const json = textOf(message);
      expect(json).not.toContain('<!channel>');
      expect(json).not.toContain('<https://evil.example');
      for (const block of message.blocks as { text?: { text: string } }[]) {
        if (block.text) expect(block.text.text.length).toBeLessThanOrEqual(LIMITS.sectionText);
      }
    }
    expect(textOf(ask)).toContain('&lt;!channel&gt;');
    expect(textOf(ask)).toContain('…');
    // Every call the bot made was accepted by the stand-in's Block Kit checks.
    expect(fx.slack.workspace.calls('chat.postMessage').every((c) => (c.answer as { ok: boolean }).ok)).toBe(true);
  });

  it('refuses requests and clicks from another workspace before anything is looked up', async () => {
    const res = await fx.command('ada', 'request aws admin', { teamId: 'T0OTHER' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringContaining('another Slack workspace'),
    });
    expect(fx.slack.workspace.calls('views.open')).toHaveLength(0);
    expect(fx.slack.workspace.calls('users.info')).toHaveLength(0);
    expect(await fx.h.store.auditEvents()).toHaveLength(0);

    const { requestId, ask } = await adaAsksForAwsAdmin();
    const calls = fx.slack.workspace.calls('users.info').length;
    const click = await fx.click('marcus', ask, ACTION.approve, {}, { teamId: 'T0OTHER' });
    expect(click.status).toBe(200);
    expect(fx.slack.workspace.calls('users.info')).toHaveLength(calls);
    expect(await fx.h.store.getDecisions(requestId)).toHaveLength(0);
  });
});

describe('the workspace check is about the person (M1)', () => {
  it('refuses a Slack Connect user whose own team is another organisation, even in a shared channel of ours', async () => {
    const { requestId, ask } = await adaAsksForAwsAdmin();
    // Someone in a partner organisation whose Slack email is Marcus's clicks Approve on a copy of his message.
    fx.slack.addUser({
      id: 'U0EXTERNAL',
      email: 'marcus@example.com',
      name: 'mallory',
      realName: 'Mallory',
      tz: 'UTC',
      teamId: 'T0PARTNER',
    });
    const found = findElement(ask, ACTION.approve)!;
    const click = await sendBlockAction(fx.url, SECRET, {
      userId: 'U0EXTERNAL',
      userTeamId: 'T0PARTNER',
      actionId: ACTION.approve,
      blockId: found.blockId,
      value: found.value!,
      triggerId: fx.slack.issueTriggerId('U0EXTERNAL'),
      message: { channelId: 'C0SECURITY', ts: ask.ts, blocks: ask.blocks },
    });
    expect(click.status).toBe(200);
    await fx.settle();
    expect(await fx.h.store.getDecisions(requestId)).toHaveLength(0);
    expect(await fx.h.store.bindingForSlackUser('U0EXTERNAL')).toBeUndefined();
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('pending_approval');
  });

  it('refuses a user whose users.info team is not ours when the payload does not say, and never binds them', async () => {
    const { requestId, ask } = await adaAsksForAwsAdmin();
    fx.slack.addUser({
      id: 'U0STRANGER',
      email: 'marcus@example.com',
      name: 'mallory',
      realName: 'Mallory',
      tz: 'UTC',
      teamId: 'T0PARTNER',
      isStranger: true,
    });
    const found = findElement(ask, ACTION.approve)!;
    await sendBlockAction(fx.url, SECRET, {
      userId: 'U0STRANGER',
      userTeamId: null,
      actionId: ACTION.approve,
      blockId: found.blockId,
      value: found.value!,
      triggerId: fx.slack.issueTriggerId('U0STRANGER'),
      message: { channelId: 'C0SECURITY', ts: ask.ts, blocks: ask.blocks },
    });
    await fx.slack.waitFor(
      'ephemeral',
      (m) => m.ephemeralFor === 'U0STRANGER' && m.text.includes('another Slack workspace'),
    );
    expect(await fx.h.store.getDecisions(requestId)).toHaveLength(0);
    expect(await fx.h.store.bindingForSlackUser('U0STRANGER')).toBeUndefined();
    // Marcus himself can still decide: his identity was not taken.
    await fx.click('marcus', ask, ACTION.approve);
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('approved');
  });
});
