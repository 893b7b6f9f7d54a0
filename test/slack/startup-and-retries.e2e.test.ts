import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ACTION } from '../../blocks/ids.js';
import { silentLogger } from '../../src/adapters/log/json-logger.js';
import { connectSlack, SlackStartupError } from '../../src/adapters/slack/create-slack-app.js';
import { SlackApiStandIn } from '../../src/sandbox/slack-api/slack-api-server.js';
import { createHarness } from '../support/lifecycle-harness.js';
import { hasAction, startSlackFixture, USERS, type SlackFixture } from './slack-fixture.js';
import { TEST_SIGNING_KEY_PEM } from '../support/signing-key.js';

let fx: SlackFixture | undefined;
afterEach(async () => {
  await fx?.close();
  fx = undefined;
});

describe('starting up', () => {
  it('turns a failing auth.test into a clear SlackStartupError', async () => {
    const slack = new SlackApiStandIn({ botTokens: ['xoxb-right'] });
    await slack.start();
    const h = createHarness();
    try {
      const error = await connectSlack({
        token: 'xoxb-wrong',
        signingSecret: 's',
        apiUrl: slack.url,
        logger: silentLogger,
        clock: h.clock,
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(SlackStartupError);
      expect((error as Error).message).toContain('Slack answered "invalid_auth"');
      expect((error as Error).message).toContain('SLACK_BOT_TOKEN');
    } finally {
      await h.close();
      await slack.stop();
    }
  });

  it('exits with a one-line error, not a crash trace, when npm start meets a bad token', async () => {
    const slack = new SlackApiStandIn({ botTokens: ['xoxb-right'] });
    await slack.start();
    const dir = mkdtempSync(join(tmpdir(), 'access-bot-start-'));
    try {
      const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env: {
          ...process.env,
          SLACK_BOT_TOKEN: 'xoxb-wrong',
          SLACK_SIGNING_SECRET: 'secret',
          SLACK_API_URL: slack.url,
          BILLING_HOOK_SECRET: 'test-secret',
          AUDIT_SIGNING_KEY: TEST_SIGNING_KEY_PEM,
          PORT: '0',
          DATABASE_PATH: join(dir, 'a.db'),
          LOG_LEVEL: 'error',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
      const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
      expect(code).toBe(1);
      expect(stderr).toContain('Could not connect to Slack');
      expect(stderr).toContain('invalid_auth');
      expect(stderr).not.toContain('    at ');
    } finally {
      await slack.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('failures toward Slack', () => {
  it('retries a 429 through the job runner with backoff, and posts the message once', async () => {
    fx = await startSlackFixture();
    fx.slack.failNext('chat.postMessage', { status: 429, retryAfter: 30 }, 1);
    await fx.requestViaModal('ada', 'aws', 'admin', { justification: 'INC-9' });
    await fx.settle();
    // The 429 pauses chat.postMessage: the other message waits for the same window without a call.
    const waiting = (await fx.h.store.listJobs({})).filter((j) => j.lastError?.includes('rate limit'));
    expect(waiting).toHaveLength(2);
    for (const job of waiting) {
      expect(job).toMatchObject({ status: 'pending', attempts: 0 }); // no attempt spent
      expect(Date.parse(job.runAt) - fx.h.clock.now().getTime()).toBeGreaterThanOrEqual(29_000); // Retry-After wins
    }
    expect(fx.slack.workspace.calls('chat.postMessage')).toHaveLength(1);
    fx.h.clock.advance(60);
    await fx.settle();
    expect(await fx.h.store.listJobs({ status: ['pending', 'dead'] })).toHaveLength(0);
    expect(fx.dms('marcus').filter((m) => hasAction(m, ACTION.approve))).toHaveLength(1);
    expect(fx.dms('ada')).toHaveLength(1);
  });

  it('does not retry what no retry can fix: a deactivated Slack account (user_disabled) is given up', async () => {
    fx = await startSlackFixture();
    fx.slack.workspace.user(USERS.marcus.id)!.deleted = true;
    await fx.requestViaModal('ada', 'aws', 'admin', { justification: 'INC-9' });
    await fx.settle();
    const ask = (await fx.h.store.listJobs({})).find((j) => j.key.startsWith('notify:approval:'))!;
    expect(ask).toMatchObject({ status: 'dead', attempts: 1 });
    expect(ask.lastError).toContain('user_disabled');
    expect(fx.slack.workspace.calls('conversations.open').filter((c) => c.args.users === USERS.marcus.id)).toHaveLength(
      1,
    );
  });

  it('gives up on a definite error (channel_not_found) and logs it in the audit trail', async () => {
    fx = await startSlackFixture();
    fx.slack.failNext('chat.postMessage', { error: 'channel_not_found' }, 2);
    await fx.requestViaModal('ada', 'aws', 'admin', { justification: 'INC-9' });
    await fx.settle();
    const dead = await fx.h.store.listJobs({ status: ['dead'] });
    expect(dead).toHaveLength(2);
    expect((await fx.h.store.auditEvents()).filter((e) => e.action === 'job.abandoned')).toHaveLength(2);
    // The state change is not lost: the request is pending and Marcus can still be asked later.
    expect((await fx.h.store.listRequests({ requesterId: USERS.ada.directoryId }))[0]!.status).toBe('pending_approval');
  });
});
