/** The App Home's buttons that open forms: Request… on a catalog role, and the admins' Export and Revoke. */
import type { ListenerRegistry } from '../../listener-router.js';
import { ACTION, decodeRoleRef } from '../../../../../blocks/ids.js';
import { openExportForm, openRevokeForm } from '../../admin-forms.js';
import { BlockActionSchema } from '../../payloads.js';
import { openRequestModal } from '../../request-flow.js';

export function register(app: ListenerRegistry): void {
  app.action(ACTION.requestRole, async ({ ack, body, client }, ctx) => {
    await ack();
    const payload = BlockActionSchema.safeParse(body);
    const ref = payload.success ? decodeRoleRef(payload.data.actions[0]?.value ?? '') : null;
    if (!payload.success || !payload.data.trigger_id) return;
    // An unknown app in a forged value opens the empty form; the catalog decides what is offered.
    const known = ref && ctx.deps.catalog.find(ref.app, ref.role) ? ref : null;
    await openRequestModal(ctx, client, {
      triggerId: payload.data.trigger_id,
      userId: payload.data.user.id,
      ...(known ? { app: known.app, role: known.role } : {}),
    });
  });

  for (const [actionId, open] of [
    [ACTION.openExport, openExportForm],
    [ACTION.openRevoke, openRevokeForm],
  ] as const) {
    app.action(actionId, async ({ ack, body, client }, ctx) => {
      await ack();
      const payload = BlockActionSchema.safeParse(body);
      if (!payload.success || !payload.data.trigger_id) return;
      await open(ctx, client, { triggerId: payload.data.trigger_id, userId: payload.data.user.id });
    });
  }
}
