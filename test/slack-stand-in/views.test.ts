import { afterEach, describe, expect, it } from 'vitest';
import type { types } from '@slack/bolt';
import type { SlackApiStandIn } from '../../src/sandbox/slack-api/slack-api-server.js';
import { clientFor, modal, slackError, startStandIn } from './stand-in-fixture.js';

let slack: SlackApiStandIn;
afterEach(async () => {
  await slack.stop();
});

/** A clock the test moves by hand, so trigger expiry needs no sleep. */
function fakeClock(start = Date.UTC(2026, 10, 2, 9, 0, 0)): { now: () => number; advance: (ms: number) => void } {
  let now = start;
  return {
    now: () => now,
    advance: (ms) => {
      now += ms;
    },
  };
}

const home: types.HomeView = {
  type: 'home',
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'No active grants' } }],
};

describe('the Slack stand-in: trigger ids', () => {
  it('opens one modal per trigger id; a second use answers exchanged_trigger_id', async () => {
    slack = await startStandIn();
    const client = clientFor(slack);
    const trigger = slack.issueTriggerId('U0ALICE');
    const opened = await client.views.open({ trigger_id: trigger, view: modal() });
    expect(opened.view).toMatchObject({ type: 'modal', callback_id: 'access_request', private_metadata: '{"step":1}' });
    expect(slack.workspace.currentModal('U0ALICE')?.id).toBe(opened.view?.id);

    expect((await slackError(client.views.open({ trigger_id: trigger, view: modal() }))).error).toBe(
      'exchanged_trigger_id',
    );
    expect((await slackError(client.views.open({ trigger_id: '1.2.nope', view: modal() }))).error).toBe(
      'invalid_trigger_id',
    );
  });

  it('refuses a trigger id used after 3 seconds with expired_trigger_id', async () => {
    const clock = fakeClock();
    slack = await startStandIn({ clock: clock.now });
    const client = clientFor(slack);
    const inTime = slack.issueTriggerId('U0ALICE');
    const late = slack.issueTriggerId('U0ALICE');
    clock.advance(3000);
    await expect(client.views.open({ trigger_id: inTime, view: modal() })).resolves.toMatchObject({ ok: true });
    clock.advance(1);
    expect((await slackError(client.views.open({ trigger_id: late, view: modal() }))).error).toBe('expired_trigger_id');
  });

  it('does not spend a trigger id on a view Slack refuses', async () => {
    slack = await startStandIn();
    const client = clientFor(slack);
    const trigger = slack.issueTriggerId('U0ALICE');
    expect((await slackError(client.views.open({ trigger_id: trigger, view: modal('x'.repeat(25)) }))).error).toBe(
      'invalid_arguments',
    );
    await expect(client.views.open({ trigger_id: trigger, view: modal() })).resolves.toMatchObject({ ok: true });
  });
});

describe('the Slack stand-in: modal stacks', () => {
  it('updates a view only with its current hash', async () => {
    slack = await startStandIn();
    const client = clientFor(slack);
    const opened = await client.views.open({ trigger_id: slack.issueTriggerId('U0ALICE'), view: modal() });
    const viewId = opened.view?.id ?? '';
    const firstHash = opened.view?.hash ?? '';

    const updated = await client.views.update({ view_id: viewId, hash: firstHash, view: modal('Step 2') });
    expect(updated.view?.hash).not.toBe(firstHash);
    expect(
      (await slackError(client.views.update({ view_id: viewId, hash: firstHash, view: modal('Stale') }))).error,
    ).toBe('hash_conflict');
    expect((await slackError(client.views.update({ view_id: 'V0NOPE', view: modal() }))).error).toBe('not_found');

    const stored = slack.workspace.view(viewId);
    expect(stored?.versions.map((v) => (v.title as { text: string }).text)).toEqual(['Request access', 'Step 2']);
  });

  it('updates by external_id and keeps typed input whose block survives', async () => {
    slack = await startStandIn();
    const client = clientFor(slack);
    const opened = await client.views.open({
      trigger_id: slack.issueTriggerId('U0ALICE'),
      view: modal('Request access', { external_id: 'req-1' }),
    });
    slack.workspace.setViewState(opened.view?.id ?? '', 'justification', 'text', {
      type: 'plain_text_input',
      value: 'on call',
    });
    const updated = await client.views.update({
      external_id: 'req-1',
      view: modal('Refreshed', { external_id: 'req-1' }),
    });
    expect(updated.view?.id).toBe(opened.view?.id);
    expect(slack.workspace.view(opened.view?.id ?? '')?.state.values).toEqual({
      justification: { text: { type: 'plain_text_input', value: 'on call' } },
    });
    expect(
      (
        await slackError(
          client.views.open({
            trigger_id: slack.issueTriggerId('U0BOB'),
            view: modal('Other', { external_id: 'req-1' }),
          }),
        )
      ).error,
    ).toBe('duplicate_external_id');
  });

  it('pushes onto the stack of the person who acted, at most two views deep', async () => {
    slack = await startStandIn();
    const client = clientFor(slack);
    expect(
      (await slackError(client.views.push({ trigger_id: slack.issueTriggerId('U0ALICE'), view: modal() }))).error,
    ).toBe('not_found');
    const root = await client.views.open({ trigger_id: slack.issueTriggerId('U0ALICE'), view: modal('Root') });
    const second = await client.views.push({ trigger_id: slack.issueTriggerId('U0ALICE'), view: modal('Second') });
    await client.views.push({ trigger_id: slack.issueTriggerId('U0ALICE'), view: modal('Third') });
    expect(second.view).toMatchObject({ root_view_id: root.view?.id, previous_view_id: root.view?.id });
    expect(
      (await slackError(client.views.push({ trigger_id: slack.issueTriggerId('U0ALICE'), view: modal('Fourth') })))
        .error,
    ).toBe('push_limit_reached');
    expect(slack.workspace.modalStack('U0ALICE').map((v) => v.id)).toHaveLength(3);

    slack.workspace.closeTopModal('U0ALICE');
    expect(slack.workspace.currentModal('U0ALICE')?.id).toBe(second.view?.id);
    await expect(slack.waitFor('view', (e) => e.action === 'closed')).resolves.toBeTruthy();
  });
});

describe('the Slack stand-in: App Home', () => {
  it('publishes one Home tab per person, with a hash check', async () => {
    slack = await startStandIn();
    const client = clientFor(slack);
    const first = await client.views.publish({ user_id: 'U0ALICE', view: home });
    const second = await client.views.publish({ user_id: 'U0ALICE', view: home, hash: first.view?.hash });
    expect(second.view?.id).toBe(first.view?.id);
    expect(
      (await slackError(client.views.publish({ user_id: 'U0ALICE', view: home, hash: first.view?.hash }))).error,
    ).toBe('hash_conflict');
    expect((await slackError(client.views.publish({ user_id: 'U0NOBODY', view: home }))).error).toBe('user_not_found');
    expect(slack.workspace.homeView('U0ALICE')?.versions).toHaveLength(2);
    expect(slack.workspace.homeView('U0BOB')).toBeUndefined();
    await expect(slack.waitFor('home', (v) => v.userId === 'U0ALICE')).resolves.toBeTruthy();
  });
});
