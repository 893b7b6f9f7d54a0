/**
 * A burst under Slack's real limits: a group step of 300 approvers asks each by DM. Every DM needs
 * users.lookupByEmail and conversations.open (Tier 3: 50 a minute) and chat.postMessage. Slack and
 * the bot share the test's clock, so the minutes of waiting pass without sleeping.
 */
import { WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION } from '../../blocks/ids.js';
import { YamlDirectory } from '../../src/adapters/directory/yaml-directory.js';
import { DisplayLookups } from '../../src/adapters/slack/display-lookups.js';
import { SlackCallGate } from '../../src/adapters/slack/slack-call-gate.js';
import { SlackNotifier } from '../../src/adapters/slack/slack-notifier.js';
import type { Role } from '../../src/domain/policy.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { SlackApiStandIn } from '../../src/sandbox/slack-api/slack-api-server.js';
import { silentLogger } from '../slack-stand-in/stand-in-fixture.js';
import { FakeClock } from '../support/fakes.js';
import { COMPANY, createHarness, EXAMPLE_ROLES, type Harness } from '../support/lifecycle-harness.js';

const APPROVERS = 300;
const TOKEN = 'xoxb-burst';

let h: Harness;
let slack: SlackApiStandIn;

beforeEach(async () => {
  const reviewers = Array.from({ length: APPROVERS }, (_, i) => ({
    id: `u-r${i}`,
    email: `r${i}@example.com`,
    name: `Reviewer ${i}`,
    title: 'Reviewer',
  }));
  type Company = { people: unknown[]; groups: Record<string, { members: string[] }> };
  const company = structuredClone(COMPANY) as unknown as Company;
  company.people.push(...reviewers);
  company.groups['big-review'] = { members: reviewers.map((r) => r.email) };
  const wide: Role = {
    ...EXAMPLE_ROLES.awsAdmin,
    id: 'wide',
    name: 'Wide',
    policy: 'aws-wide',
    approval: [{ kind: 'group', group: 'big-review', minApprovals: 1 }],
  };
  // The notifier needs the harness's parts and clock; the stand-in needs that clock first.
  const clock = new FakeClock();
  slack = new SlackApiStandIn({ botTokens: [TOKEN], clock: () => clock.now().getTime() });
  slack.addUser({ id: 'U0ADA', email: 'ada@example.com', name: 'ada', realName: 'Ada Lovelace', tz: 'UTC' });
  for (const r of reviewers) {
    slack.addUser({ id: `U0${r.id.slice(2).toUpperCase()}`, email: r.email, name: r.id, realName: r.name, tz: 'UTC' });
  }
  await slack.start();
  const client = new WebClient(TOKEN, {
    slackApiUrl: slack.url,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    logger: silentLogger,
  });
  const gate = new SlackCallGate({ clock, sleep: async (ms) => clock.advance(ms / 1000) });
  h = createHarness({
    directory: YamlDirectory.fromData(company, 'burst'),
    policies: [{ app: 'aws', name: 'AWS', roles: [wide], source: { file: 'aws.yml' } }],
    clock,
    notifier: (parts) => new SlackNotifier(parts, client, new DisplayLookups(parts, gate), gate),
  });
});

afterEach(async () => {
  await slack.stop();
  await h.close();
});

describe("300 approval DMs under Slack's Tier 3 limits", () => {
  it('delivers every one, gives none up, and never calls a method before its Retry-After', async () => {
    await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'aws',
      role: 'wide',
      durationSeconds: 3600,
      justification: 'INC-300',
    });
    const started = h.clock.now().getTime();
    let runs = 0;
    for (; runs < 50; runs++) {
      await h.runJobs();
      const pending = await h.store.listJobs({ status: ['pending'] });
      if (pending.length === 0) break;
      // Straight to the next job's time: the waiting is Slack's, not the test's.
      const next = Math.min(...pending.map((j) => Date.parse(j.runAt)));
      h.clock.set(new Date(Math.max(next, h.clock.now().getTime())).toISOString());
    }

    const delivered = slack.workspace
      .allMessages()
      .filter((m) => m.channel.startsWith('D0R') && JSON.stringify(m.blocks).includes(ACTION.approve));
    const givenUp = await h.store.listJobs({ status: ['dead'] });
    const calls = slack.workspace.calls();
    const limited = calls.flatMap((c, i) => (c.status === 429 ? [{ ...c, i }] : []));
    // A call is early when the same method was answered 429 before it and its Retry-After had not passed.
    const early = calls.filter((c, i) =>
      limited.some((l) => l.method === c.method && l.i < i && c.at < l.at + (l.retryAfterSeconds ?? 0) * 1000),
    );
    const minutes = (h.clock.now().getTime() - started) / 60_000;
    console.info(
      `300-DM burst: delivered ${delivered.length}, given up ${givenUp.length}, 429 answers ${limited.length}, ` +
        `calls before Retry-After ${early.length}, ${calls.length} calls over ${minutes.toFixed(1)} min of Slack time, ` +
        `${runs + 1} job runs`,
    );

    expect(delivered).toHaveLength(APPROVERS);
    expect(new Set(delivered.map((m) => m.channel)).size).toBe(APPROVERS);
    expect(givenUp).toEqual([]);
    expect((await h.store.auditEvents()).filter((e) => e.action === 'job.abandoned')).toEqual([]);
    expect(early).toEqual([]);
    // Each method's 429s were few: one per window, not one per waiting job.
    expect(limited.length).toBeLessThanOrEqual(2 * Math.ceil(minutes + 1));
    // Each DM was opened once.
    expect(slack.workspace.calls('conversations.open').filter((c) => c.status === 200)).toHaveLength(APPROVERS + 1);
  });
});
