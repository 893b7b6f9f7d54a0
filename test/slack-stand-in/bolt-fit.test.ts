import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiView } from '../../src/sandbox/slack-api/web-api-methods.js';
import type { SlackApiStandIn } from '../../src/sandbox/slack-api/slack-api-server.js';
import {
  sendBlockAction,
  sendBlockSuggestion,
  sendEvent,
  sendSlashCommand,
  sendViewSubmission,
} from '../support/slack-signing.js';
import { BOT_TOKEN, modal, silentLogger, startStandIn } from './stand-in-fixture.js';

/**
 * A bare Bolt app between the signing helpers and the stand-in: proves that what the helpers
 * send is what Bolt accepts, and that Bolt's calls and response_url posts land in the stand-in.
 */

const SECRET = 'test-signing-secret';
let slack: SlackApiStandIn;
let app: App;
let botUrl: string;

beforeAll(async () => {
  slack = await startStandIn();
  app = new App({
    token: BOT_TOKEN,
    signingSecret: SECRET,
    tokenVerificationEnabled: false,
    botId: 'B0ACCESSBOT',
    botUserId: 'U0ACCESSBOT',
    logger: silentLogger,
    clientOptions: { slackApiUrl: slack.url, retryConfig: { retries: 0 } },
  });
  app.command('/access', async ({ ack, body, client }) => {
    await ack();
    await client.views.open({ trigger_id: body.trigger_id, view: modal() });
  });
  app.action('approve', async ({ ack, respond }) => {
    await ack();
    await respond({ replace_original: true, text: 'Approved by Bob' });
  });
  app.view('access_request', async ({ ack, view }) => {
    const typed = view.state.values.justification?.text?.value ?? '';
    await ack(
      typed.length < 5 ? { response_action: 'errors', errors: { justification: 'Say a little more' } } : undefined,
    );
  });
  app.options('role', async ({ ack, payload }) => {
    await ack({ options: [{ text: { type: 'plain_text', text: `Role matching ${payload.value}` }, value: 'owner' }] });
  });
  app.event('app_home_opened', async ({ event, client }) => {
    await client.views.publish({ user_id: event.user, view: { type: 'home', blocks: [] } });
  });
  const server = (await app.start(0)) as Server;
  botUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await app.stop();
  await slack.stop();
});

describe('signed requests through Bolt to the stand-in', () => {
  it('a slash command with a trigger id from the stand-in opens a modal there', async () => {
    const answer = await sendSlashCommand(botUrl, SECRET, {
      userId: 'U0ALICE',
      text: 'github',
      triggerId: slack.issueTriggerId('U0ALICE'),
      responseUrl: slack.issueResponseUrl({ channelId: 'C0SECURITY', userId: 'U0ALICE' }),
    });
    expect(answer.status).toBe(200);
    const opened = await slack.waitFor('view', (e) => e.action === 'opened' && e.view.userId === 'U0ALICE');
    expect(opened.view.callbackId).toBe('access_request');
  });

  it('a view submission reaches the view listener, whose errors come back in the ack', async () => {
    const view = slack.workspace.currentModal('U0ALICE') ?? (await slack.waitFor('view')).view;
    const short = await sendViewSubmission(botUrl, SECRET, {
      userId: 'U0ALICE',
      view: apiView(view, slack.workspace),
      values: { justification: { text: { type: 'plain_text_input', value: 'x' } } },
    });
    expect(short.status).toBe(200);
    expect(short.json).toEqual({ response_action: 'errors', errors: { justification: 'Say a little more' } });
  });

  it('a button click answers through the response_url, replacing the message', async () => {
    const posted = await app.client.chat.postMessage({ channel: 'U0BOB', text: 'Approve?' });
    const ts = posted.ts ?? '';
    const answer = await sendBlockAction(botUrl, SECRET, {
      userId: 'U0BOB',
      actionId: 'approve',
      value: 'req_1',
      triggerId: slack.issueTriggerId('U0BOB'),
      message: { channelId: 'D0BOB', ts },
      responseUrl: slack.issueResponseUrl({ channelId: 'D0BOB', userId: 'U0BOB', messageTs: ts }),
    });
    expect(answer.status).toBe(200);
    const updated = await slack.waitFor('update', (m) => m.ts === ts);
    expect(updated.text).toBe('Approved by Bob');
  });

  it('a block suggestion gets options in the ack', async () => {
    const answer = await sendBlockSuggestion(botUrl, SECRET, {
      userId: 'U0ALICE',
      actionId: 'role',
      blockId: 'role',
      value: 'own',
    });
    expect(answer.json).toEqual({
      options: [{ text: { type: 'plain_text', text: 'Role matching own' }, value: 'owner' }],
    });
  });

  it('an app_home_opened event publishes the Home tab', async () => {
    const answer = await sendEvent(botUrl, SECRET, {
      event: { type: 'app_home_opened', user: 'U0BOB', tab: 'home', channel: 'D0BOB' },
    });
    expect(answer.status).toBe(200);
    await expect(slack.waitFor('home', (v) => v.userId === 'U0BOB')).resolves.toBeTruthy();
  });

  it('refuses a forged signature and a stale timestamp with 401', async () => {
    const input = { userId: 'U0ALICE', triggerId: slack.issueTriggerId('U0ALICE') };
    expect((await sendSlashCommand(botUrl, SECRET, input, { signature: 'v0=' + '0'.repeat(64) })).status).toBe(401);
    expect((await sendSlashCommand(botUrl, 'not-the-secret', input)).status).toBe(401);
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    expect((await sendSlashCommand(botUrl, SECRET, input, { tsSec: sixMinutesAgo })).status).toBe(401);
  });
});
