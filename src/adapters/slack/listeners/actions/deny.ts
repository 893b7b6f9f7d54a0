/** Deny opens the reason modal; the decision itself is the modal's submission. */
import type { ListenerRegistry } from '../../listener-router.js';
import { ACTION, decodeStepRef } from '../../../../../blocks/ids.js';
import { denyReasonModal } from '../../../../../blocks/modals.js';
import { openModal, tellEphemeral } from '../../context.js';
import { fromHome } from '../../app-home.js';
import { BlockActionSchema } from '../../payloads.js';
import { requestCard } from '../../request-card.js';

export function register(app: ListenerRegistry): void {
  app.action(ACTION.deny, async ({ ack, body, client }, ctx) => {
    await ack();
    const payload = BlockActionSchema.safeParse(body);
    const ref = payload.success ? decodeStepRef(payload.data.actions[0]?.value ?? '') : null;
    if (!payload.success || !ref || !payload.data.trigger_id) return;
    const card = await requestCard(ctx.deps, ref.requestId, ctx.display.knownZone(payload.data.user.id));
    if (!card) {
      await tellEphemeral(
        ctx,
        client,
        { channel: payload.data.container?.channel_id, user: payload.data.user.id },
        'This request no longer exists.',
      );
      return;
    }
    // The modal shows the request as stored now; who may deny is decided when it is submitted.
    const channel = payload.data.container?.channel_id;
    const where = { user: payload.data.user.id, ...(channel ? { channel } : {}) };
    const home = fromHome(payload.data) ? { h: 1 } : {};
    const metadata = JSON.stringify({ r: ref.requestId, s: ref.stepIndex, ...home });
    const view = denyReasonModal(card, ref.stepIndex, metadata);
    await openModal(ctx, client, { triggerId: payload.data.trigger_id, view, where });
  });
}
