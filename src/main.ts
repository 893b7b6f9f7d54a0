/**
 * The composition root: configuration -> database -> directory -> policies -> operations, then the
 * schedules (sweep, reconcile, digest). `npm start` runs this file.
 */
import { dirname, resolve } from 'node:path';
import { resolveSinkPaths } from './adapters/audit-stream/create-sinks.js';
import { createBotScheduler } from './adapters/cron/bot-schedules.js';
import { timezoneFor } from './adapters/cron/scheduler.js';
import { DirectoryFileError } from './adapters/directory/yaml-directory.js';
import { jsonLogger } from './adapters/log/json-logger.js';
import { LogNotifier } from './adapters/notify/log-notifier.js';
import { formatProblem, PolicyLoadError } from './adapters/policies/policy-problem.js';
import { createSlackBot, SlackStartupError, slackNotifier, type SlackBot } from './adapters/slack/create-slack-app.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { describeDuration } from './domain/duration.js';
import type { AuditCheckpointSettings, AuditSinkSettings } from './domain/audit-sinks.js';
import { recordPolicyVersions } from './operations/record-policy-versions.js';
import { withOwnStore } from './operations/operation-scope.js';
import {
  checkpointSettings,
  checkpointSigner,
  createAuditStream,
  createRuntime,
  recheckDirectoryUntilReachable,
  type Runtime,
  type SignerSource,
} from './runtime.js';
import type { SandboxServer } from './sandbox/sandbox-http.js';
import { connectSlackFor, type SlackSide } from './start-slack.js';

