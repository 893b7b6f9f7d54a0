/**
 * Options for the pickers that switch to an `external_select` when their list outgrows a static
 * select's 100 options: applications (request form, export filter) and a large application's roles.
 */
import type { ListenerRegistry } from '../../listener-router.js';
import { ACTION, BLOCK } from '../../../../../blocks/ids.js';
import { LIMITS, truncate } from '../../../../../blocks/limits.js';
import { identify } from '../../context.js';
import { selectedOrInitial, ViewSchema } from '../../payloads.js';
import { RECENT_GROUPS_MS } from '../../../../operations/directory-facts.js';
import { requestFormModel, searchApps } from '../../request-form.js';

const text = (value: string, max: number) => ({ type: 'plain_text' as const, text: truncate(value, max) });

export function register(app: ListenerRegistry): void {
  for (const actionId of [ACTION.app, ACTION.exportApp]) {
    app.options(actionId, async ({ ack, payload }, ctx) => {
      // The catalog is in memory (policies are read at start): no look-up to cache.
      const apps = searchApps(ctx.deps, payload.value ?? '');
      const options = apps.map((a) => ({ text: text(a.name, LIMITS.optionText), value: a.app }));
      await ack({ options });
    });
  }

  // The roles of the chosen application the person may request, matching what they typed.
  app.options(ACTION.role, async ({ ack, payload, body, client }, ctx) => {
    const view = ViewSchema.safeParse((body as { view?: unknown }).view);
    const appSlug = view.success ? selectedOrInitial(view.data, BLOCK.app, ACTION.app) : undefined;
    if (!appSlug) return void (await ack({ options: [] }));
    try {
      const acting = await identify(ctx, client, payload.user.id);
      // A list to choose from decides nothing (the submission checks again): the form's recent read serves.
      const groups = await ctx.deps.directory.groupsOf(acting.person.id, { maxAgeMs: RECENT_GROUPS_MS });
      const model = requestFormModel(ctx.deps, acting.person, groups, { app: appSlug });
      const q = (payload.value ?? '').trim().toLowerCase();
      const matching = (model.roles ?? []).filter((r) => !q || r.name.toLowerCase().includes(q) || r.role.includes(q));
      const options = matching.slice(0, LIMITS.selectOptions).map((r) => ({
        text: text(r.name, LIMITS.optionText),
        value: r.role,
        description: text(r.summary, LIMITS.optionDescription),
      }));
      await ack({ options });
    } catch {
      await ack({ options: [] });
    }
  });
}
