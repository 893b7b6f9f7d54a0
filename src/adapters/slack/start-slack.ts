/**
 * Slack wiring for the composition root: in mode 'slack' the bot connects with the bot token,
 * replaces the log notifier with the Slack notifier and serves `/slack/events` on PORT.
 */
import type { Config } from '../../config.js';
import type { Logger } from '../../operations/ports.js';
import type { Runtime } from '../../runtime.js';
import { createHealthCheck } from '../../health.js';
import { createSlackBot, SlackStartupError, type SlackBot } from './create-slack-app.js';

export async function startSlack(runtime: Runtime, config: Config, logger: Logger, worker: string): Promise<{ bot: SlackBot; port: number }> {
  const { botToken, signingSecret, appToken, apiUrl } = config.slack;
  if (!botToken) throw new SlackStartupError('SLACK_BOT_TOKEN is not set.');
  if (!appToken && !signingSecret) throw new SlackStartupError('SLACK_SIGNING_SECRET is required to verify requests from Slack (or set SLACK_APP_TOKEN for Socket Mode).');
  let teamId = '';
  const health = createHealthCheck(runtime, { slack: { mode: appToken ? 'socket' : 'http', get teamId() { return teamId; } } });
  const bot = await createSlackBot({
    deps: runtime.deps,
    db: runtime.store.db,
    token: botToken,
    signingSecret,
    appToken,
    port: config.port,
    health,
    apiUrl,
    logger,
    jobs: { worker },
  });
  teamId = bot.teamId;
  const port = await bot.start();
  if (appToken) logger.info('connected to Slack over Socket Mode', { healthz: `http://0.0.0.0:${port}/healthz` });
  else logger.info('listening for Slack', { port, path: '/slack/events', healthz: '/healthz' });
  return { bot, port };
}
