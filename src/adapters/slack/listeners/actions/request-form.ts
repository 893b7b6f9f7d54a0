/** Picking an application or a role in the request modal refreshes it (roles, durations, justification). */
import type { ListenerRegistry } from '../../listener-router.js';
import { ACTION, BLOCK } from '../../../../../blocks/ids.js';
import { BlockActionSchema, selectedOrInitial } from '../../payloads.js';
import { refreshRequestModal } from '../../request-flow.js';

export function register(app: ListenerRegistry): void {
  for (const actionId of [ACTION.app, ACTION.role]) {
    app.action(actionId, async ({ ack, body, client }, ctx) => {
      await ack();
      const payload = BlockActionSchema.safeParse(body);
      if (!payload.success || !payload.data.view) return;
      const { view, user } = payload.data;
      const picked = payload.data.actions[0]?.selected_option?.value;
      const appSlug = actionId === ACTION.app ? picked : selectedOrInitial(view, BLOCK.app, ACTION.app);
      const role = actionId === ACTION.role ? picked : undefined;
      await refreshRequestModal(ctx, client, {
        viewId: view.id,
        hash: view.hash,
        userId: user.id,
        state: { app: appSlug, role },
      });
    });
  }
}
