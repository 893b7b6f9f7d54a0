/** Picking a person in the revoke form lists their grants to choose from. */
import type { ListenerRegistry } from '../../listener-router.js';
import { ACTION } from '../../../../../blocks/ids.js';
import { refreshRevokeForm } from '../../admin-forms.js';
import { BlockActionSchema } from '../../payloads.js';

export function register(app: ListenerRegistry): void {
  app.action(ACTION.revokePerson, async ({ ack, body, client }, ctx) => {
    await ack();
    const payload = BlockActionSchema.safeParse(body);
    if (!payload.success || !payload.data.view) return;
    const picked = (payload.data.actions[0] as { selected_user?: unknown }).selected_user;
    await refreshRevokeForm(ctx, client, {
      adminSlackId: payload.data.user.id,
      view: payload.data.view,
      personSlackId: typeof picked === 'string' && picked ? picked : undefined,
    });
  });
}
