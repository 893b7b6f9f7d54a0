/**
 * The `/access` subcommands, one table: the parser, `/access help` and the manifest's usage hint
 * (checked by a test) all read it, and the listener routes by it. A subcommand either opens a
 * modal (acked at once: a trigger id is good for 3 s) or answers with one ephemeral message, built
 * by one operation or read and a block builder; a refusal becomes the reply text.
 */
import type { ModalView, WebClient } from '@slack/web-api';
import type { SlackMessage } from '../../../blocks/approval-message.js';
import {
  helpMessage,
  listMessage,
  pendingMessage,
  textMessage,
  whoamiMessage,
} from '../../../blocks/command-replies.js';
import { channelLink, escapeMrkdwn } from '../../../blocks/escape.js';
import { explainMessage } from '../../../blocks/explain-message.js';
import { infoModal } from '../../../blocks/modals.js';
import { AccessError } from '../../domain/errors.js';
import type { ActingPerson } from '../../operations/acting-person.js';
import { explainAccess } from '../../operations/explain-access.js';
import { findApp, findEntry } from '../../operations/policy-lookup.js';
import { queueDigest } from '../../operations/queue-digest.js';
import { assertAdmin } from '../../operations/revoke-grant.js';
import { openExportForm, openRevokeForm } from './admin-forms.js';
import { openBreakGlassForm } from './break-glass-flow.js';
import { explain, identify, openModal, type SlackContext } from './context.js';
import { delegateForm, delegateTo, delegationOff, parseDelegateCommand } from './delegate-flow.js';
import { approvalsAwaiting, myGrants, myRequests } from './overview.js';
import { lookUpSlackUser } from './people.js';
import { openRequestModal } from './request-flow.js';
import { reviewSubcommand } from './review-commands.js';

/** One `/access` call: who, where, and the words after the subcommand's name. */
export interface SubcommandCall {
  ctx: SlackContext;
  client: WebClient;
  userId: string;
  triggerId: string;
  /** Where the command was typed: a modal that cannot open says why there. */
  channel: string;
  /** Answers the person with an ephemeral message after the ack (a modal they may not open). */
  refuse: (text: string) => Promise<void>;
  app?: string;
  role?: string;
  /** The words after the subcommand's name, as typed (case kept: a mention `<@U…>` is case-sensitive). */
  words: string[];
}

interface Subcommand {
  name: string;
  /** Its words after the name, as the help and the manifest show them (`[app] [role]`). */
  args?: string;
  /** What it does, for `/access help` (mrkdwn). */
  summary: string;
  /** Reads `<app> <role>` after its name. */
  takesRole?: boolean;
}

/** Opens a modal: `refuse` may answer instead, before anything is opened. */
export interface ModalSubcommand extends Subcommand {
  answer: 'modal';
  refuse?(call: SubcommandCall): SlackMessage | undefined;
  open(call: SubcommandCall): Promise<void>;
}

/** Answers with one ephemeral message. */
export interface ReplySubcommand extends Subcommand {
  answer: 'reply';
  reply(call: SubcommandCall): Promise<SlackMessage>;
}

/** Opens a modal when its arguments are missing (`wantsModal`), else answers with one ephemeral message. */
export interface ModalOrReplySubcommand extends Subcommand {
  answer: 'modal_or_reply';
  wantsModal(call: SubcommandCall): boolean;
  open(call: SubcommandCall): Promise<void>;
  reply(call: SubcommandCall): Promise<SlackMessage>;
}

export type AccessSubcommand = ModalSubcommand | ReplySubcommand | ModalOrReplySubcommand;

export { textMessage };

/** One sentence for a person the bot cannot act for, instead of lists of what they cannot use. */
function inactive(me: ActingPerson): SlackMessage | null {
  return me.person.active
    ? null
    : textMessage(
        escapeMrkdwn(
          `Your directory account (${me.person.email}) is not active, so the bot cannot act for you. If that is a mistake, ask IT to reactivate it.`,
        ),
      );
}

/** A reply about the caller's own access: for an inactive account, the one sentence instead. */
function forActivePerson(
  reply: (call: SubcommandCall, me: ActingPerson) => Promise<SlackMessage>,
): (call: SubcommandCall) => Promise<SlackMessage> {
  return async (call) => {
    const me = await identify(call.ctx, call.client, call.userId);
    return inactive(me) ?? reply(call, me);
  };
}

/** A form, or a small modal saying why it cannot be shown. */
async function answerView(ctx: SlackContext, where: string, build: () => Promise<ModalView>): Promise<ModalView> {
  try {
    return await build();
  } catch (error) {
    return infoModal('Not possible', escapeMrkdwn(explain(ctx, error, where)));
  }
}

