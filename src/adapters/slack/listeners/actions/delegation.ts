/** End delegation, on the App Home: the same as `/access delegate off`. */
import type { ListenerRegistry } from '../../listener-router.js';
import { ACTION } from '../../../../../blocks/ids.js';
import { publishHome } from '../../app-home.js';
import { explain } from '../../context.js';
import { delegationOff } from '../../delegate-flow.js';
import { BlockActionSchema } from '../../payloads.js';

export function register(app: ListenerRegistry): void {
  app.action(ACTION.endDelegation, async ({ ack, body, client }, ctx) => {
    await ack();
    const payload = BlockActionSchema.safeParse(body);
    if (!payload.success) return;
    let notice: string;
    try {
      notice = await delegationOff(ctx, client, payload.data.user.id);
    } catch (error) {
      notice = `⚠️ ${explain(ctx, error, 'end delegation')}`;
    }
    await publishHome(ctx, client, payload.data.user.id, notice);
  });
}
