import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION, BLOCK, durationBlockId } from '../../blocks/ids.js';
import { startSlackFixture, USERS, type SlackFixture } from './slack-fixture.js';

let fx: SlackFixture;
beforeEach(async () => {
  fx = await startSlackFixture();
});
afterEach(async () => {
  await fx.close();
});

const blocksOf = (view: Record<string, unknown>) => JSON.stringify(view.blocks);

describe('the request modal', () => {
  it('tells the person to click again when Slack says the click expired before the form opened', async () => {
    fx.slack.failNext('views.open', { error: 'expired_trigger_id' });
    const res = await fx.command('kim', 'request github');
    expect(res.status).toBe(200);
    const told = await fx.slack.waitFor('ephemeral', (m) => m.ephemeralFor === USERS.kim.id);
    expect(told.text).toContain('Please click again');
    expect(fx.slack.workspace.currentModal(USERS.kim.id)).toBeUndefined();
  });

  it('opens at once, then offers only the roles the person may request, each with its policy summary', async () => {
    const res = await fx.command('kim', 'request github');
    expect(res.status).toBe(200);
    const opened = await fx.slack.waitFor('view', (e) => e.action === 'opened');
    expect(JSON.stringify(opened.view.definition.blocks)).toContain('Checking which roles you may request');
    const view = await fx.waitModal('kim', (v) => JSON.stringify(v.definition.blocks).includes(ACTION.role));
    const roles = blocksOf(view);
    expect(roles).toContain('Member');
    expect(roles).toContain('approved automatically · up to 90 days');
    expect(roles).not.toContain('Organization owner'); // Kim is not in platform-team

    // Picking a role refreshes the view with its durations (default first) and justification rule.
    await fx.pick('kim', ACTION.role, BLOCK.role, 'member');
    const withRole = await fx.waitModal('kim', (v) => JSON.stringify(v.definition.blocks).includes(ACTION.duration));
    expect(blocksOf(withRole)).toContain('30 days (default)');
    expect(blocksOf(withRole)).toContain('At most 90 days');
  });

  it('refuses an ineligible person who forges a role into the form, inline', async () => {
    await fx.command('kim', 'request github');
    const view = await fx.waitModal('kim', (v) => JSON.stringify(v.definition.blocks).includes(ACTION.role));
    const res = await fx.submit('kim', {
      [BLOCK.role]: { [ACTION.role]: { type: 'static_select', selected_option: { value: 'owner' } } },
      [BLOCK.justification]: { [ACTION.justification]: { type: 'plain_text_input', value: 'please' } },
    }, { view });
    expect(res.json).toMatchObject({ response_action: 'errors', errors: { [BLOCK.role]: expect.stringContaining('not eligible') } });
    expect(fx.h.store.listRequests({})).toHaveLength(0);
    expect(fx.h.store.auditEvents().map((e) => e.action)).toContain('request.refused');
  });

  it('shows inline errors for a missing justification and a duration over the maximum', async () => {
    const missing = await fx.requestViaModal('ada', 'github', 'owner', { justification: '' });
    expect(missing.json).toMatchObject({ response_action: 'errors', errors: { [BLOCK.justification]: expect.stringContaining('requires a justification') } });
    const view = fx.modal('ada');
    const tooLong = await fx.submit('ada', {
      [durationBlockId('github', 'owner')]: { [ACTION.duration]: { type: 'static_select', selected_option: { value: String(86_400) } } },
      [BLOCK.justification]: { [ACTION.justification]: { type: 'plain_text_input', value: 'INC-7' } },
    }, { view });
    expect(tooLong.json).toMatchObject({ response_action: 'errors', errors: { [durationBlockId('github', 'owner')]: expect.stringContaining('longer than the maximum of 4 hours') } });
    expect(fx.h.store.listRequests({})).toHaveLength(0);
  });

  it('points a second request to the pending one, and offers an extension for a role already held', async () => {
    await fx.requestViaModal('ada', 'aws', 'admin', { justification: 'first' });
    const again = await fx.requestViaModal('ada', 'aws', 'admin', { justification: 'second' });
    // The command with app and role already shows the pointer instead of the form.
    expect(again.status).toBe(200);
    const pointer = await fx.waitModal('ada', (v) => JSON.stringify(v.definition).includes('Already requested')).catch(() => fx.modal('ada'));
    expect(JSON.stringify(pointer)).toContain('already have a pending request');
    expect(fx.h.store.listRequests({ requesterId: USERS.ada.directoryId })).toHaveLength(1);

    const member = await fx.requestViaModal('alan', 'github', 'member', {});
    expect(member.json).toMatchObject({ response_action: 'update', view: { title: { text: 'Request sent' } } });
    await fx.slack.waitFor('message', (m) => m.channel === fx.dm('alan') && m.text.includes('You now have'));
    await fx.command('alan', 'request github member');
    const offer = await fx.waitModal('alan', (v) => v.callbackId === 'access_extend');
    expect(blocksOf(offer)).toContain('Extend by up to');
  });

  it('answers /access help and unknown words with usage, and unknown apps with the known ones', async () => {
    expect((await fx.command('ada', 'help')).json).toMatchObject({ response_type: 'ephemeral', text: expect.stringContaining('/access request') });
    expect((await fx.command('ada', 'frobnicate')).json).toMatchObject({ text: expect.stringContaining('Unknown command') });
    expect((await fx.command('ada', 'request nope')).json).toMatchObject({ text: expect.stringContaining('`github`') });
  });
});
