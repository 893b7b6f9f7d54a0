/**
 * Every interaction is acknowledged in time even when Okta is slow (issue 12, item 10): with every
 * Okta call taking 1.5 s (the stand-in, through the real SDK), each signed request is answered 200
 * before the slow work behind it is done, the work still completes (a decision is never lost), and
 * the person sees the outcome where they acted: the modal is updated, or they are told.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION, BLOCK } from '../../blocks/ids.js';
import type { StoredMessage, StoredView } from '../../src/sandbox/slack-api/slack-workspace.js';
import { redefine } from '../../src/sandbox/slack-api/web-api-methods.js';
import { companyOktaPerTest } from '../okta/company-org.js';
import { directoryFor } from '../okta/fixtures.js';
import type { OktaStandIn } from '../okta/okta-stand-in.js';
import { sendBlockAction, type SlackHttpResult, type SlackViewPayload } from '../support/slack-signing.js';
import { hasAction, SECRET, startSlackFixture, USERS, type SlackFixture, type UserName } from './slack-fixture.js';

const OKTA_DELAY_MS = 1500;
const org = companyOktaPerTest();
let okta: OktaStandIn;
let fx: SlackFixture;

beforeEach(async () => {
  okta = org.okta;
  // Okta ids are the harness's directory ids, so the Slack fixture's people match.
  fx = await startSlackFixture({ directory: directoryFor(okta.url) });
});

/** From here on every Okta call takes 1.5 s (set-up before it runs at full speed). */
const slowOkta = () => okta.delayEvery(OKTA_DELAY_MS);
afterEach(async () => {
  okta.delayEvery(0);
  await fx.close();
});

/** What Slack does with a view_submission's answer: close the modal, or replace it with the answer's view. */
function applyAck(who: UserName, viewId: string, res: SlackHttpResult): void {
  const ws = fx.slack.workspace;
  const json = res.json as { response_action?: string; view?: Record<string, unknown> } | undefined;
  if (json?.response_action === 'update' && json.view) {
    const view = ws.view(viewId)!;
    redefine(ws, view, json.view);
    ws.viewUpdated(view);
  } else if (!json?.response_action) {
    ws.closeTopModal(USERS[who].id);
  }
}

const SLOW = { timeoutMs: 30_000 };

/** The person's top modal once it satisfies `predicate` (checked now, then on every view change). */
async function modal(who: UserName, predicate: (view: StoredView) => boolean): Promise<SlackViewPayload> {
  const top = fx.slack.workspace.currentModal(USERS[who].id);
  if (top && predicate(top)) return fx.modal(who);
  await fx.slack.waitFor('view', (e) => e.view.userId === USERS[who].id && !e.view.closed && predicate(e.view), SLOW);
  return fx.modal(who);
}
const showing = (text: string) => (v: StoredView) => JSON.stringify(v.definition.blocks).includes(text);
const titled = (title: string) => (v: StoredView) =>
  (v.definition.title as { text?: string } | undefined)?.text === title;

