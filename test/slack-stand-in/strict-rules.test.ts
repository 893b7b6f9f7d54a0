import type { types } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { blockTextLength, checkMessageBlocks, checkView } from '../../src/sandbox/slack-api/block-kit-limits.js';
import type { SlackApiStandIn } from '../../src/sandbox/slack-api/slack-api-server.js';
import { clientFor, modal, slackError, startStandIn } from './stand-in-fixture.js';

/** What the real Slack refuses that a lenient stand-in would let through (api-conformance review §4). */

let slack: SlackApiStandIn;
beforeEach(async () => {
  slack = await startStandIn();
});
afterEach(async () => {
  await slack.stop();
});

const section = (text: string): types.SectionBlock => ({ type: 'section', text: { type: 'mrkdwn', text } });
const option = (value: string): types.PlainTextOption => ({ text: { type: 'plain_text', text: value }, value });

describe('the Slack stand-in: total block text', () => {
  it('counts every text in the block tree', () => {
    expect(
      blockTextLength([
        { type: 'header', text: { type: 'plain_text', text: '12345' } },
        {
          type: 'section',
          fields: [
            { type: 'mrkdwn', text: 'ab' },
            { type: 'mrkdwn', text: 'cd' },
          ],
        },
        {
          type: 'actions',
          elements: [
            { type: 'button', action_id: 'x', value: 'not counted', text: { type: 'plain_text', text: 'Go' } },
          ],
        },
      ]),
    ).toBe(11);
  });

  it('answers msg_blocks_too_long for blocks over 12,000 characters of text in all, each block valid', async () => {
    const client = clientFor(slack);
    const tooLong = Array.from({ length: 5 }, () => section('x'.repeat(2_500)));
    expect(checkMessageBlocks(tooLong)).toEqual([]);
    expect(
      await slackError(client.chat.postMessage({ channel: 'C0SECURITY', text: 'digest', blocks: tooLong })),
    ).toMatchObject({ ok: false, error: 'msg_blocks_too_long' });
    expect(slack.workspace.messages('C0SECURITY')).toEqual([]);

    const fits = Array.from({ length: 4 }, () => section('x'.repeat(2_999)));
    const posted = await client.chat.postMessage({ channel: 'C0SECURITY', text: 'digest', blocks: fits });
    const update = client.chat.update({ channel: 'C0SECURITY', ts: posted.ts ?? '', text: 'x', blocks: tooLong });
    expect((await slackError(update)).error).toBe('msg_blocks_too_long');
  });
});

describe('the Slack stand-in: text limits without silent truncation', () => {
  it('refuses chat.update text over 4,000 characters with msg_too_long, and keeps the message as it was', async () => {
    const client = clientFor(slack);
    const posted = await client.chat.postMessage({ channel: 'C0SECURITY', text: 'v1' });
    const update = client.chat.update({ channel: 'C0SECURITY', ts: posted.ts ?? '', text: 'y'.repeat(4_001) });
    expect((await slackError(update)).error).toBe('msg_too_long');
    expect(slack.workspace.findMessage('C0SECURITY', posted.ts ?? '')?.text).toBe('v1');
    await expect(
      client.chat.update({ channel: 'C0SECURITY', ts: posted.ts ?? '', text: 'y'.repeat(4_000) }),
    ).resolves.toMatchObject({ ok: true });
  });

  it('refuses an over-long ephemeral text instead of truncating it', async () => {
    const text = 'z'.repeat(40_001);
    const ephemeral = clientFor(slack).chat.postEphemeral({ channel: 'C0SECURITY', user: 'U0ALICE', text });
    const answer = await slackError(ephemeral);
    expect(answer.error).toBe('msg_too_long');
    expect(slack.workspace.ephemeralsFor('U0ALICE')).toEqual([]);
  });
});

