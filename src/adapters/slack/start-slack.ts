/**
 * Slack wiring for the composition root: in mode 'slack' the bot connects with the bot token,
 * replaces the log notifier with the Slack notifier and serves `/slack/events` on PORT.
 */
import type { Config } from '../../config.js';
import type { Logger } from '../../operations/ports.js';
import type { Runtime } from '../../runtime.js';
import { createSlackBot, SlackStartupError, type SlackBot } from './create-slack-app.js';

export async function startSlack(runtime: Runtime, config: Config, logger: Logger, worker: string): Promise<{ bot: SlackBot; port: number }> {
  const { botToken, signingSecret, appToken, apiUrl } = config.slack;
  if (!botToken) throw new SlackStartupError('SLACK_BOT_TOKEN is not set.');
  if (appToken) throw new SlackStartupError('SLACK_APP_TOKEN is set, but this build serves Slack over HTTP only; unset it and set SLACK_SIGNING_SECRET.');
  if (!signingSecret) throw new SlackStartupError('SLACK_SIGNING_SECRET is required to verify requests from Slack.');
  const bot = await createSlackBot({
    deps: runtime.deps,
    db: runtime.store.db,
    token: botToken,
    signingSecret,
    apiUrl,
    logger,
    jobs: { worker },
  });
  const port = await bot.start(config.port);
  logger.info('listening for Slack', { port, path: '/slack/events' });
  return { bot, port };
}
