/** The application picker's options when there are more applications than fit a static select. */
import type { App } from '@slack/bolt';
import { ACTION } from '../../../../../blocks/ids.js';
import { LIMITS, truncate } from '../../../../../blocks/limits.js';
import type { SlackContext } from '../../context.js';
import { searchApps } from '../../request-form.js';

export function register(app: App, ctx: SlackContext): void {
  app.options(ACTION.app, async ({ ack, payload }) => {
    // The catalog is in memory (policies are read at start): no look-up to cache.
    const options = searchApps(ctx.deps, payload.value ?? '').map((a) => ({ text: { type: 'plain_text' as const, text: truncate(a.name, LIMITS.optionText) }, value: a.app }));
    await ack({ options });
  });
}
