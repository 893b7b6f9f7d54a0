/** The requester's Cancel button: committed before the ack; anyone else is told why not. */
import type { ListenerRegistry } from '../../listener-router.js';
import { ACTION, isRequestId } from '../../../../../blocks/ids.js';
import { cancelRequest } from '../../../../operations/cancel-request.js';
import { refreshHomeAfter } from '../../app-home.js';
import { refreshRequestModal } from '../../request-flow.js';
import { Acker, explain, identify, tellEphemeral } from '../../context.js';
import { BlockActionSchema } from '../../payloads.js';

export function register(app: ListenerRegistry): void {
  app.action(ACTION.cancel, async ({ ack, body, client }, ctx) => {
    const acker = Acker.of(ack, ctx.ackBudgetMs);
    const payload = BlockActionSchema.safeParse(body);
    const requestId = payload.success ? (payload.data.actions[0]?.value ?? '') : '';
    if (!payload.success || !isRequestId(requestId)) {
      await acker.ack();
      return;
    }
    const where = {
      channel: payload.data.container?.channel_id ?? payload.data.channel?.id,
      user: payload.data.user.id,
    };
    let refusal: string | undefined;
    try {
      await cancelRequest(ctx.deps, { actor: await identify(ctx, client, where.user), requestId });
    } catch (error) {
      refusal = explain(ctx, error, `cancel ${requestId}`);
    }
    await acker.ack();
    if (refusal) await tellEphemeral(ctx, client, where, refusal);
    ctx.jobs.kick();
    const view = payload.data.view as { id?: string; hash?: string; type?: string } | undefined;
    if (!refusal && view?.type === 'modal' && view.id) {
      // Cancelled from the request form: the form now offers that role again.
      const request = await ctx.deps.store.getRequest(requestId);
      await refreshRequestModal(ctx, client, {
        viewId: view.id,
        ...(view.hash ? { hash: view.hash } : {}),
        userId: where.user,
        state: { ...(request ? { app: request.app, role: request.role } : {}) },
      });
    }
    await refreshHomeAfter(ctx, client, payload.data, refusal ? undefined : '🚫 Request cancelled.');
  });
}
