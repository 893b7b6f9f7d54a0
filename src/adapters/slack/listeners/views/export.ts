/**
 * The export form's submission: filters and admin membership are checked before the ack (inline
 * errors); the CSV is built and uploaded to the admin's DM after it.
 */
import type { App } from '@slack/bolt';
import { CALLBACK } from '../../../../../blocks/ids.js';
import { submitExport } from '../../admin-forms.js';
import { Acker, tellEphemeral, type SlackContext } from '../../context.js';
import { ViewSubmissionSchema } from '../../payloads.js';

export function register(app: App, ctx: SlackContext): void {
  app.view(CALLBACK.export, async ({ ack, body, client }) => {
    const acker = Acker.of(ack, ctx.ackBudgetMs);
    const payload = ViewSubmissionSchema.safeParse(body);
    if (!payload.success) return void (await acker.ack());
    const { reply, afterAck } = await submitExport(ctx, client, { adminSlackId: payload.data.user.id, view: payload.data.view });
    if (!(await acker.ack(reply)) && reply?.response_action === 'errors') {
      await tellEphemeral(ctx, client, { user: payload.data.user.id }, `Nothing was exported: ${Object.values(reply.errors).join(' ')}`);
    }
    await afterAck?.();
  });
}
