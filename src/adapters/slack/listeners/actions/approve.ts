/**
 * Approve, and Approve for less (a select with a confirm dialog). The decision is committed before
 * the click is acked; a refusal (not an approver, own request, already decided) is explained in an
 * ephemeral message and changes nothing.
 */
import type { App } from '@slack/bolt';
import { ACTION, decodeShorterOption, decodeStepRef } from '../../../../../blocks/ids.js';
import { refreshHomeAfter } from '../../app-home.js';
import { Acker, tellEphemeral, type SlackContext } from '../../context.js';
import { decide } from '../../decide.js';
import { BlockActionSchema } from '../../payloads.js';

export function register(app: App, ctx: SlackContext): void {
  for (const actionId of [ACTION.approve, ACTION.approveShorter]) {
    app.action(actionId, async ({ ack, body, client }) => {
      const acker = Acker.of(ack, ctx.ackBudgetMs);
      const payload = BlockActionSchema.safeParse(body);
      const action = payload.success ? payload.data.actions[0] : undefined;
      const shorter = actionId === ACTION.approveShorter ? decodeShorterOption(action?.selected_option?.value ?? '') : null;
      const ref = actionId === ACTION.approve ? decodeStepRef(action?.value ?? '') : shorter;
      if (!payload.success || !ref) {
        await acker.ack();
        return;
      }
      const where = { channel: payload.data.container?.channel_id ?? payload.data.channel?.id, user: payload.data.user.id };
      const outcome = await decide(ctx, client, { slackUserId: where.user, ref, decision: 'approve', ...(shorter ? { shortenToSeconds: shorter.seconds } : {}) });
      // Acked only now: the decision (or the refusal) is already committed.
      await acker.ack();
      if (!outcome.ok) await tellEphemeral(ctx, client, where, outcome.message);
      else if (acker.late) await tellEphemeral(ctx, client, where, 'Your approval is recorded.');
      ctx.jobs.kick();
      await refreshHomeAfter(ctx, client, payload.data);
    });
  }
}
