/**
 * What every listener shares: the operations' dependencies, the workspace the bot belongs to,
 * the job pump, and small helpers to identify the person, ack in time and explain refusals.
 */
import type { WebClient } from '@slack/web-api';
import { escapeMrkdwn } from '../../../blocks/escape.js';
import { AccessError } from '../../domain/errors.js';
import type { ActingPerson } from '../../operations/acting-person.js';
import type { Deps } from '../../operations/context.js';
import { identifySlackUser } from '../../operations/identify-person.js';
import type { JobPump } from './job-pump.js';

export interface SlackContext {
  deps: Deps;
  /** The bot's own workspace (auth.test `team_id`); requests from any other are refused. */
  teamId: string;
  /** The Enterprise Grid organisation of that workspace (auth.test `enterprise_id`), if any. */
  enterpriseId?: string;
  jobs: JobPump;
  /** How long a listener may work before it must ack (Slack allows 3 s; we keep a margin). */
  ackBudgetMs: number;
}

/**
 * The Slack user as a directory person. The email comes from `users.info` every time (nothing that
 * decides access is cached); the core matches it to the stored binding or binds on first contact.
 */
export async function identify(ctx: SlackContext, client: WebClient, slackUserId: string): Promise<ActingPerson> {
  const user = await slackUserOf(ctx, client, slackUserId, 'Slack did not tell us who you are just now; please try again in a moment.');
  assertOurPerson(ctx, user);
  return identifySlackUser(ctx.deps, { slackUserId, email: user?.profile?.email ?? null });
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
  if (user.deleted || user.is_bot) throw new AccessError('identity_unknown', 'This Slack account is deactivated or a bot, so it cannot act here.');
  if (user.is_email_confirmed === false) throw new AccessError('identity_unknown', 'Your Slack email is not confirmed yet, so you cannot be matched to the directory.');
}

async function slackUserOf(ctx: SlackContext, client: WebClient, slackUserId: string, failure: string): Promise<SlackUserInfo | undefined> {
  try {
    const info = await client.users.info({ user: slackUserId });
    return info.user as SlackUserInfo | undefined;
  } catch (error) {
    ctx.deps.logger.warn('users.info failed', { slackUserId, error: error instanceof Error ? error.message : String(error) });
    throw new AccessError('transient_failure', failure);
  }
}

/** The email on a Slack user's profile (users.info), or null when it has none; `failure` is said when Slack does not answer. */
export async function slackEmailOf(ctx: SlackContext, client: WebClient, slackUserId: string, failure: string): Promise<string | null> {
  return (await slackUserOf(ctx, client, slackUserId, failure))?.profile?.email ?? null;
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

/** An ephemeral message to one person where they clicked; never throws (it is only feedback). */
export async function tellEphemeral(ctx: SlackContext, client: WebClient, where: { channel?: string; user: string }, text: string): Promise<void> {
  try {
    // Refusals quote what people typed or their emails: escaped like every other message.
    const safe = escapeMrkdwn(text);
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
