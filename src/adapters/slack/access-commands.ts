/**
 * The `/access` subcommands that answer with one ephemeral message: list, pending, explain,
 * whoami, digest. Each identifies the person, calls one operation or read, and renders it with a
 * block builder; a refusal becomes the reply text. Reads only, except `digest`, which posts the
 * digest to the security channel.
 */
import type { KnownBlock, WebClient } from '@slack/web-api';
import type { SlackMessage } from '../../../blocks/approval-message.js';
import { helpMessage, listMessage, pendingMessage, whoamiMessage } from '../../../blocks/command-replies.js';
import { channelLink, escapeMrkdwn } from '../../../blocks/escape.js';
import { explainMessage } from '../../../blocks/explain-message.js';
import { LIMITS, truncateMrkdwn } from '../../../blocks/limits.js';
import { AccessError } from '../../domain/errors.js';
import type { ActingPerson } from '../../operations/acting-person.js';
import { evaluate } from '../../domain/evaluate.js';
import { queueDigest } from '../../operations/queue-digest.js';
import { gatherDirectoryFacts } from '../../operations/directory-facts.js';
import { assertAdmin } from '../../operations/revoke-grant.js';
import { explain, identify, type SlackContext } from './context.js';
import { approvalsAwaiting, myGrants, myRequests } from './overview.js';
import { lookUpSlackUser } from './people.js';
import { unknownAppOrRole } from './request-form.js';

export function textMessage(text: string): SlackMessage {
  return { text: truncateMrkdwn(text, LIMITS.messageText), blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncateMrkdwn(text, LIMITS.sectionText) } } as KnownBlock] };
}

/** Runs a subcommand; a refusal or failure becomes a readable reply instead of an exception. */
export async function answer(ctx: SlackContext, where: string, run: () => Promise<SlackMessage>): Promise<SlackMessage> {
  try {
    return await run();
  } catch (error) {
    return textMessage(escapeMrkdwn(explain(ctx, error, where)));
  }
}

/** One sentence for a person the bot cannot act for, instead of lists of what they cannot use. */
function inactive(me: ActingPerson): SlackMessage | null {
  return me.person.active ? null : textMessage(escapeMrkdwn(`Your directory account (${me.person.email}) is not active, so the bot cannot act for you. If that is a mistake, ask IT to reactivate it.`));
}

export async function listCommand(ctx: SlackContext, client: WebClient, slackUserId: string): Promise<SlackMessage> {
  const me = await identify(ctx, client, slackUserId);
  const refused = inactive(me);
  if (refused) return refused;
  return listMessage({ grants: myGrants(ctx.deps, me.person.id), requests: myRequests(ctx.deps, me.person.id), timezone: ctx.display.knownZone(slackUserId) });
}

export async function pendingCommand(ctx: SlackContext, client: WebClient, slackUserId: string): Promise<SlackMessage> {
  const me = await identify(ctx, client, slackUserId);
  const refused = inactive(me);
  if (refused) return refused;
  return pendingMessage(approvalsAwaiting(ctx.deps, me.person.id, ctx.display.knownZone(slackUserId)), me.person.id);
}

/**
 * The policy trace for the person asking, against the live directory. Records nothing: the person
 * is looked up without binding, and the evaluation is the pure `evaluate()`.
 */
export async function explainCommand(ctx: SlackContext, client: WebClient, slackUserId: string, app: string | undefined, role: string | undefined): Promise<SlackMessage> {
  const { catalog } = ctx.deps;
  if (!app) return helpMessage('Usage: `/access explain <app> <role>`, e.g. `/access explain github owner`.');
  const unknown = unknownAppOrRole(ctx.deps, app, role);
  if (unknown) return textMessage(unknown);
  const policy = catalog.app(app)!;
  const entry = role ? catalog.find(policy.app, role) : undefined;
  if (!entry) {
    return textMessage(`Name a role of ${escapeMrkdwn(policy.name)}: ${policy.roles.map((r) => `\`${escapeMrkdwn(r.id)}\` (${escapeMrkdwn(r.name)})`).join(', ')}.`);
  }
  const { person } = await lookUpSlackUser(ctx, client, slackUserId);
  if (!person) throw new AccessError('identity_unknown', 'Your Slack email is not in the directory, so there is nothing to evaluate.');
  const facts = await gatherDirectoryFacts(ctx.deps.directory, person, entry.role, ctx.deps.settings.adminGroup);
  // The justification is asked for in the form; a placeholder keeps the trace about eligibility and the chain.
  const evaluation = evaluate(entry.app, entry.role, entry.version, facts, { justification: 'explain' }, ctx.deps.clock.now());
  return explainMessage(evaluation, entry.role);
}

export async function whoamiCommand(ctx: SlackContext, client: WebClient, slackUserId: string): Promise<SlackMessage> {
  const me = await identify(ctx, client, slackUserId);
  const binding = ctx.deps.store.bindingForSlackUser(slackUserId);
  if (!binding) throw new AccessError('identity_unknown', 'You are not matched to anyone in the directory yet.');
  return whoamiMessage({
    slackUserId: binding.slackUserId,
    directoryId: binding.directoryId,
    email: binding.email,
    name: me.person.name,
    boundAt: binding.boundAt,
    directoryStatus: me.person.status,
    timezone: ctx.display.knownZone(slackUserId),
  });
}

/**
 * Admins: the weekly digest, now, to the security channel: queued as the same job the schedule
 * queues (so it is retried if Slack fails, and carries the week's CSV), then sent at once.
 */
export async function digestCommand(ctx: SlackContext, client: WebClient, slackUserId: string): Promise<SlackMessage> {
  const me = await identify(ctx, client, slackUserId);
  await assertAdmin(ctx.deps, me);
  const at = ctx.deps.clock.now().toISOString();
  queueDigest(ctx.deps, { at, key: `on-demand:${at}:${me.person.id}` });
  ctx.jobs.kick();
  ctx.deps.logger.info('digest requested on demand', { channel: ctx.deps.settings.securityChannel, by: me.person.email });
  return textMessage(`Posting the digest for the week ending now to ${channelLink(ctx.deps.settings.securityChannel)}, with the week's requests CSV in its thread.`);
}
