import { describe, expect, it } from 'vitest';
import { createHmac } from 'node:crypto';
import { actionFor, findElement, stateValues } from '../../src/sandbox/payloads.js';
import {
  blockActionsPayload,
  blockSuggestionPayload,
  eventCallbackBody,
  interactivityBody,
  signRequest,
  slashCommandBody,
  viewSubmissionPayload,
  type Actor,
} from '../../src/sandbox/slack-requests.js';

const actor: Actor = {
  userId: 'U0ADA',
  userName: 'ada',
  teamId: 'T0SANDBOX',
  teamDomain: 'sandbox',
  appId: 'A0ACCESSBOT',
};

const option = (text: string, value: string) => ({ text: { type: 'plain_text', text }, value });
const shown = (text: string, value: string) => ({ text: { type: 'plain_text', text, emoji: true }, value });

const blocks = [
  {
    type: 'input',
    block_id: 'why',
    label: { type: 'plain_text', text: 'Why' },
    element: { type: 'plain_text_input', action_id: 'text', initial_value: 'preset' },
  },
  {
    type: 'input',
    block_id: 'app',
    label: { type: 'plain_text', text: 'App' },
    element: {
      type: 'static_select',
      action_id: 'pick',
      options: [option('GitHub', 'github'), option('AWS', 'aws')],
      initial_option: option('GitHub', 'github'),
    },
  },
  {
    type: 'input',
    block_id: 'grouped',
    label: { type: 'plain_text', text: 'G' },
    element: {
      type: 'static_select',
      action_id: 'pick',
      option_groups: [{ label: { type: 'plain_text', text: 'Dev' }, options: [option('Jira', 'jira')] }],
    },
  },
  {
    type: 'input',
    block_id: 'role',
    label: { type: 'plain_text', text: 'Role' },
    element: { type: 'external_select', action_id: 'find' },
  },
  {
    type: 'input',
    block_id: 'how',
    label: { type: 'plain_text', text: 'How' },
    element: {
      type: 'radio_buttons',
      action_id: 'radio',
      options: [
        { ...option('Fast', 'fast'), description: { type: 'plain_text', text: 'now' } },
        option('Slow', 'slow'),
      ],
    },
  },
  {
    type: 'input',
    block_id: 'checks',
    label: { type: 'plain_text', text: 'Checks' },
    element: { type: 'checkboxes', action_id: 'boxes', options: [option('A', 'a'), option('B', 'b')] },
  },
  {
    type: 'input',
    block_id: 'when',
    label: { type: 'plain_text', text: 'When' },
    element: { type: 'datepicker', action_id: 'date', initial_date: '2026-11-02' },
  },
  {
    type: 'input',
    block_id: 'who',
    label: { type: 'plain_text', text: 'Who' },
    element: { type: 'users_select', action_id: 'user' },
  },
  {
    type: 'actions',
    block_id: 'acts',
    elements: [
      { type: 'button', action_id: 'go', text: { type: 'plain_text', text: 'Go' }, value: 'req_1|0', style: 'primary' },
      { type: 'static_select', action_id: 'less', options: [option('1 hour', '3600')] },
      { type: 'overflow', action_id: 'more', options: [option('Edit', 'edit'), option('Delete', 'delete')] },
    ],
  },
  {
    type: 'section',
    block_id: 'sec',
    text: { type: 'mrkdwn', text: 'hi' },
    accessory: { type: 'button', action_id: 'acc', text: { type: 'plain_text', text: 'X' } },
  },
];

