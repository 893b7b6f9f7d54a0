/** `/access request [app] [role]`: opens the request modal at once; `/access help` explains. */
import type { App } from '@slack/bolt';
import { escapeMrkdwn } from '../../../../../blocks/escape.js';
import type { SlackContext } from '../../context.js';
import { openRequestModal } from '../../request-flow.js';

export const USAGE = [
  '*/access request* — open the request form',
  '*/access request* `<app>` `[role]` — open it with the application (and role) chosen, e.g. `/access request github owner`',
  '*/access help* — this help',
].join('\n');

export type AccessCommand = { kind: 'request'; app?: string; role?: string } | { kind: 'help' } | { kind: 'unknown'; word: string };

export function parseAccessCommand(text: string): AccessCommand {
  const [verb = 'request', app, role] = text.trim().split(/\s+/).filter(Boolean).map((w) => w.toLowerCase());
  if (verb === 'request') return { kind: 'request', ...(app ? { app } : {}), ...(role ? { role } : {}) };
  if (verb === 'help') return { kind: 'help' };
  return { kind: 'unknown', word: verb };
}

export function register(app: App, ctx: SlackContext): void {
  app.command('/access', async ({ ack, command, client }) => {
    const parsed = parseAccessCommand(command.text ?? '');
    if (parsed.kind === 'help') return ack({ response_type: 'ephemeral', text: USAGE });
    if (parsed.kind === 'unknown') return ack({ response_type: 'ephemeral', text: `Unknown command \`${escapeMrkdwn(parsed.word)}\`.\n${USAGE}` });
    if (parsed.app && !ctx.deps.catalog.app(parsed.app)) {
      const known = ctx.deps.catalog.policies.map((p) => `\`${p.app}\``).join(', ');
      return ack({ response_type: 'ephemeral', text: `There is no application \`${escapeMrkdwn(parsed.app)}\`. Known: ${known}.` });
    }
    // Ack first, then open: nothing slow stands between the command and the modal.
    await ack();
    await openRequestModal(ctx, client, { triggerId: command.trigger_id, userId: command.user_id, app: parsed.app, role: parsed.role });
  });
}
