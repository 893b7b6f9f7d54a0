/** Opening the App Home tab publishes it, freshly read. */
import type { App } from '@slack/bolt';
import { publishHome } from '../../app-home.js';
import type { SlackContext } from '../../context.js';

export function register(app: App, ctx: SlackContext): void {
  app.event('app_home_opened', async ({ event, client }) => {
    // Only the Home tab; the Messages tab needs nothing from us.
    if (event.tab !== 'home') return;
    await publishHome(ctx, client, event.user);
  });
}
