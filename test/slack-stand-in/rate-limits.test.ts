import { ErrorCode, WebClientEvent } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SlackApiStandIn } from '../../src/sandbox/slack-api/slack-api-server.js';
import { clientFor, slackError, startStandIn } from './stand-in-fixture.js';

let slack: SlackApiStandIn;
beforeEach(async () => { slack = await startStandIn(); });
afterEach(async () => { await slack.stop(); });

describe('the Slack stand-in: injected failures', () => {
  it('answers 429 with Retry-After, which WebClient waits out and retries', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const client = clientFor(slack, { retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 } });
    const waits: number[] = [];
    client.on(WebClientEvent.RATE_LIMITED, (seconds: number) => waits.push(seconds));

    const started = Date.now();
    await expect(client.chat.postMessage({ channel: 'C0SECURITY', text: 'digest' })).resolves.toMatchObject({ ok: true });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(waits).toEqual([1]);
    expect(slack.workspace.calls('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
    expect(slack.workspace.messages('C0SECURITY')).toHaveLength(1);
  });

  it('lets a client that rejects rate-limited calls see the Retry-After', async () => {
    slack.failNext('views.publish', { status: 429, retryAfter: 7 });
    const client = clientFor(slack, { rejectRateLimitedCalls: true });
    await expect(client.views.publish({ user_id: 'U0ALICE', view: { type: 'home', blocks: [] } }))
      .rejects.toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 7 });
  });

  it('answers 500 and ok:false failures as often as asked', async () => {
    slack.failNext('users.info', { status: 500 });
    slack.failNext('users.info', { error: 'ratelimited' }, 2);
    const client = clientFor(slack);
    await expect(client.users.info({ user: 'U0ALICE' })).rejects.toMatchObject({ code: ErrorCode.HTTPError, statusCode: 500 });
    expect((await slackError(client.users.info({ user: 'U0ALICE' }))).error).toBe('ratelimited');
    expect((await slackError(client.users.info({ user: 'U0ALICE' }))).error).toBe('ratelimited');
    await expect(client.users.info({ user: 'U0ALICE' })).resolves.toMatchObject({ ok: true });
  });
});
