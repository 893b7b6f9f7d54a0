/**
 * What every listener shares: the operations' dependencies, the workspace the bot belongs to,
 * the job pump, and small helpers to identify the person, ack in time and explain refusals.
 */
import type { ModalView, ViewsOpenResponse, WebClient } from '@slack/web-api';
import { escapeMrkdwn } from '../../../blocks/escape.js';
import { infoModal } from '../../../blocks/modals.js';
import { AccessError, TransientError } from '../../domain/errors.js';
import type { IdentityBinding } from '../../domain/records.js';
import type { ActingPerson } from '../../operations/acting-person.js';
import type { Deps } from '../../operations/context.js';
import { identifySlackUser } from '../../operations/identify-person.js';
import type { DisplayLookups } from './display-lookups.js';
import type { JobPump } from './job-pump.js';
import type { SlackCallGate } from './slack-call-gate.js';
import { platformError } from './slack-errors.js';

export interface SlackContext {
  deps: Deps;
  /** The bot's own workspace (auth.test `team_id`); requests from any other are refused. */
  teamId: string;
  /** The Enterprise Grid organisation of that workspace (auth.test `enterprise_id`), if any. */
  enterpriseId?: string;
  jobs: JobPump;
  /** How long a listener may work before it must ack (Slack allows 3 s; we keep a margin). */
  ackBudgetMs: number;
  /** Slack's rate limits for the bot's own calls, shared with the notifier. */
  gate: SlackCallGate;
  /** Readers' time zones and people's display names, for what people read. */
  display: DisplayLookups;
}

/**
 * The Slack user as a directory person. The email comes from `users.info` every time (nothing that
 * decides access is cached); the core matches it to the stored binding or binds on first contact.
 *
 * The stored binding is read while Slack answers `users.info`, so the two round trips overlap;
 * nothing is decided on it before `users.info` has said the person is one of ours. `bound` hears
 * the bound directory id as soon as it is read, for a caller that reads more about that person
 * in the meantime (reads only: what it shows waits for this function's answer).
 */
export async function identify(
  ctx: SlackContext,
  client: WebClient,
  slackUserId: string,
  options: {
    bound?: (directoryId: string) => void;
    /** The stored binding, when the caller reads it itself (with more, in one read); else it is read here. */
    binding?: Promise<IdentityBinding | undefined>;
  } = {},
): Promise<ActingPerson> {
  const binding = options.binding ?? ctx.deps.store.bindingForSlackUser(slackUserId);
  // Also marks a failed read as handled when users.info fails first (it is awaited below otherwise).
  binding.then((found) => found && options.bound?.(found.directoryId)).catch(() => undefined);
  const user = await slackUserOf(
    ctx,
    client,
    slackUserId,
    'Slack did not tell us who you are just now; please try again in a moment.',
  );
  assertOurPerson(ctx, user);
  return identifySlackUser(ctx.deps, {
    slackUserId,
    email: user?.profile?.email ?? null,
    binding: (await binding) ?? null,
  });
}

/** The parts of users.info the workspace check reads. */
type SlackUserInfo = {
  team_id?: string;
  enterprise_user?: { enterprise_id?: string };
  is_stranger?: boolean;
  deleted?: boolean;
  is_bot?: boolean;
  is_email_confirmed?: boolean;
  profile?: { email?: string };
};

/** Someone who acts must be a person of the served workspace, whatever channel they act in. */
export const FOREIGN_WORKSPACE_TEXT = 'This access bot serves another Slack workspace; requests from here are refused.';

/**
 * The person acting, as Slack describes them now (users.info), must belong to the workspace the
 * bot serves: their own team is ours (or, on Enterprise Grid, their organisation is ours), they
 * are not a stranger from a Slack Connect organisation, not deactivated, not a bot, and their
 * email is confirmed. Checked before anyone is matched to a directory person, so a partner's
 * account with a matching email is never bound to one of our people.
 */
function assertOurPerson(ctx: SlackContext, user: SlackUserInfo | undefined): void {
  if (!user) return; // users.info answered without a user: identifySlackUser refuses (no email)
  const sameOrg = ctx.enterpriseId !== undefined && user.enterprise_user?.enterprise_id === ctx.enterpriseId;
  if (user.is_stranger || (user.team_id !== undefined && user.team_id !== ctx.teamId && !sameOrg)) {
    ctx.deps.logger.warn('refused a person from another workspace', { team: user.team_id, expected: ctx.teamId });
    throw new AccessError('wrong_workspace', FOREIGN_WORKSPACE_TEXT);
  }
  if (user.deleted || user.is_bot)
    throw new AccessError('identity_unknown', 'This Slack account is deactivated or a bot, so it cannot act here.');
  if (user.is_email_confirmed === false)
    throw new AccessError(
      'identity_unknown',
      'Your Slack email is not confirmed yet, so you cannot be matched to the directory.',
    );
}

