/** The Revoke reason modal's submission: the reviewer's decision, committed before the ack. */
import type { ListenerRegistry } from '../../listener-router.js';
import * as z from 'zod';
import { ACTION, BLOCK, CALLBACK } from '../../../../../blocks/ids.js';
import { REVIEW_PAGE_SIZE } from '../../../../../blocks/review-message.js';
import { isAccessError } from '../../../../domain/errors.js';
import { decideReviewItem } from '../../../../operations/reviews/decide-review-item.js';
import { publishHome } from '../../app-home.js';
import { explain, identify, SubmissionAcker } from '../../context.js';
import { parseMetadata, typed, ViewSubmissionSchema } from '../../payloads.js';
import { notRecorded } from '../actions/review.js';

/** Which item the modal is for, and the page of the list it was opened from (-1: not the list). */
const RevokeMetadataSchema = z.object({
  i: z.string().regex(/^rvi_[A-Za-z0-9]{1,60}$/),
  p: z.number().int().min(-1).max(99_999),
  h: z.literal(1).optional(),
});

export function register(app: ListenerRegistry): void {
  app.view(CALLBACK.reviewRevoke, async ({ ack, body, client }, ctx) => {
    const payload = ViewSubmissionSchema.safeParse(body);
    const meta = payload.success ? parseMetadata(RevokeMetadataSchema, payload.data.view.private_metadata) : null;
    if (!payload.success || !meta) return void (await ack());
    const userId = payload.data.user.id;
    const acker = new SubmissionAcker(ack, ctx, client, { viewId: payload.data.view.id, userId });
    let reply: Parameters<SubmissionAcker['finish']>[0];
    try {
      const actor = await identify(ctx, client, userId);
      await decideReviewItem(ctx.deps, {
        actor,
        itemId: meta.i,
        decision: 'revoke',
        reason: typed(payload.data.view.state, BLOCK.reviewReason, ACTION.reviewReason),
        ...(meta.p >= 0 ? { seen: { page: meta.p, size: REVIEW_PAGE_SIZE } } : {}),
      });
      reply = undefined;
    } catch (error) {
      const message = explain(ctx, error, `review revoke ${meta.i}`);
      reply =
        isAccessError(error, 'reason_required') || isAccessError(error, 'too_long')
          ? { response_action: 'errors', errors: { [BLOCK.reviewReason]: message } }
          : { response_action: 'update', view: notRecorded(message) };
    }
    ctx.jobs.kick();
    await acker.finish(reply, {
      title: 'Revoked',
      text: 'Your decision is recorded; the removal is verified and shown in your list.',
    });
    if (reply === undefined && meta.h)
      await publishHome(ctx, client, userId, '🗑️ Revoked; the removal is verified and shown in your list.');
  });
}