export async function answer(
  ctx: SlackContext,
  where: string,
  run: () => Promise<SlackMessage>,
): Promise<SlackMessage> {
  try {
    return await run();
  } catch (error) {
    return textMessage(escapeMrkdwn(explain(ctx, error, where)));
  }
}

export const SUBCOMMANDS: readonly AccessSubcommand[] = [
  {
    name: 'request',
    args: '[app] [role]',
    summary: 'ask for access (the form opens with the app and role chosen), e.g. `/access request github owner`',
    takesRole: true,
    answer: 'modal',
    refuse: ({ ctx, app, role }) => {
      if (app === undefined) return undefined;
      try {
        if (role === undefined) findApp(ctx.deps, app);
        else findEntry(ctx.deps, app, role);
        return undefined;
      } catch (error) {
        if (error instanceof AccessError) return textMessage(escapeMrkdwn(error.message));
        throw error;
      }
    },
    open: ({ ctx, client, triggerId, userId, channel, refuse, app, role }) =>
      openRequestModal(ctx, client, { triggerId, userId, channel, refuse, app, role }),
  },
  {
    name: 'break-glass',
    args: '<app> <role>',
    summary: 'emergency access now, without approval, for roles that allow it; reviewed afterwards',
    takesRole: true,
    answer: 'modal',
    refuse: ({ ctx, app, role }) => {
      if (app === undefined || role === undefined) {
        const roles = ctx.deps.catalog
          .entries()
          .filter((e) => e.role.breakGlass)
          .map((e) => `\`${e.app.app} ${e.role.id}\``);
        const which = roles.length
          ? `Roles with emergency access: ${roles.join(', ')}.`
          : 'No role has emergency access.';
        return textMessage(
          `Usage: \`/access break-glass <app> <role>\`, e.g. \`/access break-glass github owner\`. ${escapeMrkdwn(which)}`,
        );
      }
      try {
        findEntry(ctx.deps, app, role);
        return undefined;
      } catch (error) {
        if (error instanceof AccessError) return textMessage(escapeMrkdwn(error.message));
        throw error;
      }
    },
    open: ({ ctx, client, triggerId, userId, channel, refuse, app, role }) =>
      openBreakGlassForm(ctx, client, { triggerId, userId, channel, refuse, app: app!, role: role! }),
  },
  {
    name: 'delegate',
    args: '@person until <date>',
    summary:
      'while you are away, someone else decides your approvals: `/access delegate @kim until 2026-12-24`; `/access delegate off` ends it',
    answer: 'modal_or_reply',
    wantsModal: ({ words }) => words.length === 0,
    open: async ({ ctx, client, triggerId, userId, channel }) => {
      const view = await answerView(ctx, 'delegate form', () => delegateForm(ctx, client, userId));
      await openModal(ctx, client, { triggerId, view, where: { user: userId, channel } });
    },
    async reply({ ctx, client, userId, words }) {
      const parsed = parseDelegateCommand(words);
      switch (parsed.kind) {
        case 'off':
          return textMessage(escapeMrkdwn(await delegationOff(ctx, client, userId)));
        case 'delegate':
          return textMessage(
            escapeMrkdwn(await delegateTo(ctx, client, { userId, delegate: parsed.delegate, day: parsed.day })),
          );
        case 'form':
          return textMessage(
            parsed.problem ?? 'Usage: `/access delegate @person until 2026-12-24`, or `/access delegate off`.',
          );
      }
    },
  },
  {
    name: 'list',
    summary: "your access and your pending requests, with Extend, I'm done and Cancel",
    answer: 'reply',
    reply: forActivePerson(async ({ ctx, userId }, me) => {
      const [grants, requests] = await Promise.all([
        myGrants(ctx.deps, me.person.id),
        myRequests(ctx.deps, me.person.id),
      ]);
      return listMessage({ grants, requests, timezone: ctx.display.knownZone(userId) });
    }),
  },
  {
    name: 'pending',
    summary: 'approvals waiting for you, with Approve and Deny',
    answer: 'reply',
    reply: forActivePerson(async ({ ctx, userId }, me) =>
      pendingMessage(await approvalsAwaiting(ctx.deps, me.person.id, ctx.display.knownZone(userId)), me.person.id),
    ),
  },
  {
    name: 'explain',
    args: '<app> <role>',
    summary: 'how a request of yours would be decided, and who would be asked',
    takesRole: true,
    answer: 'reply',
    /**
     * The policy trace for the person asking, against the live directory. Records nothing: the
     * person is looked up without binding, and the evaluation is the pure `evaluate()`.
     */
    async reply({ ctx, client, userId, app, role }) {
      if (!app) return helpMessage(HELP, 'Usage: `/access explain <app> <role>`, e.g. `/access explain github owner`.');
      const { evaluation, role: explained } = await explainAccess(ctx.deps, {
        app,
        role,
        requester: async () => {
          const { person } = await lookUpSlackUser(ctx, client, userId);
          if (!person)
            throw new AccessError(
              'identity_unknown',
              'Your Slack email is not in the directory, so there is nothing to evaluate.',
            );
          return person;
        },
        // The justification is asked for in the form; a placeholder keeps the trace about eligibility and the chain.
        justification: 'explain',
      });
      return explainMessage(evaluation, explained);
    },
  },
  {
    name: 'whoami',
    summary: 'the directory account your Slack user is matched to',
    answer: 'reply',
    async reply({ ctx, client, userId }) {
      const me = await identify(ctx, client, userId);
      const binding = await ctx.deps.store.bindingForSlackUser(userId);
      if (!binding) throw new AccessError('identity_unknown', 'You are not matched to anyone in the directory yet.');
      return whoamiMessage({
        slackUserId: binding.slackUserId,
        directoryId: binding.directoryId,
        email: binding.email,
        name: me.person.name,
        boundAt: binding.boundAt,
        directoryStatus: me.person.status,
        timezone: ctx.display.knownZone(userId),
      });
    },
  },
  {
    name: 'review',
    args: '[start <id>]',
    summary:
      'the access review items waiting for you, with Keep and Revoke; admins: `review start <id>` starts a review',
    answer: 'reply',
    reply: (call) => reviewSubcommand(call),
  },
  {
    name: 'revoke',
    summary: "admins: take someone's access away, with a reason",
    answer: 'modal',
    open: ({ ctx, client, triggerId, userId, channel, refuse }) =>
      openRevokeForm(ctx, client, { triggerId, userId, channel, refuse }),
  },
  {
    name: 'export',
    summary: 'admins: the audit evidence as a CSV file in your DM',
    answer: 'modal',
    open: ({ ctx, client, triggerId, userId, channel, refuse }) =>
      openExportForm(ctx, client, { triggerId, userId, channel, refuse }),
  },
  {
    name: 'digest',
    summary: 'admins: post the security digest to the security channel now',
    answer: 'reply',
    /**
     * The weekly digest, now, to the security channel: queued as the same job the schedule queues
     * (so it is retried if Slack fails, and carries the week's CSV), then sent at once.
     */
    async reply({ ctx, client, userId }) {
      const me = await identify(ctx, client, userId);
      await assertAdmin(ctx.deps, me);
      const at = ctx.deps.clock.now().toISOString();
      await queueDigest(ctx.deps, { at, key: `on-demand:${at}:${me.person.id}` });
      ctx.jobs.kick();
      ctx.deps.logger.info('digest requested on demand', {
        channel: ctx.deps.settings.securityChannel,
        by: me.person.email,
      });
      return textMessage(
        `Posting the digest for the week ending now to ${channelLink(ctx.deps.settings.securityChannel)}, with the week's requests CSV in its thread.`,
      );
    },
  },
  {
    name: 'help',
    summary: 'this help',
    answer: 'reply',
    reply: async () => helpMessage(HELP),
  },
];

