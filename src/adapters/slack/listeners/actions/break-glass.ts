/**
 * Break-glass buttons: Emergency access… in the request form (the form becomes the break-glass
 * form), and Review… / Revoke now… on an alert (each opens its form; who may is decided on submit).
 */
import type { ListenerRegistry } from '../../listener-router.js';
import { ACTION, decodeRoleRef, isGrantId } from '../../../../../blocks/ids.js';
import { breakGlassActionView, breakGlassFormView } from '../../break-glass-flow.js';
import { openModal } from '../../context.js';
import { updateView } from '../../open-checked.js';
import { BlockActionSchema } from '../../payloads.js';

export function register(app: ListenerRegistry): void {
  app.action(ACTION.openBreakGlass, async ({ ack, body, client }, ctx) => {
    await ack();
    const payload = BlockActionSchema.safeParse(body);
    const ref = payload.success ? decodeRoleRef(payload.data.actions[0]?.value ?? '') : null;
    if (!payload.success || !ref || !payload.data.view) return;
    const view = await breakGlassFormView(ctx, client, payload.data.user.id, ref.app, ref.role);
    await updateView(client, payload.data.view.id, payload.data.view.hash, view);
  });

  for (const [actionId, which] of [
    [ACTION.reviewBreakGlass, 'review'],
    [ACTION.revokeBreakGlass, 'revoke'],
  ] as const) {
    app.action(actionId, async ({ ack, body, client }, ctx) => {
      await ack();
      const payload = BlockActionSchema.safeParse(body);
      const grantId = payload.success ? (payload.data.actions[0]?.value ?? '') : '';
      if (!payload.success || !isGrantId(grantId) || !payload.data.trigger_id) return;
      const channel = payload.data.container?.channel_id;
      const where = { user: payload.data.user.id, ...(channel ? { channel } : {}) };
      const view = await breakGlassActionView(ctx, payload.data.user.id, grantId, which);
      await openModal(ctx, client, { triggerId: payload.data.trigger_id, view, where });
    });
  }
}
