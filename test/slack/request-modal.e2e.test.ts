import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION, BLOCK, durationBlockId } from '../../blocks/ids.js';
import { PgStore } from '../../src/adapters/db/postgres/pg-store.js';
import { createTestDatabase, truncateAll, type TestDatabase } from '../support/pg-test-db.js';
import { startSlackFixture, USERS, type SlackFixture } from './slack-fixture.js';

const blocksOf = (view: Record<string, unknown>) => JSON.stringify(view.blocks);

const DEACTIVATED_SINCE =
  'serves no form to a bound person whose Slack account was deactivated since, though their records are read early';
async function deactivatedSince(fx: SlackFixture): Promise<void> {
  await fx.command('kim', 'request github');
  await fx.slack.waitFor('view', (e) => e.action === 'opened' && e.view.userId === USERS.kim.id);
  expect(await fx.h.store.bindingForSlackUser(USERS.kim.id)).toBeDefined();
  // Her binding, groups and requests are read while users.info answers; users.info still decides.
  fx.slack.workspace.user(USERS.kim.id)!.deleted = true;
  const opened = fx.slack.workspace.calls('views.open').length;
  await fx.command('kim', 'request github member');
  const told = await fx.slack.waitFor('ephemeral', (m) => m.ephemeralFor === USERS.kim.id);
  expect(told.text).toContain('This Slack account is deactivated or a bot, so it cannot act here.');
  expect(fx.slack.workspace.calls('views.open')).toHaveLength(opened);
}

const PENDING_AND_HELD =
  'shows the pending request in the form, with Cancel, and offers an extension for a role already held';
async function pendingAndHeld(fx: SlackFixture): Promise<void> {
  const first = await fx.requestViaModal('ada', 'aws', 'admin', { justification: 'first' });
  // A submitted request closes the form: the DM says what happens next.
  expect(first.body).toBe('');
  await fx.command('ada', 'request aws admin');
  const pending = await fx.waitModal('ada', (v) =>
    JSON.stringify(v.definition.blocks).includes('You already asked for'),
  );
  expect(blocksOf(pending)).toContain('AWS Administrator');
  // The application and role stay in the form: another role can be picked.
  expect(blocksOf(pending)).toContain(ACTION.role);
  expect(blocksOf(pending)).not.toContain(ACTION.duration);
  expect(await fx.h.store.listRequests({ requesterId: USERS.ada.directoryId })).toHaveLength(1);

  // Cancel in the form withdraws it, and the form offers the role again.
  const view = fx.slack.workspace.currentModal(USERS.ada.id)!;
  const { clickInView } = await import('./slack2-helpers.js');
  await clickInView(fx, 'ada', view, ACTION.cancel);
  await fx.waitModal('ada', (v) => JSON.stringify(v.definition.blocks).includes(ACTION.duration));
  expect(
    await fx.h.store.listRequests({ requesterId: USERS.ada.directoryId, status: ['pending_approval'] }),
  ).toHaveLength(0);

  const member = await fx.requestViaModal('alan', 'github', 'member', {});
  expect(member.body).toBe('');
  await fx.slack.waitFor('message', (m) => m.channel === fx.dm('alan') && m.text.includes('You now have'));
  await fx.command('alan', 'request github member');
  const offer = await fx.waitModal('alan', (v) => v.callbackId === 'access_extend');
  expect(blocksOf(offer)).toContain('You can extend it until');
}