describe('view.state.values, shaped as Slack shapes them per element type', () => {
  it('holds initial values for untouched controls, and null for empty ones', () => {
    expect(stateValues(blocks, {})).toEqual({
      why: { text: { type: 'plain_text_input', value: 'preset' } },
      app: { pick: { type: 'static_select', selected_option: shown('GitHub', 'github') } },
      grouped: { pick: { type: 'static_select', selected_option: null } },
      role: { find: { type: 'external_select', selected_option: null } },
      how: { radio: { type: 'radio_buttons', selected_option: null } },
      checks: { boxes: { type: 'checkboxes', selected_options: [] } },
      when: { date: { type: 'datepicker', selected_date: '2026-11-02' } },
      who: { user: { type: 'users_select', selected_user: null } },
      acts: { less: { type: 'static_select', selected_option: null } },
    });
  });

  it('takes what the person typed and picked, with option objects from the definition', () => {
    const values = stateValues(blocks, {
      why: { text: { value: 'on call' } },
      app: { pick: { selected: 'aws' } },
      grouped: { pick: { selected: 'jira' } },
      how: { radio: { selected: 'fast' } },
      checks: { boxes: { selectedValues: ['b', 'a', 'b'] } },
      when: { date: { date: '2026-12-24' } },
      who: { user: { id: 'U0MARCUS' } },
    });
    expect(values.why).toEqual({ text: { type: 'plain_text_input', value: 'on call' } });
    expect(values.app).toEqual({ pick: { type: 'static_select', selected_option: shown('AWS', 'aws') } });
    expect(values.grouped).toEqual({ pick: { type: 'static_select', selected_option: shown('Jira', 'jira') } });
    expect(values.how).toEqual({
      radio: {
        type: 'radio_buttons',
        selected_option: { ...shown('Fast', 'fast'), description: { type: 'plain_text', text: 'now' } },
      },
    });
    expect(values.checks).toEqual({
      boxes: { type: 'checkboxes', selected_options: [shown('B', 'b'), shown('A', 'a')] },
    });
    expect(values.when).toEqual({ date: { type: 'datepicker', selected_date: '2026-12-24' } });
    expect(values.who).toEqual({ user: { type: 'users_select', selected_user: 'U0MARCUS' } });
  });

  it('an emptied text input is null, as Slack sends it', () => {
    expect(stateValues(blocks, { why: { text: { value: '' } } }).why).toEqual({
      text: { type: 'plain_text_input', value: null },
    });
  });

  it('a value that is not among the options is no selection: the page cannot invent options', () => {
    expect(stateValues(blocks, { app: { pick: { selected: 'salesforce' } } }).app).toEqual({
      pick: { type: 'static_select', selected_option: null },
    });
    expect(stateValues(blocks, { checks: { boxes: { selectedValues: ['zzz'] } } }).checks).toEqual({
      boxes: { type: 'checkboxes', selected_options: [] },
    });
    expect(stateValues(blocks, { when: { date: { date: 'tomorrow' } } }).when).toEqual({
      date: { type: 'datepicker', selected_date: null },
    });
  });

  it('an external select accepts only what the bot suggested', () => {
    const suggested = (blockId: string, actionId: string) =>
      blockId === 'role' && actionId === 'find' ? [option('Owner', 'owner')] : undefined;
    expect(stateValues(blocks, { role: { find: { selected: 'owner' } } }, suggested).role).toEqual({
      find: { type: 'external_select', selected_option: shown('Owner', 'owner') },
    });
    expect(stateValues(blocks, { role: { find: { selected: 'admin' } } }, suggested).role).toEqual({
      find: { type: 'external_select', selected_option: null },
    });
  });

  it('drops controls the view does not have, and buttons, overflows and section accessories', () => {
    const values = stateValues(blocks, { nope: { x: { value: 'y' } } });
    expect(values.nope).toBeUndefined();
    expect(values.acts).toEqual({ less: { type: 'static_select', selected_option: null } });
    expect(values.sec).toBeUndefined();
  });
});

describe('the action of a block_actions payload', () => {
  const ts = '1700000000.000100';

  it('a button carries its type, ids, text, value and style', () => {
    expect(actionFor(findElement(blocks, 'acts', 'go')!, undefined, ts)).toEqual({
      type: 'button',
      action_id: 'go',
      block_id: 'acts',
      action_ts: ts,
      text: { type: 'plain_text', text: 'Go' },
      value: 'req_1|0',
      style: 'primary',
    });
  });

  it('a select carries the selected option; an overflow the picked option', () => {
    expect(actionFor(findElement(blocks, 'acts', 'less')!, { selected: '3600' }, ts)).toEqual({
      type: 'static_select',
      action_id: 'less',
      block_id: 'acts',
      action_ts: ts,
      selected_option: shown('1 hour', '3600'),
    });
    expect(actionFor(findElement(blocks, 'acts', 'more')!, { selected: 'delete' }, ts)).toMatchObject({
      type: 'overflow',
      selected_option: shown('Delete', 'delete'),
    });
  });

  it('a pick that is not an option is no action', () => {
    expect(actionFor(findElement(blocks, 'acts', 'less')!, { selected: '1' }, ts)).toBeUndefined();
    expect(actionFor(findElement(blocks, 'acts', 'more')!, { selected: 'x' }, ts)).toBeUndefined();
  });

  it('finds section accessories too', () => {
    expect(actionFor(findElement(blocks, 'sec', 'acc')!, undefined, ts)).toMatchObject({
      type: 'button',
      action_id: 'acc',
      block_id: 'sec',
    });
  });
});

