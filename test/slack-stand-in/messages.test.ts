import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SlackApiStandIn } from '../../src/sandbox/slack-api/slack-api-server.js';
import { BOT_TOKEN, clientFor, slackError, startStandIn } from './stand-in-fixture.js';

let slack: SlackApiStandIn;
beforeEach(async () => {
  slack = await startStandIn();
});
afterEach(async () => {
  await slack.stop();
});

const approveBlocks = [
  { type: 'section', block_id: 'summary', text: { type: 'mrkdwn', text: '*Alice* asks for GitHub owner' } },
  {
    type: 'actions',
    block_id: 'decide',
    elements: [{ type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' }, value: 'req_1' }],
  },
];

describe('the Slack stand-in: messages', () => {
  it("posts to a user id into that user's DM and keeps every version of a message", async () => {
    const client = clientFor(slack);
    const posted = await client.chat.postMessage({
      channel: 'U0ALICE',
      text: 'Request pending',
      blocks: approveBlocks,
    });
    expect(posted.channel).toBe('D0ALICE');
    const opened = await client.conversations.open({ users: 'U0ALICE' });
    expect(opened.channel?.id).toBe('D0ALICE');

    await client.chat.update({ channel: 'D0ALICE', ts: posted.ts ?? '', text: 'Approved by Bob', blocks: [] });

    const [message] = slack.workspace.dmMessages('U0ALICE');
    expect(message?.ts).toBe(posted.ts);
    expect(message?.text).toBe('Approved by Bob');
    expect(message?.versions.map((v) => v.text)).toEqual(['Request pending', 'Approved by Bob']);
    expect(message?.versions[0]?.blocks).toEqual(approveBlocks);
  });

  it('keeps blocks that chat.update leaves out, as Slack does', async () => {
    const client = clientFor(slack);
    const posted = await client.chat.postMessage({ channel: 'C0SECURITY', text: 'v1', blocks: approveBlocks });
    await client.chat.update({ channel: 'C0SECURITY', ts: posted.ts ?? '', text: 'v2' });
    expect(slack.workspace.findMessage('C0SECURITY', posted.ts ?? '')?.blocks).toEqual(approveBlocks);
  });

  it('threads replies and gives every message a distinct ts', async () => {
    const client = clientFor(slack);
    const parent = await client.chat.postMessage({ channel: 'C0SECURITY', text: 'digest' });
    const reply = await client.chat.postMessage({ channel: 'C0SECURITY', text: 'details', thread_ts: parent.ts });
    expect(reply.ts).not.toBe(parent.ts);
    expect(slack.workspace.messages('C0SECURITY').map((m) => m.threadTs)).toEqual([undefined, parent.ts]);
  });

  it('refuses unknown channels, channels the bot is not in, and empty messages', async () => {
    const client = clientFor(slack);
    expect((await slackError(client.chat.postMessage({ channel: 'C0NOPE', text: 'x' }))).error).toBe(
      'channel_not_found',
    );
    expect((await slackError(client.chat.postMessage({ channel: 'U0NOBODY', text: 'x' }))).error).toBe(
      'channel_not_found',
    );
    expect((await slackError(client.chat.postMessage({ channel: 'C0RANDOM', text: 'x' }))).error).toBe(
      'not_in_channel',
    );
    expect((await slackError(client.apiCall('chat.postMessage', { channel: 'C0SECURITY' }))).error).toBe('no_text');

    slack.workspace.setBotMembership('C0RANDOM', true);
    await expect(client.chat.postMessage({ channel: 'C0RANDOM', text: 'x' })).resolves.toMatchObject({ ok: true });
  });

  it('updates and deletes only messages that exist, by conversation id', async () => {
    const client = clientFor(slack);
    const posted = await client.chat.postMessage({ channel: 'U0ALICE', text: 'hello' });
    const ts = posted.ts ?? '';
    expect((await slackError(client.chat.update({ channel: 'U0ALICE', ts, text: 'x' }))).error).toBe(
      'channel_not_found',
    );
    expect((await slackError(client.chat.update({ channel: 'D0ALICE', ts: '1.000001', text: 'x' }))).error).toBe(
      'message_not_found',
    );

    slack.workspace.addMessage({ channel: 'D0ALICE', user: 'U0ALICE', text: 'typed by Alice', blocks: [], via: 'api' });
    const alices = slack.workspace.dmMessages('U0ALICE').find((m) => m.user === 'U0ALICE');
    expect((await slackError(client.chat.update({ channel: 'D0ALICE', ts: alices?.ts ?? '', text: 'x' }))).error).toBe(
      'cant_update_message',
    );

    await client.chat.delete({ channel: 'D0ALICE', ts });
    expect(slack.workspace.dmMessages('U0ALICE').map((m) => m.text)).toEqual(['typed by Alice']);
    expect((await slackError(client.chat.delete({ channel: 'D0ALICE', ts }))).error).toBe('message_not_found');
  });

  it('shows an ephemeral message to one person only', async () => {
    const client = clientFor(slack);
    const answer = await client.chat.postEphemeral({
      channel: 'C0SECURITY',
      user: 'U0BOB',
      text: 'Only you can see this',
    });
    expect(answer.message_ts).toBeTruthy();
    expect(slack.workspace.messages('C0SECURITY')).toEqual([]);
    expect(slack.workspace.ephemeralsFor('U0BOB').map((m) => m.text)).toEqual(['Only you can see this']);
    expect(
      (await slackError(client.chat.postEphemeral({ channel: 'C0SECURITY', user: 'U0NOBODY', text: 'x' }))).error,
    ).toBe('user_not_found');
    expect((await slackError(client.chat.postEphemeral({ channel: 'D0ALICE', user: 'U0BOB', text: 'x' }))).error).toBe(
      'user_not_in_channel',
    );
  });

  it('truncates text over 40,000 characters with a warning, as Slack does', async () => {
    const answer = await clientFor(slack).chat.postMessage({ channel: 'C0SECURITY', text: 'a'.repeat(40_001) });
    expect(answer.response_metadata?.warnings).toEqual(['message_truncated']);
    expect(slack.workspace.messages('C0SECURITY')[0]?.text).toHaveLength(40_000);
  });

  it('answers users.info and users.lookupByEmail, case-insensitively by email', async () => {
    const client = clientFor(slack);
    const info = await client.users.info({ user: 'U0ALICE' });
    expect(info.user).toMatchObject({
      id: 'U0ALICE',
      team_id: 'T0SANDBOX',
      tz: 'Europe/Berlin',
      profile: { email: 'alice@example.com' },
    });
    const found = await client.users.lookupByEmail({ email: 'bob@example.com' });
    expect(found.user?.id).toBe('U0BOB');
    expect((await slackError(client.users.info({ user: 'U0NOBODY' }))).error).toBe('user_not_found');
    expect((await slackError(client.users.lookupByEmail({ email: 'nobody@example.com' }))).error).toBe(
      'users_not_found',
    );
  });

  it('checks the token and knows its methods', async () => {
    expect((await clientFor(slack).auth.test()).user_id).toBe('U0ACCESSBOT');
    expect((await slackError(clientFor(slack, {}, 'xoxb-wrong').auth.test())).error).toBe('invalid_auth');
    const anonymous = await fetch(`${slack.url}auth.test`, { method: 'POST' });
    expect(anonymous.status).toBe(200);
    expect(await anonymous.json()).toEqual({ ok: false, error: 'not_authed' });
    expect((await slackError(clientFor(slack).apiCall('chat.scheduleMessage', {}))).error).toBe('unknown_method');
    // The token may also travel in the body, as auth.test at Bolt start-up sends it.
    const inBody = await fetch(`${slack.url}auth.test`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${BOT_TOKEN}`,
    });
    expect(await inBody.json()).toMatchObject({ ok: true, team_id: 'T0SANDBOX' });
  });

  it('accepts JSON bodies too', async () => {
    const response = await fetch(`${slack.url}chat.postMessage`, {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-8', authorization: `Bearer ${BOT_TOKEN}` },
      body: JSON.stringify({ channel: 'C0SECURITY', text: 'json', blocks: approveBlocks }),
    });
    expect(await response.json()).toMatchObject({ ok: true, channel: 'C0SECURITY' });
    expect(slack.workspace.messages('C0SECURITY')[0]?.blocks).toEqual(approveBlocks);
  });

  it('answers apps.connections.open only when Socket Mode is set up, and only for app tokens', async () => {
    const appClient = clientFor(slack, {}, 'xapp-sandbox');
    expect((await slackError(appClient.apps.connections.open())).error).toBe('not_allowed');
    slack.setSocketModeUrl('ws://127.0.0.1:9/socket');
    expect((await appClient.apps.connections.open()).url).toBe('ws://127.0.0.1:9/socket');
    expect((await slackError(clientFor(slack).apps.connections.open())).error).toBe('not_allowed_token_type');
  });
});

describe('the Slack stand-in: response_url', () => {
  async function respond(url: string, body: Record<string, unknown>): Promise<Response> {
    return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  }

  it('replaces or deletes the message an action came from', async () => {
    const posted = await clientFor(slack).chat.postMessage({
      channel: 'U0BOB',
      text: 'Approve?',
      blocks: approveBlocks,
    });
    const url = slack.issueResponseUrl({ channelId: 'D0BOB', userId: 'U0BOB', messageTs: posted.ts ?? '' });

    expect((await respond(url, { replace_original: true, text: 'Approved' })).status).toBe(200);
    const message = slack.workspace.findMessage('D0BOB', posted.ts ?? '');
    expect(message?.versions.map((v) => v.text)).toEqual(['Approve?', 'Approved']);

    await respond(url, { delete_original: true });
    expect(slack.workspace.dmMessages('U0BOB')).toEqual([]);
  });

  it('answers a slash command ephemerally unless asked for in_channel', async () => {
    const url = slack.issueResponseUrl({ channelId: 'C0SECURITY', userId: 'U0ALICE' });
    await respond(url, { text: 'Only for Alice' });
    await respond(url, { response_type: 'in_channel', text: 'For everyone' });
    expect(slack.workspace.ephemeralsFor('U0ALICE').map((m) => m.text)).toEqual(['Only for Alice']);
    expect(slack.workspace.messages('C0SECURITY').map((m) => [m.text, m.via])).toEqual([
      ['For everyone', 'response_url'],
    ]);
  });

  it('works five times, then no more', async () => {
    const url = slack.issueResponseUrl({ channelId: 'C0SECURITY', userId: 'U0ALICE' });
    for (let i = 0; i < 5; i += 1) expect((await respond(url, { text: `answer ${i}` })).status).toBe(200);
    const sixth = await respond(url, { text: 'one too many' });
    expect(sixth.status).toBe(404);
    expect(await sixth.text()).toBe('used_url');
  });

  it('refuses blocks Slack would refuse', async () => {
    const url = slack.issueResponseUrl({ channelId: 'C0SECURITY', userId: 'U0ALICE' });
    const answer = await respond(url, {
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }],
    });
    expect(answer.status).toBe(400);
    expect(await answer.json()).toMatchObject({ error: 'invalid_blocks' });
  });
});

describe('the Slack stand-in: waiting for events', () => {
  it('finds an event that happened before the wait began, and waits for later ones', async () => {
    const client = clientFor(slack);
    await client.chat.postMessage({ channel: 'U0ALICE', text: 'first' });
    await expect(slack.waitFor('message', (m) => m.text === 'first')).resolves.toMatchObject({ channel: 'D0ALICE' });

    const after = slack.cursor();
    const later = slack.waitFor('message', () => true, { after });
    await client.chat.postMessage({ channel: 'U0ALICE', text: 'second' });
    await expect(later).resolves.toMatchObject({ text: 'second' });
  });

  it('times out naming the events it saw', async () => {
    await clientFor(slack).chat.postMessage({ channel: 'U0ALICE', text: 'first' });
    await expect(slack.waitFor('update', () => true, { timeoutMs: 20 })).rejects.toThrow(
      /timed out after 20 ms; events seen: .*message/,
    );
  });

  it('records every call with its answer', async () => {
    const client = clientFor(slack);
    await client.auth.test();
    await slackError(client.users.info({ user: 'U0NOBODY' }));
    expect(slack.workspace.calls().map((c) => [c.method, (c.answer as { ok: boolean }).ok])).toEqual([
      ['auth.test', true],
      ['users.info', false],
    ]);
    expect(slack.workspace.calls('users.info')[0]?.args).not.toHaveProperty('token');
  });
});
