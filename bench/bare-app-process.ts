/**
 * The ack bench's bare Bolt app: acks `/access`, then opens a modal: a trivial one until it is
 * given the view to open (`showForm`: the bench hands it the form the bot opened, so both apps
 * send Slack, and parse back, a form of the same size). In the bench's own process, or
 * (`--bare-process`) in a process of its own, started with the Slack API URL as its argument: it
 * tells its parent its port over IPC, its CPU time when asked, and takes the form over IPC, so the
 * bench can set the bot's CPU per request against a bare app's. With `users-info` as its second
 * argument it calls users.info before views.open (the bench's `--bare-users-info`).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { App } from '@slack/bolt';
import { silentLogger } from '../test/slack-stand-in/stand-in-fixture.js';

export const BENCH_TOKEN = 'xoxb-bench-token';
export const BENCH_SECRET = 'bench-signing-secret';

const TRIVIAL_VIEW = {
  type: 'modal',
  callback_id: 'bench_trivial',
  title: { type: 'plain_text', text: 'Bench' },
  blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'Hello.' } }],
};

/**
 * Starts the bare app on a free loopback port. `usersInfo`: it asks Slack who the person is
 * (users.info) before it opens the form, as the bot must on every request (security review M1):
 * the least any app keeping that rule does, so the bot's cost can be set against it too.
 */
export async function startBareApp(
  slackUrl: string,
  options: { usersInfo?: boolean } = {},
): Promise<{ app: App; server: Server; port: number; showForm: (view: object) => void }> {
  // The same object every time (no building, which favours the bare app); the WebClient serialises it on each call.
  let view: object = TRIVIAL_VIEW;
  const app = new App({
    token: BENCH_TOKEN,
    signingSecret: BENCH_SECRET,
    tokenVerificationEnabled: false,
    botId: 'B0ACCESSBOT',
    botUserId: 'U0ACCESSBOT',
    logger: silentLogger,
    clientOptions: { slackApiUrl: slackUrl, retryConfig: { retries: 0 } },
  });
  app.command('/access', async ({ ack, body, client }) => {
    await ack();
    if (options.usersInfo) await client.users.info({ user: body.user_id });
    await client.views.open({ trigger_id: body.trigger_id, view: view as never });
  });
  // The bare app's listener errors (a views.open refused) would otherwise be unhandled.
  app.error(async () => {});
  const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
  return { app, server, port: (server.address() as AddressInfo).port, showForm: (form) => (view = form) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { app, port, showForm } = await startBareApp(process.argv[2] ?? '', {
    usersInfo: process.argv[3] === 'users-info',
  });
  process.send?.({ ready: true, port });
  process.on('message', (m: { cpuUsage?: boolean; form?: object }) => {
    if (m?.cpuUsage) process.send?.({ cpuUsage: process.cpuUsage() });
    if (m?.form) {
      showForm(m.form);
      process.send?.({ formShown: true });
    }
  });
  process.once('SIGTERM', () => void app.stop().finally(() => process.exit(0)));
}
