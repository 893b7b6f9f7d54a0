import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkMessageBlocks, checkView, describeProblem } from '../../src/sandbox/slack-api/block-kit-limits.js';
import type { SlackApiStandIn } from '../../src/sandbox/slack-api/slack-api-server.js';
import type { types } from '@slack/bolt';
import { clientFor, modal, slackError, startStandIn } from './stand-in-fixture.js';

const section = (text: string, blockId?: string): types.SectionBlock => ({
  type: 'section',
  text: { type: 'mrkdwn', text },
  ...(blockId ? { block_id: blockId } : {}),
});
const button = (text: string): types.Button => ({
  type: 'button',
  action_id: 'approve',
  text: { type: 'plain_text', text },
  value: 'req_1',
});
const options = (n: number): types.PlainTextOption[] =>
  Array.from({ length: n }, (_, i) => ({ text: { type: 'plain_text', text: `Role ${i}` }, value: `role_${i}` }));

describe("Block Kit limits, Slack's answers through the real WebClient", () => {
  let slack: SlackApiStandIn;
  beforeEach(async () => {
    slack = await startStandIn();
  });
  afterEach(async () => {
    await slack.stop();
  });

  it('refuses 51 blocks in a message', async () => {
    const blocks = Array.from({ length: 51 }, (_, i) => section(`line ${i}`));
    const answer = await slackError(clientFor(slack).chat.postMessage({ channel: 'C0SECURITY', text: 'x', blocks }));
    expect(answer).toEqual({
      ok: false,
      error: 'invalid_blocks',
      errors: ['no more than 50 items allowed [json-pointer:/blocks]'],
      response_metadata: { messages: ['[ERROR] no more than 50 items allowed [json-pointer:/blocks]'] },
    });
    expect(slack.workspace.messages('C0SECURITY')).toEqual([]);
  });

  it('refuses a 3001-character section', async () => {
    const answer = await slackError(
      clientFor(slack).chat.postMessage({
        channel: 'C0SECURITY',
        text: 'x',
        blocks: [section('x'.repeat(3001))],
      }),
    );
    expect(answer.errors).toEqual(['must be less than 3001 characters [json-pointer:/blocks/0/text/text]']);
  });

  it('refuses a 76-character button label in chat.update too', async () => {
    const client = clientFor(slack);
    const posted = await client.chat.postMessage({ channel: 'C0SECURITY', text: 'x' });
    const answer = await slackError(
      client.chat.update({
        channel: 'C0SECURITY',
        ts: posted.ts ?? '',
        text: 'x',
        blocks: [{ type: 'actions', elements: [button('y'.repeat(76))] }],
      }),
    );
    expect(answer.errors).toEqual(['must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]']);
  });

  it('refuses 101 select options in a modal with invalid_arguments', async () => {
    const view = modal('Request access', {
      blocks: [
        {
          type: 'input',
          block_id: 'role',
          label: { type: 'plain_text', text: 'Role' },
          element: { type: 'static_select', action_id: 'pick', options: options(101) },
        },
      ],
    });
    const answer = await slackError(clientFor(slack).views.open({ trigger_id: slack.issueTriggerId('U0ALICE'), view }));
    expect(answer).toEqual({
      ok: false,
      error: 'invalid_arguments',
      response_metadata: {
        messages: ['[ERROR] no more than 100 items allowed [json-pointer:/view/blocks/0/element/options]'],
      },
    });
  });

  it('refuses a 25-character modal title', async () => {
    const answer = await slackError(
      clientFor(slack).views.open({
        trigger_id: slack.issueTriggerId('U0ALICE'),
        view: modal('x'.repeat(25)),
      }),
    );
    expect(answer.response_metadata).toEqual({
      messages: ['[ERROR] must be less than 25 characters [json-pointer:/view/title/text]'],
    });
  });

  it('accepts what sits exactly on the limits', async () => {
    const client = clientFor(slack);
    await expect(
      client.chat.postMessage({
        channel: 'C0SECURITY',
        text: 'x',
        blocks: [
          ...Array.from({ length: 49 }, (_, i) => section(`line ${i}`)),
          { type: 'actions', elements: [button('y'.repeat(75))] },
        ],
      }),
    ).resolves.toMatchObject({ ok: true });
    await expect(
      client.views.open({ trigger_id: slack.issueTriggerId('U0ALICE'), view: modal('x'.repeat(24)) }),
    ).resolves.toMatchObject({ ok: true });
  });
});

