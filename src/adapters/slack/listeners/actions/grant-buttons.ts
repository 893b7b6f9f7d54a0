/**
 * The expiry loop's buttons (reminder DM, `/access list`, App Home):
 * - Extend… opens a modal at once (the trigger id is good for 3 s), then fills it with the
 *   extension offer for the holder, or with why not for anyone else;
 * - I'm done gives the access back (committed before the ack);
 * - Request again… opens the request form prefilled with the ended grant's app and role.
 * Refusals (`not_holder`, already ended) are ephemeral and change nothing.
 */
import type { ListenerRegistry } from '../../listener-router.js';
import { ACTION, isGrantId, isRequestId } from '../../../../../blocks/ids.js';
import { extensionOfferFor } from '../../../../operations/extend-grant.js';
import { relinquishGrant } from '../../../../operations/revoke-grant.js';
import { groupName } from '../../../../../blocks/format.js';
import { refreshHomeAfter } from '../../app-home.js';
import { escapeMrkdwn } from '../../../../../blocks/escape.js';
import { infoModal } from '../../../../../blocks/modals.js';
import { Acker, explain, identify, openModal, tellEphemeral } from '../../context.js';
import { platformError } from '../../slack-errors.js';
import { BlockActionSchema, type BlockAction } from '../../payloads.js';
import { grantLine } from '../../overview.js';
import { offerView, openRequestModal } from '../../request-flow.js';

function grantClick(
  body: unknown,
): { payload: BlockAction; grantId: string; where: { channel?: string; user: string } } | null {
  const parsed = BlockActionSchema.safeParse(body);
  const grantId = parsed.success ? (parsed.data.actions[0]?.value ?? '') : '';
  if (!parsed.success || !isGrantId(grantId)) return null;
  const channel = parsed.data.container?.channel_id ?? parsed.data.channel?.id;
  return { payload: parsed.data, grantId, where: { ...(channel ? { channel } : {}), user: parsed.data.user.id } };
}

export function register(app: ListenerRegistry): void {
  app.action(ACTION.extendGrant, async ({ ack, body, client }, ctx) => {
    await ack();
    const click = grantClick(body);
    if (!click?.payload.trigger_id) return;
    // Open first: identifying the person reads Slack and the directory, which may take longer
    // than the trigger id lives. The placeholder shows nobody's grant.
    const checking = infoModal('Extend access', '_Checking your access…_');
    const triggerId = click.payload.trigger_id;
    const opened = await openModal(ctx, client, { triggerId, view: checking, where: click.where });
    if (!opened) return;
    let view;
    try {
      // A forwarded or forged button shows nobody else's grant: only the holder gets the offer.
      const actor = await identify(ctx, client, click.where.user);
      const offer = await extensionOfferFor(ctx.deps, { actor, grantId: click.grantId });
      view = offerView(ctx, offer.grant, ctx.display.knownZone(click.where.user));
    } catch (error) {
      view = infoModal('Cannot extend', escapeMrkdwn(explain(ctx, error, `extend ${click.grantId}`)));
    }
    try {
      await client.views.update({ view_id: opened.id, ...(opened.hash ? { hash: opened.hash } : {}), view });
    } catch (error) {
      if (platformError(error) !== 'hash_conflict') throw error;
    }
  });

  app.action(ACTION.relinquish, async ({ ack, body, client }, ctx) => {
    const acker = Acker.of(ack, ctx.ackBudgetMs);
    const click = grantClick(body);
    if (!click) return void (await acker.ack());
    let reply: string;
    try {
      const grant = await relinquishGrant(ctx.deps, {
        actor: await identify(ctx, client, click.where.user),
        grantId: click.grantId,
      });
      const line = grantLine(ctx.deps, grant);
      const what = `${line.appName} ${line.roleName}`;
      reply =
        line.removal.kind === 'manual'
          ? `Giving back ${what}: someone from ${groupName(line.removal.assigneeGroup)} is asked to remove it now; you will get a message when it is done.`
          : `Giving back ${what} now; you will get a message when it is removed.`;
    } catch (error) {
      reply = explain(ctx, error, `relinquish ${click.grantId}`);
    }
    // Acked only now: the revocation (or the refusal) is committed.
    await acker.ack();
    await tellEphemeral(ctx, client, click.where, reply);
    ctx.jobs.kick();
    await refreshHomeAfter(ctx, client, click.payload);
  });

  app.action(ACTION.rerequest, async ({ ack, body, client }, ctx) => {
    await ack();
    const parsed = BlockActionSchema.safeParse(body);
    const value = parsed.success ? (parsed.data.actions[0]?.value ?? '') : '';
    if (!parsed.success || !parsed.data.trigger_id || !(isGrantId(value) || isRequestId(value))) return;
    // The form is what `/access request <app> <role>` opens; submitting it is an ordinary request by whoever submits.
    const requestId = isGrantId(value) ? (await ctx.deps.store.getGrant(value))?.requestId : value;
    const request = requestId ? await ctx.deps.store.getRequest(requestId) : undefined;
    const channel = parsed.data.container?.channel_id ?? parsed.data.channel?.id;
    await openRequestModal(ctx, client, {
      triggerId: parsed.data.trigger_id,
      userId: parsed.data.user.id,
      ...(channel ? { channel } : {}),
      ...(request ? { app: request.app, role: request.role, previousRequestId: request.id } : {}),
    });
  });
}
