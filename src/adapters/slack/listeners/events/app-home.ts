/** Opening the App Home tab publishes it, freshly read. */
import type { ListenerRegistry } from '../../listener-router.js';
import { publishHome } from '../../app-home.js';

export function register(app: ListenerRegistry): void {
  app.event('app_home_opened', async ({ event, client }, ctx) => {
    // Only the Home tab; the Messages tab needs nothing from us.
    if (event.tab !== 'home') return;
    await publishHome(ctx, client, event.user);
  });
}
