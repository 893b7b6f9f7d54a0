/**
 * One replica of the bot, in a process of its own, composed as `npm start` composes it
 * (src/main.ts): the configuration from the environment (DATABASE_URL: PostgreSQL; SLACK_*: the
 * Slack stand-in over HTTP; OKTA_*: the Okta stand-in through the real SDK), the runtime, the Bolt
 * app on its HTTP receiver, the schedules. The only differences are the test's knobs: short job
 * locks and schedule leases (`REPLICA_LOCK_SECONDS`), so a replica killed mid-effect is taken over
 * in seconds, and a name (`REPLICA_NAME`) for its job locks. Tells its parent its port over IPC.
 */
import { createBotScheduler } from '../../src/adapters/cron/bot-schedules.js';
import { jsonLogger } from '../../src/adapters/log/json-logger.js';
import { createSlackBot, slackNotifier } from '../../src/adapters/slack/create-slack-app.js';
import { loadConfig } from '../../src/config.js';
import { recordPolicyVersions } from '../../src/operations/record-policy-versions.js';
import { createRuntime } from '../../src/runtime.js';
import { connectSlackFor, type SlackSide } from '../../src/start-slack.js';

const name = process.env.REPLICA_NAME ?? `replica-${process.pid}`;
const lockSeconds = Number(process.env.REPLICA_LOCK_SECONDS ?? 300);
const config = loadConfig(process.env);
const logger = jsonLogger({ level: config.logLevel });
let slack: SlackSide | undefined;
const runtime = await createRuntime(config, {
  logger,
  notifier: async (parts) => {
    slack = await connectSlackFor(config, parts, logger);
    if (!slack) throw new Error('the replica needs SLACK_BOT_TOKEN');
    return slackNotifier(slack.connection, parts, slack.display);
  },
});
await recordPolicyVersions(runtime.deps);
const jobs = { worker: name, lockSeconds, baseDelaySeconds: 1 };
const bot = await createSlackBot(slack!.connection, { deps: runtime.deps, display: slack!.display, jobs });
const port = await bot.start();
const scheduler = createBotScheduler(runtime.deps, { jobs }, { holder: name, leaseSeconds: Math.max(2, lockSeconds) });
// The test reads which replica ran or skipped each schedule slot (the race is the point).
scheduler.onPass((outcome) => {
  const reason = outcome.status === 'skipped' ? outcome.reason : undefined;
  process.send?.({ pass: { name: outcome.name, status: outcome.status, reason, slot: outcome.slot?.toISOString() } });
});
scheduler.start();
process.send?.({ ready: true, port, pid: process.pid });
// A bench asks how much CPU the replica has used (process.cpuUsage, microseconds).
process.on('message', (m: { cpuUsage?: boolean }) => {
  if (m?.cpuUsage) process.send?.({ cpuUsage: process.cpuUsage() });
});

process.once('SIGTERM', () => {
  void scheduler
    .stop()
    .then(() => bot.stop())
    .then(() => runtime.close())
    .finally(() => process.exit(0));
});
