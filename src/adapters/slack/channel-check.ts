/**
 * At start-up, every channel the bot is configured to post to (`security_channel`,
 * `alerts_channel`, each `notify:` step) is looked up with conversations.info, and whatever the bot
 * could not post to is logged loudly, naming the fix. A private channel the bot was not invited to
 * is invisible to it (`channel_not_found`); a public one it is not in answers `is_member: false`.
 * Needs `channels:read` and `groups:read`; without them the check says so and the bot starts.
 */
import type { WebClient } from '@slack/web-api';
import type { Catalog } from '../../domain/catalog.js';
import type { Settings } from '../../domain/policy.js';
import type { Logger } from '../../operations/ports.js';
import { platformError } from './slack-errors.js';

export interface ChannelProblem {
  channel: string;
  /** Which settings or policies name it. */
  usedFor: string[];
  problem: 'not_found' | 'not_a_member' | 'archived';
}

/** The configured channels and what each is used for. */
function configuredChannels(settings: Settings, catalog: Catalog): Map<string, string[]> {
  const uses = new Map<string, string[]>();
  const add = (channel: string, use: string) => uses.set(channel, [...(uses.get(channel) ?? []), use]);
  add(settings.securityChannel, 'security_channel');
  add(settings.alertsChannel, 'alerts_channel');
  for (const entry of catalog.entries()) {
    if (entry.role.approval === 'auto') continue;
    for (const step of entry.role.approval) {
      if (step.kind === 'group' && step.notify) add(step.notify, `notify: of ${entry.role.policy}`);
    }
  }
  return uses;
}

export async function checkConfiguredChannels(
  client: WebClient,
  settings: Settings,
  catalog: Catalog,
  logger: Logger,
): Promise<ChannelProblem[]> {
  const problems: ChannelProblem[] = [];
  for (const [channel, usedFor] of configuredChannels(settings, catalog)) {
    let problem: ChannelProblem['problem'] | undefined;
    try {
      const info = await client.conversations.info({ channel });
      const c = info.channel as { is_member?: boolean; is_archived?: boolean; is_im?: boolean } | undefined;
      if (c?.is_archived) problem = 'archived';
      else if (c && !c.is_im && c.is_member === false) problem = 'not_a_member';
    } catch (error) {
      const code = platformError(error);
      if (code === 'channel_not_found') problem = 'not_found';
      else {
        logger.warn('could not check the configured channels at start', {
          error: code ?? (error instanceof Error ? error.message : String(error)),
          ...(code === 'missing_scope'
            ? { fix: 'add the channels:read and groups:read scopes (manifest.yml) and reinstall the app' }
            : {}),
        });
        return problems;
      }
    }
    if (!problem) continue;
    problems.push({ channel, usedFor, problem });
    const isAlerts = usedFor.includes('alerts_channel');
    const what =
      problem === 'not_found'
        ? 'Slack answers channel_not_found: a private channel the bot was not invited to, or a wrong id'
        : problem === 'archived'
          ? 'the channel is archived'
          : 'the bot is not a member';
    logger.error(`${isAlerts ? 'THE ALERTS CHANNEL IS UNREACHABLE' : 'a configured channel is unreachable'}: ${what}`, {
      channel,
      usedFor,
      fix: `invite the bot (/invite @access in ${channel}), or correct the id in settings.yml or the policy`,
    });
  }
  return problems;
}
