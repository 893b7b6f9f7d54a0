/**
 * A reviewer's buttons: Keep (decided before the ack), Revoke… (opens the reason modal at once: a
 * trigger id is good for 3 s), Previous and Next (the list turns to another page), Keep the rest
 * (Slack's own confirmation dialog asked first). Who may decide is checked by the operation, live;
 * a refusal is said to the person and changes nothing. Each click counts as a look at the page it
 * came from (the rubber-stamp signal), and the lists holding the item are updated by the job pump.
 */
import type { ListenerRegistry } from '../../listener-router.js';
import { ACTION, decodeReviewRef } from '../../../../../blocks/ids.js';
import { REVIEW_PAGE_SIZE, reviewRevokeModal } from '../../../../../blocks/review-message.js';
import { infoModal } from '../../../../../blocks/modals.js';
import { escapeMrkdwn } from '../../../../../blocks/escape.js';
import { decideReviewItem, keepRest, turnReviewPage } from '../../../../operations/reviews/decide-review-item.js';
import { accessNames } from '../../../../operations/reviews/review-views.js';
import { accessLabel } from '../../../../domain/reviews/review-records.js';
import { refreshHomeAfter } from '../../app-home.js';
import { Acker, explain, identify, openModal, tellEphemeral } from '../../context.js';
import { BlockActionSchema, type BlockAction } from '../../payloads.js';
import { setReviewPage } from '../../review-pages.js';
import { campaignTerms } from '../../../../domain/reviews/review-version.js';

function click(
  body: unknown,
  prefix: 'rvi' | 'rvc',
): { payload: BlockAction; id: string; page: number; where: { channel?: string; user: string } } | null {
  const parsed = BlockActionSchema.safeParse(body);
  const ref = parsed.success ? decodeReviewRef(parsed.data.actions[0]?.value ?? '', prefix) : null;
  if (!parsed.success || !ref) return null;
  const channel = parsed.data.container?.channel_id ?? parsed.data.channel?.id;
  return {
    payload: parsed.data,
    id: ref.id,
    page: ref.page,
    where: { ...(channel ? { channel } : {}), user: parsed.data.user.id },
  };
}

/** The page the click came from, when it came from a page of the list. */
function seenPage(page: number) {
  return page >= 0 ? { seen: { page, size: REVIEW_PAGE_SIZE } } : {};
}

export function register(app: ListenerRegistry): void {
  app.action(ACTION.reviewKeep, async ({ ack, body, client }, ctx) => {
    const acker = Acker.of(ack, ctx.ackBudgetMs);
    const c = click(body, 'rvi');
    if (!c) return void (await acker.ack());
    let refusal: string | null = null;
    try {
      const actor = await identify(ctx, client, c.where.user);
      await decideReviewItem(ctx.deps, { actor, itemId: c.id, decision: 'keep', ...seenPage(c.page) });
    } catch (error) {
      refusal = explain(ctx, error, `review keep ${c.id}`);
    }
    // Acked only now: the decision (or the refusal) is committed.
    await acker.ack();
    ctx.jobs.kick();
    if (refusal) await tellEphemeral(ctx, client, c.where, refusal);
    await refreshHomeAfter(ctx, client, c.payload, refusal ? undefined : '✅ Kept.');
  });

  app.action(ACTION.reviewRevoke, async ({ ack, body, client }, ctx) => {
    await ack();
    const c = click(body, 'rvi');
    if (!c?.payload.trigger_id) return;
    const item = await ctx.deps.store.getReviewItem(c.id);
    const campaign = item && (await ctx.deps.store.getReviewCampaign(item.campaignId));
    if (!item || !campaign) {
      await tellEphemeral(ctx, client, c.where, 'This review item no longer exists.');
      return;
    }
    // The modal shows the item as stored; whether this person may revoke it is decided on submit.
    const home = c.payload.view && (c.payload.view as { type?: unknown }).type === 'home' ? { h: 1 } : {};
    const view = reviewRevokeModal({
      item,
      accessName: accessNames(ctx.deps.catalog, [item])[accessLabel(item.access)] ?? accessLabel(item.access),
      privateMetadata: JSON.stringify({ i: item.id, p: c.page, ...home }),
      remediate: campaignTerms(campaign).remediate,
    });
    await openModal(ctx, client, { triggerId: c.payload.trigger_id, view, where: c.where });
  });

  for (const direction of ['prev', 'next'] as const) {
    app.action(`${ACTION.reviewPage}:${direction}`, async ({ ack, body, client }, ctx) => {
      await ack();
      const c = click(body, 'rvc');
      if (!c) return;
      try {
        const me = await identify(ctx, client, c.where.user);
        const from = direction === 'next' ? c.page - 1 : c.page + 1;
        await setReviewPage(ctx.deps.store, c.id, me.person.id, c.page, ctx.deps.clock.now().toISOString());
        await turnReviewPage(ctx.deps, {
          reviewerId: me.person.id,
          campaignId: c.id,
          from: { page: Math.max(0, from), size: REVIEW_PAGE_SIZE },
          to: c.page,
        });
        ctx.jobs.kick();
      } catch (error) {
        await tellEphemeral(ctx, client, c.where, explain(ctx, error, `review page ${c.id}`));
      }
    });
  }

  app.action(ACTION.reviewKeepRest, async ({ ack, body, client }, ctx) => {
    const acker = Acker.of(ack, ctx.ackBudgetMs);
    const c = click(body, 'rvc');
    if (!c) return void (await acker.ack());
    let reply: string;
    try {
      const actor = await identify(ctx, client, c.where.user);
      const result = await keepRest(ctx.deps, { actor, campaignId: c.id, ...seenPage(c.page) });
      const skipped = result.skipped.map((s) => `${s.item.holder.name} (${accessLabel(s.item.access)}): ${s.why}`);
      reply =
        `Kept ${result.kept} item${result.kept === 1 ? '' : 's'}.` +
        (skipped.length
          ? ` ${skipped.length} ${skipped.length === 1 ? 'is' : 'are'} no longer yours to decide: ${skipped.slice(0, 5).join('; ')}${skipped.length > 5 ? '; …' : ''}.`
          : '');
    } catch (error) {
      reply = explain(ctx, error, `review keep the rest ${c.id}`);
    }
    await acker.ack();
    ctx.jobs.kick();
    await tellEphemeral(ctx, client, c.where, reply);
  });
}

/** For the Revoke modal's refusals that cannot be shown inline. */
export function notRecorded(message: string) {
  return infoModal('Not recorded', escapeMrkdwn(message));
}