describe('with every Okta call taking 1.5 s', { timeout: 60_000 }, () => {
  it('acks a request submission in time, and the modal then shows that the request was sent', async () => {
    await fx.command('ada', 'request aws admin');
    const view = await modal('ada', showing(ACTION.justification));
    slowOkta();
    const res = await fx.submit(
      'ada',
      {
        [BLOCK.justification]: {
          [ACTION.justification]: { type: 'plain_text_input', value: 'Debug the billing lambda' },
        },
      },
      { view },
    );
    expect(res.status).toBe(200);
    // acked before the work was done
    expect(await fx.h.store.listRequests({ requesterId: USERS.ada.directoryId })).toEqual([]);
    applyAck('ada', view.id, res);
    await modal('ada', titled('Request sent'));
    expect(await fx.h.store.listRequests({ requesterId: USERS.ada.directoryId })).toHaveLength(1);
  });

  it('acks an approval in time; the decision is recorded and the approver is told so', async () => {
    const requestId = await adaRequestsAwsAdmin();
    const ask = await fx.slack.waitFor(
      'message',
      (m) => m.channel === fx.dm('marcus') && hasAction(m, ACTION.approve),
      SLOW,
    );
    slowOkta();
    const res = await fx.click('marcus', ask, ACTION.approve);
    expect(res.status).toBe(200);
    expect(await fx.h.store.getDecisions(requestId)).toEqual([]);
    await fx.slack.waitFor(
      'ephemeral',
      (m) => m.ephemeralFor === USERS.marcus.id && m.text.includes('approval is recorded'),
      SLOW,
    );
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('approved');
  });

  it("acks a denial's reason form in time; the denial is recorded and the modal says so", async () => {
    const requestId = await adaRequestsAwsAdmin();
    const ask: StoredMessage = await fx.slack.waitFor(
      'message',
      (m) => m.channel === fx.dm('marcus') && hasAction(m, ACTION.deny),
      SLOW,
    );
    await fx.click('marcus', ask, ACTION.deny);
    const view = await modal('marcus', showing(ACTION.reason));
    slowOkta();
    const res = await fx.submit(
      'marcus',
      { [BLOCK.reason]: { [ACTION.reason]: { type: 'plain_text_input', value: 'Use the read-only role' } } },
      { view },
    );
    expect(res.status).toBe(200);
    expect(await fx.h.store.getDecisions(requestId)).toEqual([]);
    applyAck('marcus', view.id, res);
    await modal('marcus', titled('Denied'));
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('denied');
  });

  it("acks an admin's revoke form in time; the revocation starts and the modal says so", async () => {
    const member = await (
      await import('../../src/operations/submit-request.js')
    ).submitRequest(fx.h.deps, {
      requester: { person: (await fx.h.deps.directory.getPerson('u-alan'))!, slackId: null },
      app: 'github',
      role: 'member',
    });
    if (member.kind !== 'submitted' || !member.grant) throw new Error(member.kind);
    await fx.command('priya', 'revoke');
    await modal('priya', showing(ACTION.revokePerson));
    fx.slack.workspace.setViewState(fx.modal('priya').id, BLOCK.revokePerson, ACTION.revokePerson, {
      type: 'users_select',
      selected_user: USERS.alan.id,
    });
    await sendBlockAction(fx.url, SECRET, {
      userId: USERS.priya.id,
      actionId: ACTION.revokePerson,
      blockId: BLOCK.revokePerson,
      action: { type: 'users_select', selected_user: USERS.alan.id },
      view: fx.modal('priya'),
    });
    const view = await modal('priya', showing(ACTION.revokeGrant));
    slowOkta();
    const res = await fx.submit(
      'priya',
      {
        [BLOCK.revokePerson]: { [ACTION.revokePerson]: { type: 'users_select', selected_user: USERS.alan.id } },
        [BLOCK.revokeGrant]: {
          [ACTION.revokeGrant]: { type: 'static_select', selected_option: { value: member.grant.id } },
        },
        [BLOCK.revokeReason]: { [ACTION.revokeReason]: { type: 'plain_text_input', value: 'Left the project' } },
      },
      { view },
    );
    expect(res.status).toBe(200);
    expect((await fx.h.store.getGrant(member.grant.id))!.status).toBe('provisioning');
    applyAck('priya', view.id, res);
    await modal('priya', titled('Revoked'));
    expect((await fx.h.store.getGrant(member.grant.id))!.status).toMatch(/revoking|revoked/);
  });
});

async function adaRequestsAwsAdmin(): Promise<string> {
  await fx.command('ada', 'request aws admin');
  const view = await modal('ada', showing(ACTION.justification));
  // Okta is still fast here: the request is committed before the ack.
  const res = await fx.submit(
    'ada',
    {
      [BLOCK.justification]: {
        [ACTION.justification]: { type: 'plain_text_input', value: 'Debug the billing lambda' },
      },
    },
    { view },
  );
  applyAck('ada', view.id, res);
  await fx.settle();
  return (await fx.h.store.listRequests({ requesterId: USERS.ada.directoryId }))[0]!.id;
}
