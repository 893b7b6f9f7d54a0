import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel, type Logger } from '@slack/bolt';
import { SlackApiStandIn } from '../../src/sandbox/slack-api/slack-api-server.js';
import { startSandboxServer, type SandboxClock, type SandboxServer } from '../../src/sandbox/sandbox-http.js';

/**
 * A tiny Bolt app behind the sandbox: `/access` opens a modal; its submission wants a reason
 * (`response_action: errors` when empty) and then DMs a message with a button; the button
 * updates that message in place with chat.update. A few extra commands exercise the rest of the
 * page: `hello` (an ephemeral ack), `toolong` (blocks Slack rejects), `export` (a CSV upload).
 */

export const SECRET = 'sandbox-test-signing-secret';
export const BOT_TOKEN = 'xoxb-sandbox-test';

export const PEOPLE = [
  { slackId: 'U0ADA', email: 'ada@example.com', name: 'Ada Lovelace', title: 'Engineer' },
  { slackId: 'U0MARCUS', email: 'marcus@example.com', name: 'Marcus Chen', title: 'Engineering manager' },
];
export const CHANNELS = [
  { id: 'C0SECURITY', name: 'security' },
  { id: 'C0ACCESSOPS', name: 'access-ops' },
];

const silent: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

function requestModal() {
  return {
    type: 'modal' as const,
    callback_id: 'tiny_request',
    title: { type: 'plain_text' as const, text: 'Request access' },
    submit: { type: 'plain_text' as const, text: 'Request' },
    close: { type: 'plain_text' as const, text: 'Cancel' },
    private_metadata: 'req-meta-1',
    notify_on_close: true,
    blocks: [
      {
        type: 'input',
        block_id: 'app',
        label: { type: 'plain_text', text: 'Application' },
        element: {
          type: 'static_select',
          action_id: 'app_pick',
          options: [
            { text: { type: 'plain_text', text: 'GitHub' }, value: 'github' },
            { text: { type: 'plain_text', text: 'AWS' }, value: 'aws' },
          ],
          initial_option: { text: { type: 'plain_text', text: 'GitHub' }, value: 'github' },
        },
      },
      {
        type: 'input',
        block_id: 'role',
        optional: true,
        label: { type: 'plain_text', text: 'Role' },
        element: { type: 'external_select', action_id: 'role_pick', min_query_length: 0 },
      },
      {
        // Optional, so Slack's client lets an empty field through and the bot's own check answers.
        type: 'input',
        block_id: 'why',
        optional: true,
        label: { type: 'plain_text', text: 'Justification' },
        element: {
          type: 'plain_text_input',
          action_id: 'why_text',
          multiline: true,
          placeholder: { type: 'plain_text', text: 'What do you need it for?' },
        },
      },
    ],
  };
}

export interface TinyWorld {
  standIn: SlackApiStandIn;
  app: App;
  sandbox: SandboxServer;
  botEventsUrl: string;
  /** Seconds the sandbox's time control moved the clock, in order. */
  advanced: number[];
  /** Every view_closed the bot received. */
  closed: string[];
  stop(): Promise<void>;
}