describe('the Slack stand-in: private and archived channels', () => {
  it('answers channel_not_found for a private channel the bot is not in, and posts once it is invited', async () => {
    slack.addChannel({ id: 'G0PRIVATE', name: 'incident-response', isPrivate: true, botIsMember: false });
    const client = clientFor(slack);
    expect((await slackError(client.chat.postMessage({ channel: 'G0PRIVATE', text: 'x' }))).error).toBe(
      'channel_not_found',
    );
    expect((await slackError(client.conversations.info({ channel: 'G0PRIVATE' }))).error).toBe('channel_not_found');
    // A public channel the bot is not in is visible: not_in_channel, and conversations.info says so.
    expect((await slackError(client.chat.postMessage({ channel: 'C0RANDOM', text: 'x' }))).error).toBe(
      'not_in_channel',
    );
    expect((await client.conversations.info({ channel: 'C0RANDOM' })).channel).toMatchObject({
      id: 'C0RANDOM',
      is_member: false,
      is_private: false,
    });

    slack.workspace.setBotMembership('G0PRIVATE', true);
    await expect(client.chat.postMessage({ channel: 'G0PRIVATE', text: 'x' })).resolves.toMatchObject({
      ok: true,
      channel: 'G0PRIVATE',
    });
    expect((await client.conversations.info({ channel: 'G0PRIVATE' })).channel).toMatchObject({
      is_member: true,
      is_private: true,
    });
  });

  it('refuses a file shared into a private channel the bot cannot see', async () => {
    slack.addChannel({ id: 'G0PRIVATE', name: 'incident-response', isPrivate: true, botIsMember: false });
    const client = clientFor(slack);
    const upload = await client.files.getUploadURLExternal({ filename: 'a.csv', length: 3 });
    await fetch(upload.upload_url ?? '', { method: 'POST', body: 'a,b' });
    const files: [{ id: string }] = [{ id: upload.file_id ?? '' }];
    const complete = client.files.completeUploadExternal({ files, channel_id: 'G0PRIVATE' });
    expect((await slackError(complete)).error).toBe('channel_not_found');
  });

  it('answers is_archived to a post and is_inactive to an update in an archived channel', async () => {
    const client = clientFor(slack);
    const posted = await client.chat.postMessage({ channel: 'C0SECURITY', text: 'before' });
    slack.workspace.channel('C0SECURITY')!.archived = true;
    expect((await slackError(client.chat.postMessage({ channel: 'C0SECURITY', text: 'x' }))).error).toBe('is_archived');
    expect(
      (await slackError(client.chat.update({ channel: 'C0SECURITY', ts: posted.ts ?? '', text: 'x' }))).error,
    ).toBe('is_inactive');
  });

  it('answers user_disabled when opening a DM with a deactivated account', async () => {
    slack.addUser({
      id: 'U0GONE',
      email: 'gone@example.com',
      name: 'gone',
      realName: 'Gone',
      tz: 'UTC',
      deleted: true,
    });
    expect((await slackError(clientFor(slack).conversations.open({ users: 'U0GONE' }))).error).toBe('user_disabled');
  });
});

describe('the Slack stand-in: what each surface and container takes', () => {
  it('refuses an initial_option that is not one of the options, in views and messages', async () => {
    const select = {
      type: 'static_select',
      action_id: 'pick',
      options: [option('a'), option('b')],
      initial_option: option('c'),
    };
    const label = { type: 'plain_text', text: 'Role' } as const;
    const view = modal('Request access', { blocks: [{ type: 'input', block_id: 'role', label, element: select }] });
    const answer = await slackError(clientFor(slack).views.open({ trigger_id: slack.issueTriggerId('U0ALICE'), view }));
    expect(answer.error).toBe('invalid_arguments');
    expect(answer.response_metadata).toEqual({
      messages: ['[ERROR] must match one of the provided options [json-pointer:/view/blocks/0/element/initial_option]'],
    });
    expect(checkMessageBlocks([{ type: 'actions', elements: [{ ...select, initial_option: option('b') }] }])).toEqual(
      [],
    );
    const radio = { type: 'radio_buttons', action_id: 'r', options: [option('a')], initial_option: option('z') };
    expect(checkMessageBlocks([{ type: 'section', text: { type: 'mrkdwn', text: 'x' }, accessory: radio }])).toEqual([
      { pointer: '/blocks/0/accessory/initial_option', message: 'must match one of the provided options' },
    ]);
  });

  it('refuses a static select without options', () => {
    expect(checkMessageBlocks([{ type: 'actions', elements: [{ type: 'static_select', action_id: 'pick' }] }])).toEqual(
      [{ pointer: '/blocks/0/elements/0', message: 'must provide exactly one of `options` or `option_groups`' }],
    );
  });

  it('keeps text inputs in input blocks and buttons out of them', () => {
    expect(checkMessageBlocks([{ type: 'actions', elements: [{ type: 'plain_text_input', action_id: 't' }] }])).toEqual(
      [
        {
          pointer: '/blocks/0/elements/0/type',
          message: 'element type plain_text_input is not allowed in an actions block',
        },
      ],
    );
    const textInput = { type: 'plain_text_input', action_id: 't' };
    expect(
      checkMessageBlocks([{ type: 'section', text: { type: 'mrkdwn', text: 'x' }, accessory: textInput }]),
    ).toEqual([
      {
        pointer: '/blocks/0/accessory/type',
        message: 'element type plain_text_input is not allowed in a section accessory',
      },
    ]);
    const button = { type: 'button', action_id: 'go', text: { type: 'plain_text', text: 'Go' } };
    const withButton = modal('X', {
      blocks: [{ type: 'input', block_id: 'b', label: { type: 'plain_text', text: 'B' }, element: button }],
    });
    expect(checkView(withButton, 'modal')).toEqual([
      { pointer: '/view/blocks/0/element/type', message: 'element type button is not allowed in an input block' },
    ]);
  });

  it('allows markdown and file blocks in messages only', () => {
    const markdown = { type: 'markdown', text: '**bold**' };
    expect(checkMessageBlocks([markdown])).toEqual([]);
    expect(checkView({ type: 'home', blocks: [markdown] }, 'home')).toEqual([
      { pointer: '/view/blocks/0/type', message: 'block type markdown is not allowed in a home' },
    ]);
  });
});