describe('payloads and signing', () => {
  it('signs as Slack does: v0 HMAC of "v0:ts:body", with the bare form content type', () => {
    const body = slashCommandBody(actor, {
      command: '/access',
      text: 'request github owner',
      channelId: 'D0ADA',
      channelName: 'directmessage',
      triggerId: '1.2.abc',
      responseUrl: 'http://127.0.0.1:1/response/x',
    });
    const signed = signRequest('secret', body, 'application/x-www-form-urlencoded', { tsSec: 1_700_000_000 });
    // Computed here as Slack's docs give it, not with the module under test.
    const expected = `v0=${createHmac('sha256', 'secret').update(`v0:1700000000:${body}`).digest('hex')}`;
    expect(signed.headers).toEqual({
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': '1700000000',
      'x-slack-signature': expected,
    });
  });

  it('a slash command has exactly the flat fields Slack sends', () => {
    const body = new URLSearchParams(
      slashCommandBody(actor, {
        command: '/access',
        text: 'request github owner',
        channelId: 'C0SECURITY',
        channelName: 'security',
        triggerId: 't',
        responseUrl: 'r',
      }),
    );
    expect(Object.fromEntries(body)).toEqual({
      token: 'deprecated-verification-token',
      team_id: 'T0SANDBOX',
      team_domain: 'sandbox',
      channel_id: 'C0SECURITY',
      channel_name: 'security',
      user_id: 'U0ADA',
      user_name: 'ada',
      command: '/access',
      text: 'request github owner',
      api_app_id: 'A0ACCESSBOT',
      is_enterprise_install: 'false',
      response_url: 'r',
      trigger_id: 't',
    });
  });

  it('interactivity is one urlencoded `payload` field of JSON', () => {
    const payload = { type: 'block_actions', text: 'a&b=c' };
    const form = new URLSearchParams(interactivityBody(payload));
    expect([...form.keys()]).toEqual(['payload']);
    expect(JSON.parse(form.get('payload')!)).toEqual(payload);
  });

  it('a message action carries the container, channel, message and response_url; an ephemeral one no message', () => {
    const action = { type: 'button', action_id: 'go' };
    const message = { type: 'message', ts: '1.000001', text: 'hi', blocks: [] };
    const base = {
      type: 'message' as const,
      channelId: 'D0ADA',
      channelName: 'directmessage',
      message,
      responseUrl: 'http://x/response/1',
    };
    const posted = blockActionsPayload(actor, { container: { ...base, isEphemeral: false }, action, triggerId: 't1' });
    expect(posted).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0ADA', team_id: 'T0SANDBOX' },
      team: { id: 'T0SANDBOX' },
      trigger_id: 't1',
      container: { type: 'message', message_ts: '1.000001', channel_id: 'D0ADA', is_ephemeral: false },
      channel: { id: 'D0ADA' },
      message,
      response_url: 'http://x/response/1',
      actions: [action],
    });
    const ephemeral = blockActionsPayload(actor, {
      container: { ...base, isEphemeral: true },
      action,
      triggerId: 't2',
    });
    expect(ephemeral.message).toBeUndefined();
    expect(ephemeral.container).toMatchObject({ is_ephemeral: true });
  });

  it('a view action and a view submission carry the view with its state; a suggestion the typed value', () => {
    const view = { id: 'V1', type: 'modal', private_metadata: 'm', state: { values: {} } };
    const values = { why: { text: { type: 'plain_text_input', value: 'x' } } };
    expect(
      blockActionsPayload(actor, {
        container: { type: 'view', view },
        action: {},
        triggerId: 't',
        stateValues: values,
      }),
    ).toMatchObject({
      container: { type: 'view', view_id: 'V1' },
      view: { id: 'V1', private_metadata: 'm', state: { values } },
    });
    expect(viewSubmissionPayload(actor, { view, stateValues: values, triggerId: 't' })).toMatchObject({
      type: 'view_submission',
      view: { id: 'V1', private_metadata: 'm', state: { values } },
      response_urls: [],
    });
    expect(
      blockSuggestionPayload(actor, {
        blockId: 'role',
        actionId: 'find',
        value: 'own',
        container: { type: 'view', view },
      }),
    ).toMatchObject({
      type: 'block_suggestion',
      block_id: 'role',
      action_id: 'find',
      value: 'own',
      view: { id: 'V1' },
    });
  });

  it("an event is an event_callback with the bot's authorization", () => {
    const body = JSON.parse(
      eventCallbackBody(
        actor,
        'U0BOT',
        { type: 'app_home_opened', user: 'U0ADA', tab: 'home' },
        { nowSec: 1_700_000_000 },
      ),
    );
    expect(body).toMatchObject({
      type: 'event_callback',
      team_id: 'T0SANDBOX',
      event_time: 1_700_000_000,
      event: { type: 'app_home_opened', user: 'U0ADA', tab: 'home' },
      authorizations: [{ user_id: 'U0BOT', is_bot: true }],
    });
    expect(body.event.event_ts).toMatch(/^1700000000\.\d{6}$/);
  });
});
