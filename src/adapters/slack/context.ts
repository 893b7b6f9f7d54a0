/**
 * What every listener shares: the operations' dependencies, the workspace the bot belongs to,
 * the job pump, and small helpers to identify the person, ack in time and explain refusals.
 */
import type { ModalView, WebClient } from '@slack/web-api';
import { escapeMrkdwn } from '../../../blocks/escape.js';
import { AccessError } from '../../domain/errors.js';
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
 */
export async function identify(ctx: SlackContext, client: WebClient, slackUserId: string): Promise<ActingPerson> {
  const email = await slackEmailOf(ctx, client, slackUserId, 'Slack did not tell us who you are just now; please try again in a moment.');
  return identifySlackUser(ctx.deps, { slackUserId, email });
}

/** The email on a Slack user's profile (users.info), or null when it has none; `failure` is said when Slack does not answer. */
export async function slackEmailOf(ctx: SlackContext, client: WebClient, slackUserId: string, failure: string): Promise<string | null> {
  try {
    const info = await client.users.info({ user: slackUserId });
    // The same answer says which zone the person reads times in: kept for the replies to them.
    ctx.display.rememberZone(slackUserId, info.user?.tz);
    return info.user?.profile?.email ?? null;
  } catch (error) {
    ctx.deps.logger.warn('users.info failed', { slackUserId, error: error instanceof Error ? error.message : String(error) });
    throw new AccessError('transient_failure', failure);
  }
}

/** A refusal a person can read: the core's message for its own errors, a generic one otherwise. */
export function explain(ctx: SlackContext, error: unknown, where: string): string {
  if (error instanceof AccessError) return error.message;
  ctx.deps.logger.error(`${where} failed`, { error: error instanceof Error ? error.stack ?? error.message : String(error) });
  if (error instanceof Error && error.name === 'TransientError') return 'The directory did not answer in time; please try again in a moment.';
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

  constructor(private readonly ackFn: (body?: unknown) => Promise<void>, budgetMs: number) {
    this.timer = setTimeout(() => {
      if (this.acked) return;
      this.lateAck = true;
      void this.ack().catch(() => undefined);
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
    ctx.deps.logger.warn('could not tell the person', { user: where.user, error: error instanceof Error ? error.message : String(error) });
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
    const opened = await client.views.open({ trigger_id: input.triggerId, view: input.view });
    const view = opened.view;
    return view?.id ? { id: view.id, ...(view.hash ? { hash: view.hash } : {}) } : undefined;
  } catch (error) {
    const code = platformError(error);
    if (!code || !TRIGGER_ERRORS.has(code)) throw error;
    ctx.deps.logger.warn('views.open: the click expired before the form opened', { code, user: input.where.user });
    const text = 'Slack took too long to open that form (a click is good for 3 seconds). '
      + 'Please click again, or run the command again.';
    await tellEphemeral(ctx, client, input.where, text);
    return undefined;
  }
}