async function slackUserOf(
  ctx: SlackContext,
  client: WebClient,
  slackUserId: string,
  failure: string,
): Promise<SlackUserInfo | undefined> {
  try {
    const info = await client.users.info({ user: slackUserId });
    // The same answer says which zone the person reads times in: kept for the replies to them.
    ctx.display.rememberZone(slackUserId, info.user?.tz);
    return info.user as SlackUserInfo | undefined;
  } catch (error) {
    ctx.deps.logger.warn('users.info failed', {
      slackUserId,
      error: error instanceof Error ? error.message : String(error),
    });
    throw new AccessError('transient_failure', failure);
  }
}

/**
 * The email on a Slack user's profile (users.info), or null when it has none; `failure` is said when Slack does not
 * answer.
 */
export async function slackEmailOf(
  ctx: SlackContext,
  client: WebClient,
  slackUserId: string,
  failure: string,
): Promise<string | null> {
  return (await slackUserOf(ctx, client, slackUserId, failure))?.profile?.email ?? null;
}

/** A refusal a person can read: the core's message for its own errors, a generic one otherwise. */
export function explain(ctx: SlackContext, error: unknown, where: string): string {
  if (error instanceof AccessError) return error.message;
  ctx.deps.logger.error(`${where} failed`, {
    error: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  if (error instanceof TransientError) return 'The directory did not answer in time; please try again in a moment.';
  return 'Something went wrong on our side; nothing was changed. The access team can find the details in the log.';
}

type AckFn = (body?: never) => Promise<void>;

/**
 * Acks at most once. The work a listener does before acking (a decision committed to the
 * database) normally takes milliseconds; if the directory is slow, the timer acks empty at the
 * budget so Slack does not show the person an error, and the listener reports the result by an
 * ephemeral message or DM instead (`late` tells it to).
 */
export class Acker {
  private acked = false;
  private lateAck = false;
  private readonly timer: NodeJS.Timeout;

  /** `lateBody` is what the ack at the budget carries (a view submission's "working on it" view). */
  constructor(
    private readonly ackFn: (body?: unknown) => Promise<void>,
    budgetMs: number,
    lateBody?: unknown,
  ) {
    this.timer = setTimeout(() => {
      if (this.acked) return;
      this.lateAck = true;
      void this.ack(lateBody).catch(() => undefined);
    }, budgetMs);
  }

  static of(ack: unknown, budgetMs: number): Acker {
    return new Acker(ack as AckFn as (body?: unknown) => Promise<void>, budgetMs);
  }

  /** True when the budget ran out and an empty ack went out already. */
  get late(): boolean {
    return this.lateAck;
  }

  /** Sends the ack with `body`; false when it was already sent. */
  async ack(body?: unknown): Promise<boolean> {
    if (this.acked) return false;
    this.acked = true;
    clearTimeout(this.timer);
    await this.ackFn(body);
    return true;
  }
}

/** What a view submission answers: inline errors, a replacement view, or nothing (the modal closes). */
export type SubmissionReply =
  | { response_action: 'errors'; errors: Record<string, string> }
  | { response_action: 'update'; view: ModalView }
  | undefined;

/**
 * A view submission's ack within the budget. If the work (a decision, a request: directory look-ups
 * that a slow Okta stretches) outlasts it, the ack at the budget replaces the modal with a
 * "working on it" view, which keeps the modal's id; `finish` then shows the outcome in that view,
 * or, if the person closed it meanwhile, tells them in a DM. Inline errors are no longer possible
 * then, so they are shown as a "Not submitted" view. The work is never cut short: a decision is
 * recorded, or the person is told it was not.
 */
export class SubmissionAcker {
  private readonly acker: Acker;

  constructor(
    ack: unknown,
    private readonly ctx: SlackContext,
    private readonly client: WebClient,
    private readonly view: { viewId: string; userId: string },
  ) {
    this.acker = new Acker(ack as AckFn as (body?: unknown) => Promise<void>, ctx.ackBudgetMs, {
      response_action: 'update',
      view: workingModal(),
    });
  }

  /** True when the budget ran out and the "working on it" view went out already. */
  get late(): boolean {
    return this.acker.late;
  }

  /** Acks with `reply` now (early refusals); false when it was too late for that. */
  ack(reply?: SubmissionReply): Promise<boolean> {
    return this.acker.ack(reply);
  }

  /**
   * The outcome: the ack itself when in time, else an update of the "working on it" view.
   * `closed` is what the person sees late where in time the modal would simply have closed.
   */
  async finish(reply: SubmissionReply, closed: { title: string; text: string }): Promise<void> {
    if (await this.acker.ack(reply)) return;
    const view =
      reply === undefined
        ? infoModal(closed.title, closed.text)
        : reply.response_action === 'errors'
          ? infoModal('Not submitted', escapeMrkdwn(Object.values(reply.errors).join(' ')))
          : reply.view;
    try {
      await this.client.views.update({ view_id: this.view.viewId, view });
    } catch (error) {
      this.ctx.deps.logger.warn('could not show the outcome in the modal; telling the person by DM', {
        error: error instanceof Error ? error.message : String(error),
      });
      // The view's own text is mrkdwn from a block builder; the others are plain.
      if (reply?.response_action === 'update')
        await tellEphemeral(this.ctx, this.client, { user: this.view.userId }, textOfView(view), { mrkdwn: true });
      else
        await tellEphemeral(
          this.ctx,
          this.client,
          { user: this.view.userId },
          reply === undefined ? closed.text : `Not submitted: ${Object.values(reply.errors).join(' ')}`,
        );
    }
  }
}

function workingModal(): ModalView {
  return infoModal(
    'Working on it',
    '⏳ The directory is slow to answer just now. This window shows the outcome when it is done; if you close it, you get a message instead.',
  );
}

/** The text of an info view, for a DM when the view itself cannot be shown. */
function textOfView(view: ModalView): string {
  return (
    view.blocks
      .map((b) => ('text' in b && b.text && typeof b.text === 'object' && 'text' in b.text ? String(b.text.text) : ''))
      .filter(Boolean)
      .join('\n') || 'Done.'
  );
}

/**
 * An ephemeral message to one person where they clicked; never throws (it is only feedback).
 * `text` is plain (a refusal quoting what people typed is escaped here) unless `mrkdwn` says it
 * is already escaped mrkdwn from a block builder (escaping it again would show `&amp;amp;`).
 */
export async function tellEphemeral(
  ctx: SlackContext,
  client: WebClient,
  where: { channel?: string; user: string },
  text: string,
  options: { mrkdwn?: boolean } = {},
): Promise<void> {
  try {
    const safe = options.mrkdwn ? text : escapeMrkdwn(text);
    if (where.channel) {
      try {
        await client.chat.postEphemeral({ channel: where.channel, user: where.user, text: safe });
        return;
      } catch {
        // Not a member of that conversation (or it is gone): a DM still reaches them.
      }
    }
    await client.chat.postMessage({ channel: where.user, text: safe });
  } catch (error) {
    ctx.deps.logger.warn('could not tell the person', {
      user: where.user,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/**
 * views.open answers these when the click is too old: a trigger id works once, within 3 seconds
 * (SLK-REF views.open.json: expired_trigger_id, exchanged_trigger_id, invalid_trigger_id).
 */
const TRIGGER_ERRORS = new Set(['expired_trigger_id', 'exchanged_trigger_id', 'invalid_trigger_id']);

/**
 * Opens a modal with the click's trigger id, which must happen first, before any slow read. When
 * Slack answers that the trigger expired, the person is told to click again (else they would see
 * nothing at all) and undefined comes back.
 */
export async function openModal(
  ctx: SlackContext,
  client: WebClient,
  input: { triggerId: string; view: ModalView; where: { channel?: string; user: string } },
): Promise<{ id: string; hash?: string } | undefined> {
  try {
    // The view goes as the JSON text a form body carries anyway (the same bytes on the wire): given an
    // object, the WebClient first copies it whole for a debug line it builds at every log level, then
    // serialises it. The request form is the largest view opened under a burst of clicks.
    const opened = (await client.apiCall('views.open', {
      trigger_id: input.triggerId,
      view: JSON.stringify(input.view),
    })) as ViewsOpenResponse;
    const view = opened.view;
    return view?.id ? { id: view.id, ...(view.hash ? { hash: view.hash } : {}) } : undefined;
  } catch (error) {
    const code = platformError(error);
    if (!code || !TRIGGER_ERRORS.has(code)) throw error;
    ctx.deps.logger.warn('views.open: the click expired before the form opened', { code, user: input.where.user });
    const text =
      'Slack took too long to open that form (a click is good for 3 seconds). ' +
      'Please click again, or run the command again.';
    await tellEphemeral(ctx, client, input.where, text);
    return undefined;
  }
}
