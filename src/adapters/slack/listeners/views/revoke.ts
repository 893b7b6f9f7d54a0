/** The revoke form's submission: one `revokeGrantAsAdmin` call (admin membership read live); refusals inline. */
import type { App } from '@slack/bolt';
import { BLOCK, CALLBACK } from '../../../../../blocks/ids.js';
import { submitRevoke } from '../../admin-forms.js';
import { Acker, tellEphemeral, type SlackContext } from '../../context.js';
import { hasInputBlock, ViewSubmissionSchema } from '../../payloads.js';

export function register(app: App, ctx: SlackContext): void {
  app.view(CALLBACK.revoke, async ({ ack, body, client }) => {
    const acker = Acker.of(ack, ctx.ackBudgetMs);
    const payload = ViewSubmissionSchema.safeParse(body);
    if (!payload.success) return void (await acker.ack());
    const reply = await submitRevoke(ctx, client, { adminSlackId: payload.data.user.id, view: payload.data.view, hasGrantInput: hasInputBlock(payload.data.view, BLOCK.revokeGrant) });
    if (!(await acker.ack(reply)) && reply?.response_action === 'errors') {
      await tellEphemeral(ctx, client, { user: payload.data.user.id }, `Nothing was revoked: ${Object.values(reply.errors).join(' ')}`);
    }
    ctx.jobs.kick();
  });
}