describe('Block Kit limits, the pure checks', () => {
  it('finds duplicate block ids and unknown block types', () => {
    const problems = checkMessageBlocks([section('a', 'same'), section('b', 'same'), { type: 'carousel' }]);
    expect(problems.map(describeProblem)).toEqual([
      'duplicate block_id: same [json-pointer:/blocks/1/block_id]',
      'failed to match all allowed schemas [json-pointer:/blocks/2]',
    ]);
  });

  it('checks fields, headers, context, actions and ids', () => {
    const problems = checkMessageBlocks([
      { type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) },
      { type: 'section', fields: [{ type: 'mrkdwn', text: 'f'.repeat(2001) }] },
      { type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } },
      { type: 'context', elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'c' })) },
      { type: 'actions', block_id: 'b'.repeat(256), elements: Array.from({ length: 26 }, () => button('ok')) },
      { type: 'actions', elements: [{ ...button('ok'), action_id: 'a'.repeat(256), value: 'v'.repeat(2001) }] },
    ]);
    expect(problems.map((p) => p.pointer)).toEqual([
      '/blocks/0/fields',
      '/blocks/1/fields/0/text',
      '/blocks/2/text/text',
      '/blocks/3/elements',
      '/blocks/4/block_id',
      '/blocks/4/elements',
      '/blocks/5/elements/0/action_id',
      '/blocks/5/elements/0/value',
    ]);
  });

  it('checks option texts and values, input limits and modal fields', () => {
    const view = {
      type: 'modal',
      title: { type: 'plain_text', text: 'Request' },
      submit: { type: 'plain_text', text: 's'.repeat(25) },
      private_metadata: 'm'.repeat(3001),
      callback_id: 'c'.repeat(256),
      blocks: [
        {
          type: 'input',
          label: { type: 'plain_text', text: 'l'.repeat(2001) },
          element: { type: 'plain_text_input', action_id: 'a', max_length: 3001 },
        },
        {
          type: 'input',
          label: { type: 'plain_text', text: 'Role' },
          element: {
            type: 'static_select',
            action_id: 'r',
            options: [{ text: { type: 'plain_text', text: 't'.repeat(76) }, value: 'v'.repeat(151) }],
          },
        },
      ],
    };
    expect(checkView(view, 'modal').map((p) => p.pointer)).toEqual([
      '/view/submit/text',
      '/view/private_metadata',
      '/view/callback_id',
      '/view/blocks/0/label/text',
      '/view/blocks/0/element/max_length',
      '/view/blocks/1/element/options/0/text/text',
      '/view/blocks/1/element/options/0/value',
    ]);
  });

  it('allows 100 blocks in a modal or Home tab but not 101', () => {
    const blocks = (n: number): unknown[] => Array.from({ length: n }, () => ({ type: 'divider' }));
    expect(checkView({ type: 'home', blocks: blocks(100) }, 'home')).toEqual([]);
    expect(checkView({ type: 'home', blocks: blocks(101) }, 'home').map(describeProblem)).toEqual([
      'no more than 100 items allowed [json-pointer:/view/blocks]',
    ]);
  });

  it('requires a submit button on a modal with inputs', () => {
    const view = {
      type: 'modal',
      title: { type: 'plain_text', text: 'T' },
      blocks: [
        {
          type: 'input',
          label: { type: 'plain_text', text: 'L' },
          element: { type: 'plain_text_input', action_id: 'a' },
        },
      ],
    };
    expect(checkView(view, 'modal').map((p) => p.pointer)).toEqual(['/view']);
  });
});
