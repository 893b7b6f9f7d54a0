/**
 * `/access <subcommand>`, routed by the subcommand table (access-commands.ts). A modal subcommand
 * acks at once and opens it (a trigger id is good for 3 s): one who may not use it (an unknown
 * application or role, a person the bot cannot act for, a non-admin) gets an ephemeral reply
 * instead, like every other refused command. The others answer with one ephemeral message, in the
 * ack when it is ready within the budget, else through the response URL. Unknown subcommands get
 * the help.
 */
import type { RespondFn } from '@slack/bolt';
import type { ListenerRegistry } from '../../listener-router.js';
import type { SlackMessage } from '../../../../../blocks/approval-message.js';
import { helpMessage } from '../../../../../blocks/command-replies.js';
import { escapeMrkdwn } from '../../../../../blocks/escape.js';
import {
  answer,
  HELP,
  parseAccessCommand,
  subcommandNamed,
  textMessage,
  type SubcommandCall,
} from '../../access-commands.js';
import { Acker, tellEphemeral, type SlackContext } from '../../context.js';

export function register(app: ListenerRegistry): void {
  app.command('/access', async ({ ack, command, client, respond }, ctx) => {
    const parsed = parseAccessCommand(command.text ?? '');
    const subcommand = 'word' in parsed ? undefined : subcommandNamed(parsed.kind);
    if (!subcommand)
      return ack(
        ephemeral(
          helpMessage(HELP, `Unknown command \`${escapeMrkdwn('word' in parsed ? parsed.word : parsed.kind)}\`.`),
        ),
      );
    const refuse = async (text: string) => {
      try {
        await respond(ephemeral(textMessage(escapeMrkdwn(text))));
      } catch (error) {
        ctx.deps.logger.warn('response_url failed; answering by DM', {
          error: error instanceof Error ? error.message : String(error),
        });
        await tellEphemeral(ctx, client, { channel: command.channel_id, user: command.user_id }, text);
      }
    };
    const call: SubcommandCall = {
      ctx,
      client,
      userId: command.user_id,
      triggerId: command.trigger_id,
      channel: command.channel_id,
      refuse,
      ...('word' in parsed ? { words: [] } : parsed),
    };
    if (subcommand.answer === 'modal_or_reply' && subcommand.wantsModal(call)) {
      await ack();
      await othersAnswered();
      return subcommand.open(call);
    }
    if (subcommand.answer === 'modal') {
      const refusal = subcommand.refuse?.(call);
      if (refusal) return ack(ephemeral(refusal));
      // Ack first, then open: nothing slow stands between the command and the modal.
      await ack();
      await othersAnswered();
      return subcommand.open(call);
    }
    const acker = Acker.of(ack, ctx.ackBudgetMs);
    const message = await answer(ctx, `/access ${subcommand.name}`, () => subcommand.reply(call));
    if (await acker.ack(ephemeral(message))) return;
    await lateReply(ctx, respond, { channel: command.channel_id, user: command.user_id }, message, client);
  });
}

/**
 * Yields until the requests that arrived with this one have been read and acked: without it, each
 * command's modal work (users.info, the database reads) starts before the next command's ack is
 * sent, and under a burst the last ack waits for all of them. The modal work follows at once.
 */
function othersAnswered(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function ephemeral(message: SlackMessage): {
  response_type: 'ephemeral';
  text: string;
  blocks: SlackMessage['blocks'];
} {
  return { response_type: 'ephemeral', text: message.text, blocks: message.blocks };
}

/** The answer came after the ack budget: the response URL takes it (it works in any channel). */
async function lateReply(
  ctx: SlackContext,
  respond: RespondFn,
  where: { channel: string; user: string },
  message: SlackMessage,
  client: Parameters<typeof tellEphemeral>[1],
): Promise<void> {
  try {
    await respond(ephemeral(message));
  } catch (error) {
    ctx.deps.logger.warn('response_url failed; answering by DM', {
      error: error instanceof Error ? error.message : String(error),
    });
    // The builders' text is already escaped mrkdwn.
    await tellEphemeral(ctx, client, where, message.text, { mrkdwn: true });
  }
}
