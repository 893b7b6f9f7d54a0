/**
 * The composition root: configuration -> database -> directory -> policies -> operations, then the
 * sweep loop. `npm start` runs this file.
 */
import { jsonLogger } from './adapters/log/json-logger.js';
import { formatProblem, PolicyLoadError } from './adapters/policies/load-policies.js';
import { ConfigError, loadConfig } from './config.js';
import { describeDuration } from './domain/duration.js';
import { recordPolicyVersions } from './operations/record-policy-versions.js';
import { sweep } from './operations/sweep.js';
import { createRuntime, type Runtime } from './runtime.js';

const SWEEP_INTERVAL_MS = 60_000;

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
  if (config.mode === 'misconfigured_okta_without_slack') {
    process.stderr.write('Refusing to start: Okta is configured (OKTA_ORG_URL) but SLACK_BOT_TOKEN is not set.\n' + 'A production deployment without its Slack token must not fall back to the local sandbox. Set SLACK_BOT_TOKEN, or unset the OKTA_* variables to try the bot locally.\n');
    return 2;
  }

  let runtime: Runtime;
  try {
    runtime = await createRuntime(config, { logger });
  } catch (error) {
    if (error instanceof PolicyLoadError) {
      process.stderr.write(`The policies in ${config.policiesDir} are invalid:\n${error.problems.map((p) => `  ${formatProblem(p)}`).join('\n')}\n`);
      return 1;
    }
    if (error instanceof Error && error.name === 'DirectoryFileError') {
      process.stderr.write(`${error.message}\n`);
      return 1;
    }
    throw error;
  }
  const { deps } = runtime;
  const versions = recordPolicyVersions(deps);
  printSummary(runtime, versions);

  const worker = `main-${process.pid}`;
  let running: Promise<unknown> = Promise.resolve();
  const pass = () => {
    running = sweep(deps, { worker })
      .then((s) => {
        if (s.expiredGrants || s.expiredRequests || s.reminders || s.jobs.ran) logger.info('sweep', { ...s });
      })
      .catch((error: unknown) => logger.error('sweep failed', { error }));
    return running;
  };
  // Jobs left by a previous process (a crash between intent and effect) resume now.
  await pass();
  const timer = setInterval(() => void running.then(pass), SWEEP_INTERVAL_MS);

  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info('stopping', { signal });
      clearInterval(timer);
      void running.finally(() => {
        runtime.close();
        resolve();
      });
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

function printSummary(runtime: Runtime, versions: ReturnType<typeof recordPolicyVersions>): void {
  const { loaded, deps } = runtime;
  const lines = [`access-bot: ${loaded.policies.length} application(s), ${loaded.catalog.entries().length} role(s) from ${loaded.dir}; directory: ${deps.directory.kind}`];
  for (const entry of loaded.catalog.entries()) {
    const chain = entry.role.approval === 'auto' ? 'auto-approved' : entry.role.approval.map((s) => (s.kind === 'manager' ? 'manager' : s.kind === 'user' ? s.user : `${s.group} x${s.minApprovals}`)).join(' -> ');
    lines.push(
      `  ${entry.app.app}/${entry.role.id}${entry.role.sensitive ? ' (sensitive)' : ''}: ${entry.role.policy}@${entry.version.slice(0, 12)}, up to ${describeDuration(entry.role.duration.maxSeconds)}, ${chain}, ${entry.role.provision.method}`,
    );
  }
  if (versions.added.length || versions.changed.length) lines.push(`  policy versions recorded: ${versions.added.length} new, ${versions.changed.length} changed`);
  if (runtime.directoryUnreachable) lines.push(`  directory unreachable at start (${runtime.directoryUnreachable}); checks are repeated later`);
  lines.push(`  database: ${runtime.store.sqlite.name}; sweeping every minute. Slack is not connected yet: messages are written to the log.`);
  process.stdout.write(lines.join('\n') + '\n');
}

process.exitCode = await main();