describe('the request modal', () => {
  let fx: SlackFixture;
  beforeEach(async () => {
    fx = await startSlackFixture();
  });
  afterEach(async () => {
    await fx.close();
  });

  it('tells the person to click again when Slack says the click expired before the form opened', async () => {
    fx.slack.failNext('views.open', { error: 'expired_trigger_id' });
    const res = await fx.command('kim', 'request github');
    expect(res.status).toBe(200);
    const told = await fx.slack.waitFor('ephemeral', (m) => m.ephemeralFor === USERS.kim.id);
    expect(told.text).toContain('Please click again');
    expect(fx.slack.workspace.currentModal(USERS.kim.id)).toBeUndefined();
  });

  it('opens the form when Slack closed the kept-alive connection users.info went out on', async () => {
    // A server closes a connection it kept alive once idle; a call sent on it just then was never
    // read, and is sent again on a new connection instead of failing the person's command.
    fx.slack.closeKeptAliveConnectionOnNext('users.info');
    const res = await fx.command('kim', 'request github member');
    expect(res.status).toBe(200);
    const first = await Promise.race([
      fx.slack
        .waitFor('view', (e) => e.action === 'opened' && e.view.userId === USERS.kim.id)
        .then(
          () => 'the form',
          () => 'nothing',
        ),
      fx.slack
        .waitFor('ephemeral', (m) => m.ephemeralFor === USERS.kim.id)
        .then(
          (m) => `a message: ${m.text}`,
          () => 'nothing',
        ),
    ]);
    expect(first).toBe('the form');
    expect(fx.slack.keptAliveConnectionsClosed).toBe(1);
    expect(blocksOf(fx.modal('kim'))).toContain(ACTION.duration);
    expect(fx.ephemerals('kim')).toEqual([]);
  });

  it('opens with only the roles the person may request, each summarised for them, durations in order', async () => {
    const res = await fx.command('kim', 'request github');
    expect(res.status).toBe(200);
    // The directory answered within the trigger's budget: the form opens complete.
    const opened = await fx.slack.waitFor('view', (e) => e.action === 'opened');
    const roles = JSON.stringify(opened.view.definition.blocks);
    expect(roles).toContain('Member');
    expect(roles).toContain('automatic · up to 90 days');
    expect(roles).not.toContain('Organization owner'); // Kim is not in platform-team

    // Picking a role refreshes the view with its durations, shortest first, the default marked where it stands.
    await fx.pick('kim', ACTION.role, BLOCK.role, 'member');
    const withRole = await fx.waitModal('kim', (v) => JSON.stringify(v.definition.blocks).includes(ACTION.duration));
    const durations = (
      (withRole.blocks as { block_id?: string; element?: { options?: { text: { text: string } }[] } }[]).find((b) =>
        b.block_id?.startsWith('duration'),
      )?.element?.options ?? []
    ).map((o) => o.text.text);
    expect(durations).toEqual([
      '15 minutes',
      '1 hour',
      '4 hours',
      '8 hours',
      '1 day',
      '1 week',
      '30 days (default)',
      '90 days',
    ]);
    expect(blocksOf(withRole)).toContain('At most 90 days');
    expect(blocksOf(withRole)).toContain('Automatic, up to 90 days.');
  });

  it('offers only the applications the person may request something of', async () => {
    await fx.command('kim', 'request');
    const opened = await fx.slack.waitFor('view', (e) => e.action === 'opened' && e.view.userId === USERS.kim.id);
    const apps = JSON.stringify(opened.view.definition.blocks);
    expect(apps).toContain('GitHub');
    // The laptop role is open to everyone; AWS administrator only to platform-team.
    expect(apps).not.toContain('AWS');
  });

  it('says "automatic for you" only to people it applies to, and what the rest need', async () => {
    await fx.command('alan', 'request github owner');
    const alan = await fx.waitModal('alan', (v) => JSON.stringify(v.definition.blocks).includes(ACTION.duration));
    expect(blocksOf(alan)).toContain(
      'Automatic for you up to 1 hour; longer (up to 4 hours) needs your manager, then 2 people from Security team, then Grace Hopper (CISO).',
    );
    await fx.command('ada', 'request github owner');
    const ada = await fx.waitModal('ada', (v) => JSON.stringify(v.definition.blocks).includes(ACTION.duration));
    expect(blocksOf(ada)).toContain(
      'Needs your manager, then 2 people from Security team, then Grace Hopper (CISO); up to 4 hours.',
    );
    expect(blocksOf(ada)).not.toContain('utomatic for you');
  });

  it('answers a person who left with one sentence, and no form', async () => {
    const res = await fx.command('dave', 'request github owner');
    expect(res.status).toBe(200);
    const told = await fx.slack.waitFor('ephemeral', (m) => m.ephemeralFor === USERS.dave.id);
    expect(told.text).toContain('is not active, so the bot cannot act for you');
    expect(fx.slack.workspace.calls('views.open')).toHaveLength(0);
    // The lists say the same, rather than pointing to a form he cannot submit.
    const { textOfAnswer } = await import('./slack2-helpers.js');
    expect(textOfAnswer(await fx.command('dave', 'list'))).toContain('is not active, so the bot cannot act for you');
    expect(textOfAnswer(await fx.command('dave', 'list'))).not.toContain('/access request');
  });

  it(DEACTIVATED_SINCE, async () => {
    await deactivatedSince(fx);
  });

  it('answers an application the person may not request anything of with an ephemeral, and no form', async () => {
    await fx.command('kim', 'request aws');
    const told = await fx.slack.waitFor('ephemeral', (m) => m.ephemeralFor === USERS.kim.id);
    expect(told.text).toContain('You may not request any AWS role: only members of Platform team may.');
    expect(fx.slack.workspace.calls('views.open')).toHaveLength(0);
  });

  it('refuses an ineligible person who forges a role into the form, inline', async () => {
    await fx.command('kim', 'request github');
    const view = await fx.waitModal('kim', (v) => JSON.stringify(v.definition.blocks).includes(ACTION.role));
    const res = await fx.submit(
      'kim',
      {
        [BLOCK.role]: { [ACTION.role]: { type: 'static_select', selected_option: { value: 'owner' } } },
        [BLOCK.justification]: { [ACTION.justification]: { type: 'plain_text_input', value: 'please' } },
      },
      { view },
    );
    expect(res.json).toMatchObject({
      response_action: 'errors',
      errors: { [BLOCK.role]: expect.stringContaining('not eligible') },
    });
    expect(await fx.h.store.listRequests({})).toHaveLength(0);
    expect((await fx.h.store.auditEvents()).map((e) => e.action)).toContain('request.refused');
  });

  it('shows inline errors for a missing justification and a duration over the maximum', async () => {
    const missing = await fx.requestViaModal('ada', 'github', 'owner', { justification: '' });
    expect(missing.json).toMatchObject({
      response_action: 'errors',
      errors: { [BLOCK.justification]: expect.stringContaining('requires a justification') },
    });
    const view = fx.modal('ada');
    const tooLong = await fx.submit(
      'ada',
      {
        [durationBlockId('github', 'owner')]: {
          [ACTION.duration]: { type: 'static_select', selected_option: { value: String(86_400) } },
        },
        [BLOCK.justification]: { [ACTION.justification]: { type: 'plain_text_input', value: 'INC-7' } },
      },
      { view },
    );
    expect(tooLong.json).toMatchObject({
      response_action: 'errors',
      errors: { [durationBlockId('github', 'owner')]: expect.stringContaining('longer than the maximum of 4 hours') },
    });
    expect(await fx.h.store.listRequests({})).toHaveLength(0);
  });

  it(PENDING_AND_HELD, async () => {
    await pendingAndHeld(fx);
  });

  it('answers /access help and unknown words with usage, and unknown apps with the known ones', async () => {
    expect((await fx.command('ada', 'help')).json).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringContaining('/access request'),
    });
    expect((await fx.command('ada', 'frobnicate')).json).toMatchObject({
      text: expect.stringContaining('Unknown command'),
    });
    expect((await fx.command('ada', 'request nope')).json).toMatchObject({
      text: expect.stringContaining('`github` (GitHub)'),
    });
    // An unknown role is answered the same way, not with a form whose role is empty.
    expect((await fx.command('ada', 'request github admin')).json).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringContaining('GitHub has no role `admin`. Its roles: `owner` (Organization owner)'),
    });
    expect(fx.slack.workspace.calls('views.open')).toHaveLength(0);
  });
});

// On PostgreSQL the form reads the person's binding, and their grant and request of the role named,
// in one statement while users.info answers (StoreReads.roleStateForSlackUser); users.info still decides.
describe('the request modal on PostgreSQL', () => {
  let database: TestDatabase | undefined;
  let pg: SlackFixture;
  beforeEach(async () => {
    database ??= await createTestDatabase();
    await truncateAll(database.url);
    pg = await startSlackFixture({ store: await PgStore.open(database.url, { poolSize: 4 }) });
  });
  afterEach(async () => {
    await pg.close();
  });
  afterAll(async () => {
    await database?.drop();
  });

  it(DEACTIVATED_SINCE, async () => {
    await deactivatedSince(pg);
  });

  it(PENDING_AND_HELD, async () => {
    await pendingAndHeld(pg);
  });
});
