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
  it('shows an employee their access with Extend and I\'m done, their pending requests with Cancel, and what they may request', async () => {
    await holdActive(fx, 'ada', 'github', 'member');
    const res = await fx.requestViaModal('ada', 'aws', 'admin', { justification: 'on call' });
    expect(res.json).toMatchObject({ response_action: 'update' });
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
    const form = await fx.waitModal('ada', (v) => v.callbackId === 'access_request' && JSON.stringify(v.definition.blocks).includes(ACTION.duration));
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
    expect(hasButton(blocksOf(home), ACTION.approve)).toBe(true);
    expect(hasButton(blocksOf(home), ACTION.deny)).toBe(true);

    const cursor = fx.slack.workspace.cursor();
    await clickInView(fx, 'marcus', home, ACTION.approve);
    expect((await fx.h.store.getRequest(requestId))!.status).toBe('approved');
    const refreshed = await fx.slack.waitFor('home', (v) => v.userId === USERS.marcus.id, { after: cursor });
    expect(textOfView(refreshed)).toContain('Nothing is waiting for your decision');
  });

  it('gives an admin the Admin section, whose buttons open the export and revoke forms', async () => {
    const home = await openHome(fx, 'priya');
    expect(textOfView(home)).toContain('Admin');
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
