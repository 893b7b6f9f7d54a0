import { ErrorCode, WebClientEvent } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SlackApiStandIn } from '../../src/sandbox/slack-api/slack-api-server.js';
import { clientFor, slackError, startStandIn } from './stand-in-fixture.js';

let slack: SlackApiStandIn;
beforeEach(async () => {
  slack = await startStandIn();
});
afterEach(async () => {
  await slack.stop();
});

describe('the Slack stand-in: injected failures', () => {
  it('answers 429 with Retry-After, which WebClient waits out and retries', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const client = clientFor(slack, { retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 } });
    const waits: number[] = [];
    client.on(WebClientEvent.RATE_LIMITED, (seconds: number) => waits.push(seconds));

    const started = Date.now();
    await expect(client.chat.postMessage({ channel: 'C0SECURITY', text: 'digest' })).resolves.toMatchObject({
      ok: true,
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(waits).toEqual([1]);
    expect(slack.workspace.calls('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
    expect(slack.workspace.messages('C0SECURITY')).toHaveLength(1);
  });

  it('lets a client that rejects rate-limited calls see the Retry-After', async () => {
    slack.failNext('views.publish', { status: 429, retryAfter: 7 });
    const client = clientFor(slack, { rejectRateLimitedCalls: true });
    await expect(
      client.views.publish({ user_id: 'U0ALICE', view: { type: 'home', blocks: [] } }),
    ).rejects.toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 7 });
  });

  it('answers 500 and ok:false failures as often as asked', async () => {
    slack.failNext('users.info', { status: 500 });
    slack.failNext('users.info', { error: 'ratelimited' }, 2);
    const client = clientFor(slack);
    await expect(client.users.info({ user: 'U0ALICE' })).rejects.toMatchObject({
      code: ErrorCode.HTTPError,
      statusCode: 500,
    });
    expect((await slackError(client.users.info({ user: 'U0ALICE' }))).error).toBe('ratelimited');
    expect((await slackError(client.users.info({ user: 'U0ALICE' }))).error).toBe('ratelimited');
    await expect(client.users.info({ user: 'U0ALICE' })).resolves.toMatchObject({ ok: true });
  });
});

describe("the Slack stand-in: Slack's rate-limit tiers", () => {
  let clock = Date.parse('2026-03-02T09:00:00Z');
  let limited: SlackApiStandIn;
  beforeEach(async () => {
    clock = Date.parse('2026-03-02T09:00:00Z');
    limited = await startStandIn({ clock: () => clock });
  });
  afterEach(async () => {
    await limited.stop();
  });

  const rejecting = () => clientFor(limited, { rejectRateLimitedCalls: true });

  it('gives a Tier 3 method 50 calls a minute, then 429 with the seconds left in the window', async () => {
    const client = rejecting();
    for (let i = 0; i < 50; i++) await client.conversations.open({ users: 'U0ALICE' });
    clock += 20_000;
    await expect(client.conversations.open({ users: 'U0BOB' })).rejects.toMatchObject({
      code: ErrorCode.RateLimitedError,
      retryAfter: 40,
    });
    const refused = limited.workspace.calls('conversations.open').at(-1);
    expect(refused).toMatchObject({ status: 429, retryAfterSeconds: 40, rateKey: 'method:conversations.open' });
    // Another method has its own budget; the window ends and the method answers again.
    await expect(client.users.info({ user: 'U0ALICE' })).resolves.toMatchObject({ ok: true });
    clock += 40_000;
    await expect(client.conversations.open({ users: 'U0BOB' })).resolves.toMatchObject({ ok: true });
  });

  it('gives a Tier 4 method 100 calls a minute and chat.update (Tier 3) 50', async () => {
    const client = rejecting();
    for (let i = 0; i < 100; i++) await client.users.info({ user: 'U0ALICE' });
    await expect(client.users.info({ user: 'U0ALICE' })).rejects.toMatchObject({ retryAfter: 60 });
    const posted = await client.chat.postMessage({ channel: 'C0SECURITY', text: 'v1' });
    for (let i = 0; i < 50; i++) {
      await client.chat.update({ channel: 'C0SECURITY', ts: posted.ts ?? '', text: `v${i}` });
    }
    await expect(
      client.chat.update({ channel: 'C0SECURITY', ts: posted.ts ?? '', text: 'one too many' }),
    ).rejects.toMatchObject({ code: ErrorCode.RateLimitedError });
  });

  it('lets chat.postMessage post about one message a second per channel, after a short burst', async () => {
    const client = rejecting();
    for (let i = 0; i < 3; i++) await client.chat.postMessage({ channel: 'C0SECURITY', text: `burst ${i}` });
    await expect(client.chat.postMessage({ channel: 'C0SECURITY', text: 'too fast' })).rejects.toMatchObject({
      retryAfter: 1,
    });
    expect(limited.workspace.calls('chat.postMessage').at(-1)?.rateKey).toBe('chat.postMessage:C0SECURITY');
    // Other conversations are not held back; a user id counts against their DM.
    await client.chat.postMessage({ channel: 'U0ALICE', text: 'dm 1' });
    await client.chat.postMessage({ channel: 'D0ALICE', text: 'dm 2' });
    await client.chat.postMessage({ channel: 'U0ALICE', text: 'dm 3' });
    await expect(client.chat.postMessage({ channel: 'U0ALICE', text: 'dm 4' })).rejects.toMatchObject({
      retryAfter: 1,
    });
    clock += 1000;
    await expect(client.chat.postMessage({ channel: 'C0SECURITY', text: 'a second later' })).resolves.toMatchObject({
      ok: true,
    });
    await expect(client.chat.postMessage({ channel: 'C0SECURITY', text: 'too fast again' })).rejects.toMatchObject({
      retryAfter: 1,
    });
  });

  it('keeps a workspace-wide limit of 300 messages a minute however many channels they go to', async () => {
    const client = rejecting();
    for (let i = 0; i < 300; i++) {
      const id = `U0P${i}`;
      limited.addUser({ id, email: `p${i}@example.com`, name: `p${i}`, realName: `P ${i}`, tz: 'UTC' });
      await client.chat.postMessage({ channel: id, text: 'hello' });
    }
    limited.addUser({ id: 'U0LAST', email: 'last@example.com', name: 'last', realName: 'Last', tz: 'UTC' });
    await expect(client.chat.postMessage({ channel: 'U0LAST', text: 'hello' })).rejects.toMatchObject({
      retryAfter: 60,
    });
    expect(limited.workspace.calls('chat.postMessage').at(-1)?.rateKey).toBe('chat.postMessage:workspace');
  });

  it('shortens every window by a scale for tests on the real clock, never below a second of Retry-After', async () => {
    const scaled = await startStandIn({ clock: () => clock, rateLimits: { windowScale: 0.01 } });
    try {
      const client = clientFor(scaled, { rejectRateLimitedCalls: true });
      for (let i = 0; i < 50; i++) await client.users.lookupByEmail({ email: 'alice@example.com' });
      await expect(client.users.lookupByEmail({ email: 'alice@example.com' })).rejects.toMatchObject({ retryAfter: 1 });
      clock += 600; // the 60 s window, scaled
      await expect(client.users.lookupByEmail({ email: 'alice@example.com' })).resolves.toMatchObject({ ok: true });
    } finally {
      await scaled.stop();
    }
  });

  it('does not limit auth.test (special tier, no published numbers)', async () => {
    const client = rejecting();
    for (let i = 0; i < 120; i++) await client.auth.test();
  });
});