async function main(): Promise<number> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`Configuration error:\n${error.problems.map((p) => `  ${p}`).join('\n')}\n`);
      return 2;
    }
    throw error;
  }
  const logger = jsonLogger({ level: config.logLevel });
  const refusal = productionStartRefusal(config);
  if (refusal) {
    process.stderr.write(refusal);
    return 2;
  }

  // The sandbox (its page, the embedded Slack API) is loaded only when it runs: a production start
  // does not carry it. In the sandbox the page's time control moves the bot's clock forward.
  const sandboxModule = config.mode === 'sandbox' ? await import('./sandbox/start-sandbox.js') : undefined;
  const sandboxClock = sandboxModule ? new sandboxModule.OffsetClock() : undefined;
  // Nothing leaves the machine: webhook roles call the embedded receiver, never their policy URL.
  const webhooks = sandboxClock
    ? await (await import('./sandbox/sandbox-webhooks.js')).SandboxWebhooks.start({ now: () => sandboxClock.now() })
    : undefined;
  // Slack: the real workspace (mode 'slack'), or the embedded stand-in and the local page (mode
  // 'sandbox'), connected while the runtime is built so its notifier is the Slack one from the start.
  let slack: SlackSide | undefined;
  let runtime: Runtime;
  try {
    runtime = await createRuntime(config, {
      logger,
      ...(sandboxClock && webhooks ? { clock: sandboxClock, sandbox: true, webhook: webhooks } : {}),
      notifier: async (parts) => {
        slack = await connectSlackFor(config, parts, logger);
        return slack ? slackNotifier(slack.connection, parts, slack.display) : new LogNotifier(logger);
      },
    });
  } catch (error) {
    await slack?.workspace?.stop();
    await webhooks?.close();
    if (error instanceof PolicyLoadError) {
      process.stderr.write(
        `The policies in ${config.policiesDir} are invalid:\n${error.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`,
      );
      return 1;
    }
    if (error instanceof DirectoryFileError || error instanceof SlackStartupError) {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const { deps } = runtime;
  // A start-up task of its own: its own handle on the store (operation-scope.ts).
  const versions = await recordPolicyVersions(withOwnStore(deps));

  // The audit stream: every event to the sinks settings.yml names, and signed checkpoints. In the
  // sandbox, network sinks go to an embedded receiver and a throwaway key signs.
  const auditReceiver = sandboxClock
    ? await (
        await import('./sandbox/sandbox-audit-receiver.js')
      ).SandboxAuditReceiver.start({ now: () => sandboxClock.now() })
    : undefined;
  const signer = checkpointSigner(config, { createSandboxKey: true });
  const baseDir = dirname(resolve(config.databasePath));
  const stream = createAuditStream(runtime, signer, {
    env: config.env,
    baseDir,
    ...(auditReceiver ? { redirect: auditReceiver } : {}),
  });

  // The sweep, reconcile and digest schedules; a lease in the database keeps two processes on
  // one file from running the same schedule at once.
  const scheduler = createBotScheduler(deps, {
    statusCheck: runtime.offboarding.statusCheck,
    offboardingSources: runtime.offboarding.sources,
  });
  const stopRecheck = recheckDirectoryUntilReachable(runtime);

  let bot: SlackBot | undefined;
  let page: SandboxServer | undefined;
  try {
    if (slack) {
      const worker = `${slack.workspace ? 'sandbox' : 'slack'}-${process.pid}`;
      bot = await createSlackBot(slack.connection, { deps, display: slack.display, jobs: { worker } });
      const port = await bot.start();
      if (slack.workspace && sandboxModule && sandboxClock && webhooks) {
        page = await sandboxModule.startSandboxPage(slack.workspace, {
          botEventsUrl: `http://127.0.0.1:${port}/slack/events`,
          port: config.port,
          timezone: deps.settings.timezone,
          clock: sandboxClock,
          logger,
          // A checkpoint that came due is signed at once, and the sweep posts it with the rest.
          afterAdvance: async () => {
            await stream?.checkpointIfDue();
            await scheduler.runNow('sweep');
          },
          webhookCalls: webhooks,
          ...(slack.health ? { health: slack.health } : {}),
        });
      } else if (bot.mode === 'socket') {
        logger.info('connected to Slack over Socket Mode', { healthz: `http://0.0.0.0:${port}/healthz` });
      } else {
        logger.info('listening for Slack', { port, path: '/slack/events', healthz: '/healthz' });
      }
    }
  } catch (error) {
    const inUse = (error as { code?: unknown }).code === 'EADDRINUSE';
    process.stderr.write(
      inUse
        ? `Port ${config.port} is in use (another access-bot?). Set PORT to a free one: PORT=${config.port + 1} npm start\n`
        : `${error instanceof Error ? error.message : String(error)}\n`,
    );
    await bot?.stop();
    await slack?.workspace?.stop();
    await webhooks?.close();
    await auditReceiver?.close();
    await runtime.close();
    return 1;
  }
  printSummary(
    runtime,
    versions,
    auditStreamSummary(
      resolveSinkPaths(deps.settings.auditSinks, baseDir),
      checkpointSettings(deps.settings),
      signer,
      Boolean(auditReceiver),
    ),
    page
      ? // The address to open, on its own line, last: what a newcomer looks for.
        `Sandbox ready: Slack and the directory are stand-ins on this machine, and nothing leaves it. Pick who you are, then type /access request.\n\nSandbox: open ${page.url}\n`
      : !bot
        ? 'Slack is not connected: messages are written to the log.'
        : bot.mode === 'socket'
          ? `Slack: workspace ${bot.teamId} over Socket Mode; /healthz on port ${config.port}.`
          : `Slack: workspace ${bot.teamId}, serving /slack/events and /healthz on port ${config.port}.`,
  );

  let stopping = false;
  const stopped = new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      logger.info('stopping', { signal });
      stopRecheck();
      // Waits for the running passes (the job in flight finishes), then lets the leases go.
      void Promise.all([scheduler.stop(), stream?.stop()])
        .then(async () => {
          await page?.close();
          await bot?.stop();
          await slack?.workspace?.stop();
          await webhooks?.close();
          await auditReceiver?.close();
        })
        .catch((error: unknown) =>
          logger.error('stopping failed', { error: error instanceof Error ? error.message : String(error) }),
        )
        .finally(() => {
          void runtime.close().finally(resolve);
        });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  // Jobs left by a previous process (a crash between intent and effect) resume now.
  await scheduler.runNow('sweep');
  if (!stopping) {
    scheduler.start();
    stream?.start();
  }
  await stopped;
  return 0;
}

/**
 * Any SLACK_*, OKTA_* or DATABASE_URL variable makes this a production start (security review M2):
 * it runs only with what production needs, and never falls back to the sandbox, where anyone can
 * pick who they are. Null when the start may go ahead.
 */
function productionStartRefusal(config: Config): string | null {
  if (config.mode === 'sandbox') return null;
  const set = config.productionVariables;
  const because = `${set.join(', ')} ${set.length === 1 ? 'is' : 'are'} set, so this is a production start`;
  const missing: string[] = [];
  if (config.mode === 'incomplete_production') missing.push('SLACK_BOT_TOKEN is not set (the bot token, xoxb-...)');
  if (missing.length === 0) return null;
  return (
    `Refusing to start: ${because}, but ${missing.join('; and ')}.\n` +
    'A production deployment that lost part of its configuration must never turn into the local sandbox. ' +
    `Set what is missing, or unset ${set.join(', ')} to try the bot locally in the sandbox.\n`
  );
}

/** What the audit stream does, for the start-up summary: the sinks, and how checkpoints are signed. */
function auditStreamSummary(
  sinks: AuditSinkSettings[],
  every: AuditCheckpointSettings,
  signer: SignerSource | undefined,
  sandboxed: boolean,
): string[] {
  const lines: string[] = [];
  if (sinks.length) {
    const listed = sinks.map((s) => `${s.name} (${s.type}${s.type === 'file' ? ` ${s.path}` : ''}, ${s.format})`);
    const where =
      sandboxed && sinks.some((s) => s.type !== 'file')
        ? '; network sinks go to an embedded receiver in the sandbox'
        : '';
    lines.push(`  audit stream: ${listed.join(', ')}${where}`);
  }
  if (!signer) {
    lines.push('  audit checkpoints: off (AUDIT_SIGNING_KEY is not set)');
    return lines;
  }
  const key =
    signer.origin === 'env'
      ? `key ${signer.signer.keyId} from AUDIT_SIGNING_KEY`
      : `a THROWAWAY sandbox key ${signer.signer.keyId} ${signer.created ? 'made now in' : 'from'} ${signer.path}; ` +
        'it proves nothing outside this sandbox: set AUDIT_SIGNING_KEY for a real one';
  lines.push(
    `  audit checkpoints: every ${describeDuration(every.everySeconds)} to ${every.channel}, signed with ${key}`,
  );
  return lines;
}

function printSummary(
  runtime: Runtime,
  versions: Awaited<ReturnType<typeof recordPolicyVersions>>,
  audit: string[],
  messages: string,
): void {
  const { loaded, deps } = runtime;
  const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? '' : 's'}`;
  const lines = [
    `access-bot: ${count(loaded.policies.length, 'application')}, ${count(loaded.catalog.entries().length, 'role')} from ${loaded.dir}; directory: ${deps.directory.kind}`,
  ];
  for (const entry of loaded.catalog.entries()) {
    const chain =
      entry.role.approval === 'auto'
        ? 'auto-approved'
        : entry.role.approval
            .map((s) =>
              s.kind === 'manager' ? 'manager' : s.kind === 'user' ? s.user : `${s.group} x${s.minApprovals}`,
            )
            .join(' -> ');
    lines.push(
      `  ${entry.app.app}/${entry.role.id}${entry.role.sensitive ? ' (sensitive)' : ''}: ${entry.role.policy}@${entry.version.slice(0, 12)}, up to ${describeDuration(entry.role.duration.maxSeconds)}, ${chain}, ${entry.role.provision.method}`,
    );
  }
  if (versions.added.length || versions.changed.length)
    lines.push(`  policy versions recorded: ${versions.added.length} new, ${versions.changed.length} changed`);
  const reviews = versions.reviews;
  if (reviews.added.length || reviews.changed.length || reviews.retired.length) {
    lines.push(
      `  review definition versions recorded: ${reviews.added.length} new, ${reviews.changed.length} changed, ${reviews.retired.length} retired`,
    );
  }
  if (runtime.directoryUnreachable)
    lines.push(`  directory unreachable at start (${runtime.directoryUnreachable}); checks are repeated later`);
  // Each schedule with the zone it really runs in (an every-minute sweep runs on UTC minutes).
  const schedule = (name: string, expression: string) =>
    `${name} '${expression}' (${timezoneFor(expression, deps.settings.timezone)})`;
  lines.push(`  database: ${deps.store.kind} ${deps.store.location}`);
  lines.push(...audit);
  lines.push(
    `  schedules: ${schedule('sweep', deps.settings.sweepSchedule)}, ${schedule('reconcile', deps.settings.reconcileSchedule)}, ${schedule('digest', deps.settings.digestSchedule)}`,
  );
  lines.push(messages);
  process.stdout.write(lines.join('\n') + '\n');
}

process.exitCode = await main();
