/**
 * `/access delegate @person until DATE`, `/access delegate off`, and the form when the command
 * lacks its arguments. The person is a Slack user (Slack sends a picked mention as `<@U…|name>`);
 * they are found in the directory by their Slack email, never by what was typed. "Until" is the
 * last day, included: the delegation ends at the next midnight in the delegator's zone.
 */
import type { ModalView, WebClient } from '@slack/web-api';
import { delegateModal } from '../../../blocks/delegation.js';
import { escapeMrkdwn } from '../../../blocks/escape.js';
import { plainDate } from '../../../blocks/format.js';
import { ACTION, BLOCK } from '../../../blocks/ids.js';
import { AccessError } from '../../domain/errors.js';
import { delegateApprovals, endOwnDelegation } from '../../operations/delegations.js';
import { explain, identify, type SlackContext, type SubmissionReply } from './context.js';
import { endOfDay, localDay } from './export-period.js';
import { pickedDate, pickedUser, type ViewPayload } from './payloads.js';
import { lookUpSlackUser } from './people.js';

/** Whom: a Slack user (a picked mention), or an email the directory knows. */
export type DelegateRef = { slackUserId: string } | { email: string };

export type DelegateCommand =
  | { kind: 'off' }
  | { kind: 'delegate'; delegate: DelegateRef; day: string }
  /** Something is missing or unreadable: the form asks (with what was understood). */
  | { kind: 'form'; problem?: string };

/** `off`, or `<@U…> until YYYY-MM-DD` (or an email instead of the mention; `until` optional). */
export function parseDelegateCommand(words: readonly string[]): DelegateCommand {
  if (words.length === 0) return { kind: 'form' };
  if (words.length === 1 && words[0]!.toLowerCase() === 'off') return { kind: 'off' };
  const rest = words.filter((w) => w.toLowerCase() !== 'until');
  const mention = rest.map((w) => /^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$/.exec(w)).find(Boolean);
  const email = rest.find((w) => /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(w));
  const day = rest.find((w) => /^\d{4}-\d{2}-\d{2}$/.test(w));
  const delegate: DelegateRef | undefined = mention ? { slackUserId: mention[1]! } : email ? { email } : undefined;
  if (!delegate || !day || rest.length !== 2) {
    return { kind: 'form', problem: 'Usage: `/access delegate @person until 2026-12-24`, or `/access delegate off`.' };
  }
  return { kind: 'delegate', delegate, day };
}

/** The form: whom, and until which day (today preselected), showing the delegation in force. */
export async function delegateForm(ctx: SlackContext, client: WebClient, userId: string): Promise<ModalView> {
  const me = await identify(ctx, client, userId);
  const zone = ctx.display.knownZone(userId);
  const active = await ctx.deps.store.activeDelegationBy(me.person.id);
  return delegateModal({
    today: localDay(ctx.deps.clock.now(), zone),
    ...(active ? { active: { delegate: active.delegate.name, endsAt: active.endsAt, timezone: zone } } : {}),
  });
}

/** Delegates to a Slack user until the end of `day` (the person's zone). Returns what to tell them. */
export async function delegateTo(
  ctx: SlackContext,
  client: WebClient,
  input: { userId: string; delegate: DelegateRef; day: string },
): Promise<string> {
  const actor = await identify(ctx, client, input.userId);
  const zone = ctx.display.knownZone(input.userId);
  const until = endOfDay(input.day, zone);
  if (!until)
    throw new AccessError('invalid_delegation', `${input.day} is not a date: write it as 2026-12-24.`, {
      field: 'until',
    });
  const found =
    'slackUserId' in input.delegate
      ? await lookUpSlackUser(ctx, client, input.delegate.slackUserId)
      : { person: await ctx.deps.directory.findPerson(input.delegate.email), email: input.delegate.email };
  if (!found.person) {
    throw new AccessError(
      'invalid_delegation',
      `${found.email ?? 'That Slack user'} is not in the directory, so they cannot decide for you.`,
      { field: 'delegate' },
    );
  }
  const delegation = await delegateApprovals(ctx.deps, { actor, delegateId: found.person.id, until });
  ctx.jobs.kick();
  return `🤝 ${delegation.delegate.name} decides your approvals until ${plainDate(delegation.endsAt, zone)} (the end of ${input.day}). They are told now; \`/access delegate off\` ends it sooner.`;
}

export async function delegationOff(ctx: SlackContext, client: WebClient, userId: string): Promise<string> {
  const ended = await endOwnDelegation(ctx.deps, { actor: await identify(ctx, client, userId) });
  ctx.jobs.kick();
  return `🤝 ${ended.delegate.name} no longer decides your approvals: they come to you again.`;
}

/** The form's submission: the delegation, or the problem on the field it is about. */
export async function submitDelegate(
  ctx: SlackContext,
  client: WebClient,
  input: { userId: string; view: ViewPayload },
): Promise<SubmissionReply> {
  const { state } = input.view;
  const person = pickedUser(state, BLOCK.delegatePerson, ACTION.delegatePerson);
  const day = pickedDate(state, BLOCK.delegateUntil, ACTION.delegateUntil);
  if (!person) return { response_action: 'errors', errors: { [BLOCK.delegatePerson]: 'Pick who decides for you.' } };
  if (!day) return { response_action: 'errors', errors: { [BLOCK.delegateUntil]: 'Pick the last day.' } };
  try {
    const text = await delegateTo(ctx, client, { userId: input.userId, delegate: { slackUserId: person }, day });
    ctx.deps.logger.info('delegation created', { by: input.userId, to: person, day });
    return {
      response_action: 'update',
      view: {
        type: 'modal',
        title: { type: 'plain_text', text: 'Delegated' },
        close: { type: 'plain_text', text: 'Close' },
        blocks: [{ type: 'section', text: { type: 'mrkdwn', text: escapeMrkdwn(text) } }],
      },
    };
  } catch (error) {
    const message = explain(ctx, error, 'delegate');
    if (error instanceof AccessError && error.code === 'invalid_delegation' && error.details.field === 'until') {
      return { response_action: 'errors', errors: { [BLOCK.delegateUntil]: message } };
    }
    return { response_action: 'errors', errors: { [BLOCK.delegatePerson]: message } };
  }
}
