/**
 * Socket Mode against a local WebSocket stand-in: apps.connections.open on the Slack stand-in
 * hands out a ws:// URL; the "Slack side" sends hello and envelopes, and reads the bot's acks.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebSocketServer, type WebSocket } from 'ws';
import { silentLogger } from '../../src/adapters/log/json-logger.js';
import { connectSlack, createSlackBot, type SlackBot } from '../../src/adapters/slack/create-slack-app.js';
import { DisplayLookups } from '../../src/adapters/slack/display-lookups.js';
import { createHealthCheck } from '../../src/health.js';
import { SlackApiStandIn } from '../../src/sandbox/slack-api/slack-api-server.js';
import { createHarness, type Harness } from '../support/lifecycle-harness.js';
import { TOKEN, USERS } from './slack-fixture.js';

const APP_TOKEN = 'xapp-e2e-token';
let slack: SlackApiStandIn;
let wss: WebSocketServer;
let h: Harness;
let bot: SlackBot | undefined;
let socket: Promise<WebSocket>;

beforeEach(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await once(wss, 'listening');
  socket = new Promise((resolve) =>
    wss.once('connection', (ws) => {
      ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0ACCESSBOT' } }));
      resolve(ws);
    }),
  );
  slack = new SlackApiStandIn({
    botTokens: [TOKEN],
    appTokens: [APP_TOKEN],
    socketModeUrl: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link`,
  });
  for (const u of Object.values(USERS))
    slack.addUser({ id: u.id, email: u.email, name: u.email.split('@')[0]!, realName: u.name, tz: 'Europe/Berlin' });
  await slack.start();
  h = createHarness();
});

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  for (const client of wss.clients) client.terminate();
  wss.close();
  await slack.stop();
  await h.close();
});

/** Sends an envelope as Slack does and resolves with the bot's ack for it. */
async function deliver(
  ws: WebSocket,
  envelope: { type: string; payload: Record<string, unknown> },
  id: string,
): Promise<{ envelope_id: string; payload?: unknown }> {
  const ack = new Promise<{ envelope_id: string; payload?: unknown }>((resolve) => {
    const onMessage = (data: Buffer) => {
      const message = JSON.parse(data.toString()) as { envelope_id?: string; payload?: unknown };
      if (message.envelope_id === id) {
        ws.off('message', onMessage);
        resolve(message as { envelope_id: string; payload?: unknown });
      }
    };
    ws.on('message', onMessage);
  });
  ws.send(JSON.stringify({ envelope_id: id, accepts_response_payload: true, ...envelope }));
  return ack;
}

describe('Socket Mode', () => {
  it('receives commands over the WebSocket with the same listeners, and still serves /healthz over HTTP', async () => {
    const connection = await connectSlack({
      token: TOKEN,
      appToken: APP_TOKEN,
      port: 0,
      health: createHealthCheck(h.deps, { slack: () => ({ mode: 'socket', teamId: 'T0SANDBOX' }) }),
      apiUrl: slack.url,
      logger: silentLogger,
      clock: h.clock,
    });
    const display = new DisplayLookups(h.deps, connection.gate);
    bot = await createSlackBot(connection, { deps: h.deps, display, jobs: { worker: 'socket-e2e' } });
    expect(bot.mode).toBe('socket');
    const port = await bot.start();
    const ws = await socket;
    expect(slack.workspace.calls('apps.connections.open')).toHaveLength(1);

    // /access request: the modal opens through views.open with the envelope's trigger id.
    const trigger = slack.issueTriggerId(USERS.ada.id);
    const opened = slack.waitFor('view', (e) => e.action === 'opened');
    const ack = await deliver(
      ws,
      {
        type: 'slash_commands',
        payload: {
          command: '/access',
          text: 'request',
          user_id: USERS.ada.id,
          team_id: 'T0SANDBOX',
          channel_id: 'D0ADA',
          trigger_id: trigger,
          response_url: 'http://127.0.0.1:1/unused',
        },
      },
      'env-1',
    );
    expect(ack.envelope_id).toBe('env-1');
    const view = await opened;
    expect(view.view.callbackId).toBeTruthy();

    // Another workspace's envelope is refused before any listener runs.
    const refused = await deliver(
      ws,
      {
        type: 'slash_commands',
        payload: {
          command: '/access',
          text: 'request',
          user_id: 'U0EVIL',
          team_id: 'T0OTHER',
          channel_id: 'D0X',
          trigger_id: 'x',
          response_url: 'http://127.0.0.1:1/unused',
        },
      },
      'env-2',
    );
    expect(JSON.stringify(refused.payload)).toContain('another Slack workspace');

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status).toBe(200);
    const body = (await health.json()) as { status: string; database: { ok: boolean }; slack: { mode: string } };
    expect(body).toMatchObject({ status: 'ok', database: { ok: true }, slack: { mode: 'socket' } });
  });
});
