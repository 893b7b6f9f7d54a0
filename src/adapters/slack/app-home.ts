/**
 * Publishes a person's App Home from stored state and the live directory. Called when they open
 * the tab, and again after a button pressed on the tab changed something (with a line saying what
 * happened), so it never shows a grant or an approval that is gone.
 */
import type { WebClient } from '@slack/web-api';
import { homeView } from '../../../blocks/home.js';
import { explain, identify, type SlackContext } from './context.js';
import { homeModel } from './overview.js';
import { markSeen } from '../../operations/reviews/decide-review-item.js';
import type { BlockAction } from './payloads.js';

export async function publishHome(
  ctx: SlackContext,
  client: WebClient,
  slackUserId: string,
  notice?: string,
): Promise<void> {
  let view;
  try {
    const me = await identify(ctx, client, slackUserId);
    const model = await homeModel(ctx.deps, me.person, slackUserId, ctx.display, ctx.display.knownZone(slackUserId));
    view = homeView({ ...model, ...(notice ? { notice } : {}) });
    // The review items on the tab are in front of the person now: their first look at them.
    await markSeen(
      ctx.deps,
      me.person.id,
      (model.reviews?.campaigns ?? []).flatMap((c) => c.items.map((i) => i.id)),
    );
  } catch (error) {
    const problem = explain(ctx, error, 'app home');
    view = homeView({
      person: { name: 'you', email: '' },
      grants: [],
      requests: [],
      approvals: [],
      catalog: [],
      tasks: [],
      admin: false,
      holdings: null,
      problem,
      timezone: ctx.display.knownZone(slackUserId),
    });
  }
  try {
    await client.views.publish({ user_id: slackUserId, view });
  } catch (error) {
    ctx.deps.logger.warn('views.publish failed', {
      slackUserId,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

/** Whether a click came from the App Home tab (then the tab is refreshed after it). */
export function fromHome(action: BlockAction): boolean {
  return (action.view as { type?: unknown } | undefined)?.type === 'home';
}

/**
 * Refreshes the tab after a click on it, saying what the click did (`notice`); never throws (the
 * click itself already happened).
 */
export async function refreshHomeAfter(
  ctx: SlackContext,
  client: WebClient,
  action: BlockAction,
  notice?: string,
): Promise<void> {
  if (fromHome(action)) await publishHome(ctx, client, action.user.id, notice);
}
