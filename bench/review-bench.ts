/**
 * Starting an access review over 5,000 items and delivering the reviewers' DMs (issue 17), measured
 * from outside: the real OktaDirectory (SDK, call gate, rate-limit pacing) against the Okta stand-in
 * with Okta's default rate limits, a real SQLite file, the Slack notifier against the Slack stand-in
 * (Slack's rate limits on). 5,000 standing members of one group, each managed by one of 200
 * managers: `reviewer: manager` gives 200 reviewers of 25 items each.
 *
 *   node --import tsx bench/review-bench.ts            # the figures
 *   node --import tsx bench/review-bench.ts --json
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvExportFiles } from '../src/adapters/csv/export-csv.js';
import { SqliteStore } from '../src/adapters/db/sqlite-store.js';
import { silentLogger } from '../src/adapters/log/json-logger.js';
import { OktaDirectory } from '../src/adapters/okta/okta-directory.js';
import { createProvisioners } from '../src/adapters/provisioners/provisioners.js';
import { connectSlack, slackNotifier } from '../src/adapters/slack/create-slack-app.js';
import { DisplayLookups } from '../src/adapters/slack/display-lookups.js';
import { Catalog } from '../src/domain/catalog.js';
import { ReviewCatalog, type LoadedReview } from '../src/domain/reviews/review-definition.js';
import type { Deps } from '../src/operations/context.js';
import { startReview } from '../src/operations/reviews/start-review.js';
import { runDueJobs } from '../src/operations/run-jobs.js';
import { SlackApiStandIn } from '../src/sandbox/slack-api/slack-api-server.js';
import { OktaStandIn } from '../test/okta/okta-stand-in.js';
import { FakeClock, FakeWebhook } from '../test/support/fakes.js';
import { examplePolicies, SETTINGS } from '../test/support/lifecycle-harness.js';

const HOLDERS = 5000;
const MANAGERS = 200;
const TOKEN = 'xoxb-review-bench';

const REVIEW: LoadedReview = {
  id: 'contractors',
  name: 'Contractors',
  schedule: null,
  scope: { roles: [], groups: ['contractors'] },
  reviewer: { kind: 'manager' },
  fallbackReviewer: { kind: 'group', group: 'access-admins' },
  dueSeconds: 14 * 86_400,
  remindersSeconds: [],
  undecided: 'keep',
  remediate: 'report',
  source: { file: 'bench' },
};

const pad = (n: number, width: number) => String(n).padStart(width, '0');

async function main(): Promise<void> {
  const okta = new OktaStandIn();
  okta.addGroup({ id: '00gcontractors', name: 'contractors' }).addGroup({ id: '00gadmins', name: 'access-admins' });
  okta
    .addUser({ id: '00uadmin', email: 'admin@example.com', firstName: 'Ada', lastName: 'Admin' })
    .addMember('00gadmins', '00uadmin');
  for (let m = 0; m < MANAGERS; m++) {
    okta.addUser({
      id: `00um${pad(m, 3)}`,
      email: `manager${pad(m, 3)}@example.com`,
      firstName: 'Manager',
      lastName: pad(m, 3),
    });
  }
  for (let i = 0; i < HOLDERS; i++) {
    const id = `00uh${pad(i, 4)}`;
    okta.addUser({
      id,
      email: `holder${pad(i, 4)}@example.com`,
      firstName: 'Holder',
      lastName: pad(i, 4),
      profile: { managerId: `00um${pad(i % MANAGERS, 3)}` },
    });
    okta.addMember('00gcontractors', id);
  }
  const { url: orgUrl } = await okta.start();
  // Slack's rate limits count in the bench's clock: the bot waits them out by moving it, and the
  // delivery's Slack time is how far it moved.
  const clock = new FakeClock();
  const slack = new SlackApiStandIn({ botTokens: [TOKEN], clock: () => clock.now().getTime() });
  for (let m = 0; m < MANAGERS; m++) {
    slack.addUser({
      id: `U0M${pad(m, 3)}`,
      email: `manager${pad(m, 3)}@example.com`,
      name: `manager${pad(m, 3)}`,
      realName: `Manager ${pad(m, 3)}`,
      tz: 'UTC',
    });
  }
  for (const [id, name] of [
    ['C0SECURITY', 'security'],
    ['C0ACCESSOPS', 'access-ops'],
  ] as const)
    slack.addChannel({ id, name });
  await slack.start();

  const dir = mkdtempSync(join(tmpdir(), 'review-bench-'));
  const store = SqliteStore.open(join(dir, 'bench.db'));
  const directory = new OktaDirectory({
    orgUrl,
    auth: { mode: 'token', token: okta.token },
    managerAttribute: 'managerId',
  });
  const parts = {
    store,
    directory,
    catalog: new Catalog(examplePolicies()),
    reviews: new ReviewCatalog([REVIEW]),
    settings: SETTINGS,
    clock,
    logger: silentLogger,
    provisioners: createProvisioners({ directory, env: {}, webhook: new FakeWebhook() }),
    exportFiles: csvExportFiles(),
  };
  const connection = await connectSlack({
    token: TOKEN,
    signingSecret: 'bench',
    port: 0,
    apiUrl: slack.url,
    logger: silentLogger,
    timeoutMs: 10_000,
    clock,
    rateLimitSleep: async (ms) => clock.advance(ms / 1000),
  });
  const display = new DisplayLookups(parts, connection.gate);
  const deps: Deps = { ...parts, notifier: slackNotifier(connection, parts, display) };
  await directory.findGroup('contractors');
  okta.clearRequests();

  try {
    const t0 = performance.now();
    const { campaign, reviewers } = await startReview(deps, {
      reviewId: REVIEW.id,
      by: { kind: 'system', component: 'bench' },
      trigger: 'command_line',
    });
    const startMs = performance.now() - t0;
    const oktaCalls = okta.requests.length;
    const byBucket: Record<string, number> = {};
    for (const r of okta.requests) byBucket[r.bucket] = (byBucket[r.bucket] ?? 0) + 1;
    const okta429 = okta.requests.filter((r) => r.status === 429).length;

    const t1 = performance.now();
    const slackT0 = clock.now().getTime();
    const jobs = { worker: 'bench', baseDelaySeconds: 1, random: () => 0.999999 };
    for (let pass = 0; pass < 10_000; pass++) {
      await runDueJobs(deps, jobs);
      if ((await store.countJobs(['pending', 'running'])) === 0) break;
      clock.advance(1); // a job waiting for Slack's Retry-After becomes due
    }
    const deliverMs = performance.now() - t1;
    const slackSeconds = (clock.now().getTime() - slackT0) / 1000;
    const calls = slack.workspace.calls();
    const byMethod: Record<string, number> = {};
    for (const c of calls) byMethod[c.method] = (byMethod[c.method] ?? 0) + 1;
    const lists = slack.workspace.calls('chat.postMessage').filter((c) => c.status === 200).length;
    const result = {
      items: campaign.populationCount,
      reviewers,
      startSeconds: +(startMs / 1000).toFixed(1),
      oktaCalls,
      oktaByBucket: byBucket,
      okta429,
      deliverSeconds: +(deliverMs / 1000).toFixed(1),
      deliverSlackSeconds: slackSeconds,
      slackCalls: calls.length,
      slackByMethod: byMethod,
      listsPosted: lists,
      slack429: calls.filter((c) => c.status === 429).length,
    };
    if (process.argv.includes('--json')) console.log(JSON.stringify(result));
    else {
      console.log(
        `start: ${result.items} items for ${result.reviewers} reviewers in ${result.startSeconds} s; ` +
          `${oktaCalls} Okta calls ${JSON.stringify(byBucket)}, ${okta429} answered 429`,
      );
      console.log(
        `delivery: ${lists} reviewer lists in ${result.deliverSeconds} s of CPU and wall time, ` +
          `${slackSeconds} s of Slack time (its rate limits waited out); ${calls.length} Slack calls ` +
          `${JSON.stringify(byMethod)}, ${result.slack429} answered 429`,
      );
    }
  } finally {
    await slack.stop();
    await okta.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
