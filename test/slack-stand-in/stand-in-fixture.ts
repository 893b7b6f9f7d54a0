import { LogLevel, WebClient, type Logger, type ViewsOpenArguments, type WebClientOptions } from '@slack/web-api';
import { SlackApiStandIn, type SlackApiStandInOptions } from '../../src/sandbox/slack-api/slack-api-server.js';

export const BOT_TOKEN = 'xoxb-test-token';

/** A started stand-in with two people and two channels (the bot is only in #security). */
export async function startStandIn(options: SlackApiStandInOptions = {}): Promise<SlackApiStandIn> {
  const slack = new SlackApiStandIn({ botTokens: [BOT_TOKEN], ...options });
  slack.addUser({
    id: 'U0ALICE',
    email: 'alice@example.com',
    name: 'alice',
    realName: 'Alice Archer',
    tz: 'Europe/Berlin',
  });
  slack.addUser({ id: 'U0BOB', email: 'Bob@Example.com', name: 'bob', realName: 'Bob Baker', tz: 'Europe/Berlin' });
  slack.addChannel({ id: 'C0SECURITY', name: 'security' });
  slack.addChannel({ id: 'C0RANDOM', name: 'random', botIsMember: false });
  await slack.start();
  return slack;
}

/** WebClient logs Slack's `[ERROR]` messages itself; the tests assert on them instead. */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

/** The real WebClient, pointed at the stand-in, with retries off unless a test asks for them. */
export function clientFor(slack: SlackApiStandIn, options: WebClientOptions = {}, token = BOT_TOKEN): WebClient {
  return new WebClient(token, {
    slackApiUrl: slack.url,
    retryConfig: { retries: 0 },
    logger: silentLogger,
    ...options,
  });
}

/** The Slack error code a rejected WebClient call carries (`e.data.error`). */
export async function slackError(call: Promise<unknown>): Promise<{ error: string; [key: string]: unknown }> {
  try {
    await call;
  } catch (error) {
    const data = (error as { data?: { error: string } }).data;
    if (data) return data;
    throw error;
  }
  throw new Error('expected the call to fail');
}

export type ModalView = ViewsOpenArguments['view'];

export function modal(title = 'Request access', extra: Record<string, unknown> = {}): ModalView {
  return {
    type: 'modal',
    callback_id: 'access_request',
    title: { type: 'plain_text', text: title },
    submit: { type: 'plain_text', text: 'Submit' },
    private_metadata: '{"step":1}',
    blocks: [
      {
        type: 'input',
        block_id: 'justification',
        label: { type: 'plain_text', text: 'Why?' },
        element: { type: 'plain_text_input', action_id: 'text' },
      },
    ],
    ...extra,
  } as ModalView;
}
