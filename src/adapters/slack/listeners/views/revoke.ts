/** The revoke form's submission: one `revokeGrantAsAdmin` call (admin membership read live); refusals inline. */
import type { ListenerRegistry } from '../../listener-router.js';
import { BLOCK, CALLBACK } from '../../../../../blocks/ids.js';
import { submitRevoke } from '../../admin-forms.js';
import { SubmissionAcker } from '../../context.js';
import { hasInputBlock, ViewSubmissionSchema } from '../../payloads.js';

export function register(app: ListenerRegistry): void {
  app.view(CALLBACK.revoke, async ({ ack, body, client }, ctx) => {
    const payload = ViewSubmissionSchema.safeParse(body);
    if (!payload.success) return void (await ack());
    const acker = new SubmissionAcker(ack, ctx, client, { viewId: payload.data.view.id, userId: payload.data.user.id });
    const reply = await submitRevoke(ctx, client, {
      adminSlackId: payload.data.user.id,
      view: payload.data.view,
      hasGrantInput: hasInputBlock(payload.data.view, BLOCK.revokeGrant),
    });
    ctx.jobs.kick();
    await acker.finish(reply, { title: 'Revoked', text: 'The revocation is recorded.' });
  });
}
