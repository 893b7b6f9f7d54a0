/**
 * The bot's WebClient transport (slackFetch) against the Slack stand-in: the client sees what it
 * sees over Node's fetch (answers, HTTP errors, Retry-After, timeouts), and uploads still work.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ErrorCode } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { slackFetch } from '../../src/adapters/slack/slack-fetch.js';
import type { SlackApiStandIn } from '../../src/sandbox/slack-api/slack-api-server.js';
import { clientFor, slackError, startStandIn } from '../slack-stand-in/stand-in-fixture.js';

let slack: SlackApiStandIn;
beforeEach(async () => {
  slack = await startStandIn();
});
afterEach(async () => {
  await slack.stop();
});

describe("the bot's Slack transport", () => {
  it('gives the WebClient the same answer as fetch does, headers included', async () => {
    const viaFetch = await clientFor(slack).users.info({ user: 'U0ALICE' });
    const viaSlackFetch = await clientFor(slack, { fetch: slackFetch }).users.info({ user: 'U0ALICE' });
    expect(viaSlackFetch).toEqual(viaFetch);
    expect(viaSlackFetch.user).toMatchObject({ id: 'U0ALICE', profile: { email: 'alice@example.com' } });
    const [first, second] = slack.workspace.calls('users.info');
    expect(second?.args).toEqual(first?.args);
  });

  it("sends a view as Slack reads it: views.open's modal arrives whole", async () => {
    const trigger = slack.issueTriggerId('U0ALICE');
    const view = {
      type: 'modal' as const,
      title: { type: 'plain_text' as const, text: 'Request access' },
      blocks: [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: 'Ünïcödé & = + %' } }],
    };
    const opened = await clientFor(slack, { fetch: slackFetch }).views.open({ trigger_id: trigger, view });
    expect(opened.view?.blocks).toMatchObject(view.blocks);
  });

  it('passes on an ok:false answer, an HTTP error and a Retry-After', async () => {
    const client = clientFor(slack, { fetch: slackFetch, rejectRateLimitedCalls: true });
    slack.failNext('users.info', { error: 'ratelimited' });
    expect((await slackError(client.users.info({ user: 'U0ALICE' }))).error).toBe('ratelimited');
    slack.failNext('users.info', { status: 500 });
    await expect(client.users.info({ user: 'U0ALICE' })).rejects.toMatchObject({
      code: ErrorCode.HTTPError,
      statusCode: 500,
      statusMessage: 'Internal Server Error',
    });
    slack.failNext('views.publish', { status: 429, retryAfter: 7 });
    await expect(
      client.views.publish({ user_id: 'U0ALICE', view: { type: 'home', blocks: [] } }),
    ).rejects.toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 7 });
  });

  it("gives up on a server that does not answer within the client's timeout", async () => {
    const silent: Server = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = silent.address() as AddressInfo;
      const client = clientFor(slack, { fetch: slackFetch, timeout: 200 });
      (client as unknown as { slackApiUrl: string }).slackApiUrl = `http://127.0.0.1:${port}/api/`;
      await expect(client.users.info({ user: 'U0ALICE' })).rejects.toMatchObject({ code: ErrorCode.RequestError });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('sends a call again, once, on a new connection when the kept-alive one was closed as it went out', async () => {
    const client = clientFor(slack, { fetch: slackFetch });
    await client.auth.test(); // a connection, kept alive
    slack.closeKeptAliveConnectionOnNext('users.info', 2);
    const info = await client.users.info({ user: 'U0ALICE' });
    expect(info.user?.profile?.email).toBe('alice@example.com');
    expect(slack.keptAliveConnectionsClosed).toBe(1);
    // The closed connection never carried the call: Slack saw it once.
    expect(slack.workspace.calls('users.info')).toHaveLength(1);
  });

  it('does not send again a call whose new connection the server closed', async () => {
    const closing: Server = createServer((req) => req.socket.destroy());
    await new Promise<void>((resolve) => closing.listen(0, '127.0.0.1', resolve));
    let calls = 0;
    closing.on('request', () => (calls += 1));
    try {
      const { port } = closing.address() as AddressInfo;
      const client = clientFor(slack, { fetch: slackFetch });
      (client as unknown as { slackApiUrl: string }).slackApiUrl = `http://127.0.0.1:${port}/api/`;
      await expect(client.users.info({ user: 'U0ALICE' })).rejects.toMatchObject({ code: ErrorCode.RequestError });
      expect(calls).toBe(1);
    } finally {
      closing.closeAllConnections();
      await new Promise((resolve) => closing.close(resolve));
    }
  });

  it('uploads a file (a multipart body, which goes through fetch)', async () => {
    const bytes = Buffer.from('request_id,app\nreq_1,github\n');
    await clientFor(slack, { fetch: slackFetch }).filesUploadV2({
      channel_id: 'C0SECURITY',
      filename: 'requests.csv',
      file: bytes,
    });
    expect(slack.workspace.files()[0]?.bytes).toEqual(bytes);
  });
});