export async function startTinyWorld(): Promise<TinyWorld> {
  const standIn = new SlackApiStandIn({ botTokens: [BOT_TOKEN] });
  await standIn.start();
  const app = new App({
    token: BOT_TOKEN,
    signingSecret: SECRET,
    tokenVerificationEnabled: false,
    botId: standIn.workspace.botId,
    botUserId: standIn.workspace.botUserId,
    logger: silent,
    clientOptions: { slackApiUrl: standIn.url, retryConfig: { retries: 0 } },
  });
  const closed: string[] = [];

  app.command('/access', async ({ ack, body, client }) => {
    const text = body.text.trim();
    if (text === 'hello')
      return void (await ack({ response_type: 'ephemeral', text: 'Hello *there*, <@' + body.user_id + '>' }));
    if (text.startsWith('echo '))
      return void (await ack({ response_type: 'ephemeral', text: `you sent: ${text.slice(5)}` }));
    await ack();
    if (text === 'toolong') {
      await client.chat
        .postMessage({
          channel: body.user_id,
          text: 'too long',
          blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }],
        })
        .catch(() => undefined);
      return;
    }
    if (text === 'export') {
      const dm = await client.conversations.open({ users: body.user_id });
      await client.filesUploadV2({
        channel_id: dm.channel?.id ?? '',
        filename: 'access-export.csv',
        title: 'Access export',
        content: 'user,app\nada@example.com,github\n',
        initial_comment: 'Your export',
      });
      return;
    }
    await client.views.open({ trigger_id: body.trigger_id, view: requestModal() });
  });

  app.options('role_pick', async ({ ack, payload }) => {
    const roles = [
      { id: 'owner', name: 'Owner' },
      { id: 'member', name: 'Member' },
    ];
    await ack({
      options: roles
        .filter((r) => r.name.toLowerCase().includes(payload.value.toLowerCase()))
        .map((r) => ({ text: { type: 'plain_text', text: r.name }, value: r.id })),
    });
  });

  app.view('tiny_request', async ({ ack, view, body, client }) => {
    const why = view.state.values.why?.why_text?.value ?? '';
    if (!why.trim())
      return void (await ack({ response_action: 'errors', errors: { why: 'Tell us why you need it.' } }));
    const plain = (text: string) => ({ type: 'plain_text' as const, text });
    const note = [{ type: 'section', text: { type: 'mrkdwn', text: `You wrote: ${why}` } }];
    // Keywords that make the bot answer with each response_action Slack knows.
    if (why === 'update')
      return void (await ack({
        response_action: 'update',
        view: { type: 'modal', title: plain('Request sent'), close: plain('Close'), blocks: note },
      }));
    if (why === 'push')
      return void (await ack({
        response_action: 'push',
        view: {
          type: 'modal',
          callback_id: 'tiny_pushed',
          title: plain('Are you sure?'),
          submit: plain('Yes'),
          blocks: note,
        },
      }));
    if (why === 'too long')
      return void (await ack({
        response_action: 'update',
        view: { type: 'modal', title: plain('This title is far too long for Slack'), blocks: note },
      }));
    await ack();
    const appName = view.state.values.app?.app_pick?.selected_option?.text.text ?? '?';
    const role = view.state.values.role?.role_pick?.selected_option?.value ?? 'member';
    const safeWhy = why.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
    await client.chat.postMessage({
      channel: body.user.id,
      text: `Request for ${appName}`,
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: `Access request: ${appName}` } },
        {
          type: 'section',
          text: { type: 'mrkdwn', text: `*${appName}* (${role}) for <@${body.user.id}>\n>${safeWhy}` },
        },
        {
          type: 'actions',
          block_id: 'decide',
          elements: [
            {
              type: 'button',
              action_id: 'done_button',
              style: 'primary',
              value: 'req_1',
              text: { type: 'plain_text', text: 'Mark done' },
            },
          ],
        },
      ],
    });
  });

  app.view('tiny_pushed', async ({ ack }) => {
    await ack({ response_action: 'clear' });
  });

  app.view({ callback_id: 'tiny_request', type: 'view_closed' }, async ({ ack, view }) => {
    await ack();
    closed.push(view.id);
  });

  app.action('done_button', async ({ ack, body, client }) => {
    await ack();
    if (body.type !== 'block_actions' || body.container.type !== 'message') return;
    await client.chat.update({
      channel: body.container.channel_id as string,
      ts: body.container.message_ts as string,
      text: 'Done',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `:white_check_mark: *Done* by <@${body.user.id}>` } }],
    });
  });

  app.event('app_home_opened', async ({ event, client }) => {
    if (event.tab !== 'home') return;
    await client.views.publish({
      user_id: event.user,
      view: {
        type: 'home',
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: `Hello <@${event.user}>: *nothing* pending.` } }],
      },
    });
  });

  const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
  const botEventsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  const advanced: number[] = [];
  let now = Date.parse('2026-11-02T09:00:00Z');
  const clock: SandboxClock = {
    advance: (seconds) => {
      advanced.push(seconds);
      now += seconds * 1000;
    },
    now: () => new Date(now),
  };
  const sandbox = await startSandboxServer({
    standIn,
    botEventsUrl,
    signingSecret: SECRET,
    people: PEOPLE,
    channels: CHANNELS,
    port: 0,
    clock,
    timezone: 'Europe/Berlin',
  });
  return {
    standIn,
    app,
    sandbox,
    botEventsUrl,
    advanced,
    closed,
    stop: async () => {
      await sandbox.close();
      await app.stop();
      await standIn.stop();
    },
  };
}