/** The help's lines, one per subcommand, in the table's order. */
export const HELP = SUBCOMMANDS.map((s) => ({
  usage: `/access ${s.name}`,
  args: s.args?.split(' ') ?? [],
  summary: s.summary,
}));

/** The manifest's `usage_hint`: every subcommand with its arguments. */
export function usageHint(): string {
  return SUBCOMMANDS.map((s) => (s.args ? `${s.name} ${s.args}` : s.name)).join(' | ');
}

export type ParsedAccessCommand =
  { kind: string; app?: string; role?: string; words: string[] } | { kind: 'unknown'; word: string };

/**
 * `/access <words>`: the subcommand by its first word (none: help), `<app> <role>` for those that
 * take them, and the words after the name as typed.
 */
export function parseAccessCommand(text: string): ParsedAccessCommand {
  const [first = 'help', ...words] = text.trim().split(/\s+/).filter(Boolean);
  const verb = first.toLowerCase();
  const [app, role] = words.map((w) => w.toLowerCase());
  const command = SUBCOMMANDS.find((s) => s.name === verb);
  if (!command) return { kind: 'unknown', word: verb };
  if (!command.takesRole) return { kind: verb, words };
  return { kind: verb, words, ...(app ? { app } : {}), ...(role ? { role } : {}) };
}

export function subcommandNamed(name: string): AccessSubcommand | undefined {
  return SUBCOMMANDS.find((s) => s.name === name);
}
