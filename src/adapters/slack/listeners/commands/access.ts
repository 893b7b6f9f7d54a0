/**
 * `/access <subcommand>`. `request`, `revoke` and `export` open a modal (a trigger id is good for
 * 3 s): one who may not use it (an unknown application or role, a person the bot cannot act for, a
 * non-admin) gets an ephemeral reply instead, like every other refused command. The others answer
 * with one ephemeral message, in the ack when it is ready within the budget, else through the
 * response URL. Unknown subcommands get the help.
 */
import type { App, RespondFn } from '@slack/bolt';
import type { SlackMessage } from '../../../../../blocks/approval-message.js';
import { helpMessage } from '../../../../../blocks/command-replies.js';
import { escapeMrkdwn } from '../../../../../blocks/escape.js';
import { textMessage } from '../../access-commands.js';
import { answer, digestCommand, explainCommand, listCommand, pendingCommand, whoamiCommand } from '../../access-commands.js';
import { openExportForm, openRevokeForm } from '../../admin-forms.js';
import { Acker, tellEphemeral, type SlackContext } from '../../context.js';
import { openRequestModal } from '../../request-flow.js';
import { unknownAppOrRole } from '../../request-form.js';

export type AccessCommand =
  | { kind: 'request'; app?: string; role?: string }
  | { kind: 'explain'; app?: string; role?: string }
  | { kind: 'help' | 'list' | 'pending' | 'revoke' | 'export' | 'whoami' | 'digest' }
  | { kind: 'unknown'; word: string };

const SIMPLE = new Set(['help', 'list', 'pending', 'revoke', 'export', 'whoami', 'digest'] as const);

export function parseAccessCommand(text: string): AccessCommand {
  const [verb = 'help', app, role] = text.trim().split(/\s+/).filter(Boolean).map((w) => w.toLowerCase());
  if (verb === 'request' || verb === 'explain') return { kind: verb, ...(app ? { app } : {}), ...(role ? { role } : {}) };
  if ((SIMPLE as Set<string>).has(verb)) return { kind: verb as 'help' };
  return { kind: 'unknown', word: verb };
}

export function register(app: App, ctx: SlackContext): void {
  app.command('/access', async ({ ack, command, client, respond }) => {
    const parsed = parseAccessCommand(command.text ?? '');
    const refuse = async (text: string) => {
      try {
        await respond(ephemeral(textMessage(escapeMrkdwn(text))));
      } catch (error) {
        ctx.deps.logger.warn('response_url failed; answering by DM', { error: error instanceof Error ? error.message : String(error) });
        await tellEphemeral(ctx, client, { channel: command.channel_id, user: command.user_id }, text);
      }
    };
    const opening = { triggerId: command.trigger_id, userId: command.user_id, channel: command.channel_id, refuse };
    switch (parsed.kind) {
      case 'help':
        return ack(ephemeral(helpMessage()));
      case 'unknown':
        return ack(ephemeral(helpMessage(`Unknown command \`${escapeMrkdwn(parsed.word)}\`.`)));
      case 'request': {
        const unknown = parsed.app ? unknownAppOrRole(ctx.deps, parsed.app, parsed.role) : null;
        if (unknown) return ack(ephemeral(textMessage(unknown)));
        // Ack first, then open: nothing slow stands between the command and the modal.
        await ack();
        return openRequestModal(ctx, client, { ...opening, app: parsed.app, role: parsed.role });
      }
      case 'revoke':
        await ack();
        return openRevokeForm(ctx, client, opening);
      case 'export':
        await ack();
        return openExportForm(ctx, client, opening);
      default: {
        const acker = Acker.of(ack, ctx.ackBudgetMs);
        const user = command.user_id;
        const message = await answer(ctx, `/access ${parsed.kind}`, () => {
          switch (parsed.kind) {
            case 'list':
              return listCommand(ctx, client, user);
            case 'pending':
              return pendingCommand(ctx, client, user);
            case 'explain':
              return explainCommand(ctx, client, user, parsed.app, parsed.role);
            case 'whoami':
              return whoamiCommand(ctx, client, user);
            default:
              return digestCommand(ctx, client, user);
          }
        });
        if (await acker.ack(ephemeral(message))) return;
        await lateReply(ctx, respond, { channel: command.channel_id, user }, message, client);
      }
    }
  });
}

function ephemeral(message: SlackMessage): { response_type: 'ephemeral'; text: string; blocks: SlackMessage['blocks'] } {
  return { response_type: 'ephemeral', text: message.text, blocks: message.blocks };
}

/** The answer came after the ack budget: the response URL takes it (it works in any channel). */
async function lateReply(ctx: SlackContext, respond: RespondFn, where: { channel: string; user: string }, message: SlackMessage, client: Parameters<typeof tellEphemeral>[1]): Promise<void> {
  try {
    await respond(ephemeral(message));
  } catch (error) {
    ctx.deps.logger.warn('response_url failed; answering by DM', { error: error instanceof Error ? error.message : String(error) });
    // The builders' text is already escaped mrkdwn.
    await tellEphemeral(ctx, client, where, message.text, { mrkdwn: true });
  }
}
