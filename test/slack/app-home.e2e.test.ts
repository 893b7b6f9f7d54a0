import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION } from '../../blocks/ids.js';
import { hasAction, startSlackFixture, USERS, type SlackFixture } from './slack-fixture.js';
import { clickInView, hasButton, holdActive, openHome } from './slack2-helpers.js';

let fx: SlackFixture;
beforeEach(async () => {
  fx = await startSlackFixture();
});
afterEach(async () => {
  await fx.close();
});

const blocksOf = (view: { definition: Record<string, unknown> }) => ({ blocks: view.definition.blocks as unknown[] });
const textOfView = (view: { definition: Record<string, unknown> }) => JSON.stringify(view.definition.blocks);

describe('the App Home', () => {
  it("shows an employee their access with Extend and I'm done, their pending requests with Cancel, and what they may request", async () => {
    await holdActive(fx, 'ada', 'github', 'member');
    const res = await fx.requestViaModal('ada', 'aws', 'admin', { justification: 'on call' });
    // A submitted request closes the form (an empty ack); the DM says what happens next.
    expect(res.status).toBe(200);
    expect(res.body).toBe('');
    fx.slack.workspace.closeModals(USERS.ada.id);

    const home = await openHome(fx, 'ada');
    const text = textOfView(home);
    expect(home.type).toBe('home');
    expect(text).toContain('GitHub Member');
    expect(hasButton(blocksOf(home), ACTION.extendGrant)).toBe(true);
    expect(hasButton(blocksOf(home), ACTION.relinquish)).toBe(true);
    expect(text).toContain('AWS Administrator');
    expect(hasButton(blocksOf(home), ACTION.cancel)).toBe(true);
    expect(text).toContain('Nothing is waiting for your decision');
    // Ada may request GitHub owner (platform-team) and laptop admin; she is not an admin.
    expect(text).toContain('GitHub · Organization owner');
    expect(text).not.toContain('access_open_export');
    expect((home.definition.blocks as unknown[]).length).toBeLessThanOrEqual(100);

    // Request… opens the request form with that role chosen.
    await clickInView(fx, 'ada', home, ACTION.requestRole, {}, 'laptop|local-admin');
    const form = await fx.waitModal(
      'ada',
      (v) => v.callbackId === 'access_request' && JSON.stringify(v.definition.blocks).includes(ACTION.duration),
    );
    expect(JSON.stringify(form.blocks)).toContain('"value":"local-admin"');

    // Cancel on the Home cancels and republishes the tab without the request.
    const requestId = (await fx.h.store.listRequests({ requesterId: USERS.ada.directoryId, app: 'aws' }))[0]!.id;
    const cursor = fx.slack.workspace.cursor();
    await clickInView(fx, 'ada', home, ACTION.cancel);
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('cancelled');
    const refreshed = await fx.slack.waitFor('home', (v) => v.userId === USERS.ada.id, { after: cursor });
    expect(textOfView(refreshed)).toContain('None waiting for approval');
  });

  it('shows an approver what waits for them, and Approve on the tab decides and refreshes it', async () => {
    await fx.requestViaModal('ada', 'aws', 'admin', { justification: 'on call' });
    const requestId = (await fx.h.store.listRequests({ requesterId: USERS.ada.directoryId, app: 'aws' }))[0]!.id;
    await fx.slack.waitFor('message', (m) => m.channel === fx.dm('marcus') && hasAction(m, ACTION.approve));
    const home = await openHome(fx, 'marcus');
    expect(textOfView(home)).toContain('Waiting for your approval');
    expect(textOfView(home)).toContain('Ada Lovelace');
    // The approver decides with the facts: the justification is next to the buttons, and where the request is.
    expect(textOfView(home)).toContain('>on call');
    expect(textOfView(home)).toContain('The request is in your DM');
    expect(hasButton(blocksOf(home), ACTION.approve)).toBe(true);
    expect(hasButton(blocksOf(home), ACTION.deny)).toBe(true);

    const cursor = fx.slack.workspace.cursor();
    await clickInView(fx, 'marcus', home, ACTION.approve);
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('approved');
    const refreshed = await fx.slack.waitFor('home', (v) => v.userId === USERS.marcus.id, { after: cursor });
    expect(textOfView(refreshed)).toContain('Nothing is waiting for your decision');
    // The decision gives visible feedback on the tab.
    expect(textOfView(refreshed)).toContain("You approved Ada Lovelace's request for AWS Administrator (1 hour)");
  });

  it("points a channel step's approvers to the channel, and tells the requester at once when an approver shortens it", async () => {
    await fx.requestViaModal('ada', 'github', 'owner', { justification: 'rotate keys', seconds: 4 * 3600 });
    const ask = await fx.slack.waitFor('message', (m) => m.channel === fx.dm('marcus') && hasAction(m, ACTION.approve));
    const requestId = (await fx.h.store.listRequests({ requesterId: USERS.ada.directoryId }))[0]!.id;
    // Marcus approves only 1 hour of the 4.
    await fx.click('marcus', ask, ACTION.approveShorter, {
      type: 'static_select',
      selected_option: { text: { type: 'plain_text', text: '1 hour' }, value: `${requestId}|0|3600` },
    });
    const confirm = await fx.waitModal('marcus', (v) => v.callbackId === 'access_approve_shorter_confirm');
    await fx.submit('marcus', {}, { view: confirm });
    const told = await fx.slack.waitFor(
      'message',
      (m) => m.channel === fx.dm('ada') && m.text.includes('approved 1 hour'),
    );
    expect(told.text).toContain('Marcus Chen approved 1 hour of GitHub Organization owner (you asked for 4 hours)');
    // Her Home says the same figure as everyone else's.
    const adas = await openHome(fx, 'ada');
    expect(textOfView(adas)).toContain('for 1 hour (you asked for 4 hours; an approver shortened it)');

    const sams = await openHome(fx, 'sam');
    expect(textOfView(sams)).toContain('for *1 hour* (asked for 4 hours, shortened by an earlier approver)');
    expect(textOfView(sams)).toContain('The request is in <#C0SECURITY>');
    expect(textOfView(sams)).not.toContain('in your DM');
  });

  it('gives a person who left one sentence instead of a tab of things they cannot do', async () => {
    const home = await openHome(fx, 'dave');
    expect(textOfView(home)).toContain('is not active, so the bot cannot act for you');
    expect(textOfView(home)).not.toContain('Request access');
  });

  it('gives an admin the Admin section: who holds access now, and buttons that open the export and revoke forms', async () => {
    await holdActive(fx, 'ada', 'github', 'member');
    const home = await openHome(fx, 'priya');
    expect(textOfView(home)).toContain('Admin');
    expect(textOfView(home)).toContain('Who holds access now* (1, sensitive first)');
    expect(textOfView(home)).toContain('*GitHub Member* · Ada Lovelace · until <!date^');
    expect(hasButton(blocksOf(home), ACTION.openExport)).toBe(true);
    expect(hasButton(blocksOf(home), ACTION.openRevoke)).toBe(true);
    await clickInView(fx, 'priya', home, ACTION.openRevoke);
    await fx.waitModal('priya', (v) => v.callbackId === 'access_revoke');
    await clickInView(fx, 'priya', home, ACTION.openExport);
    await fx.waitModal('priya', (v) => v.callbackId === 'access_export');

    // Not for anyone else, even with a forged click.
    const adas = await openHome(fx, 'ada');
    await clickInView(fx, 'ada', adas, ACTION.openRevoke);
    const refused = await fx.waitModal('ada', (v) => JSON.stringify(v.definition).includes('Not allowed'));
    expect(JSON.stringify(refused.blocks)).toContain('Only members of access-admins');
  });
});
