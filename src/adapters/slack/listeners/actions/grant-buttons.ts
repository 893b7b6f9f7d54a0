/**
 * The expiry loop's buttons (reminder DM, `/access list`, App Home):
 * - Extend… opens the extension offer for the holder (anyone else is told why not);
 * - I'm done gives the access back (committed before the ack);
 * - Request again… opens the request form prefilled with the ended grant's app and role.
 * Refusals (`not_holder`, already ended) are ephemeral and change nothing.
 */
import type { App } from '@slack/bolt';
import { ACTION, isGrantId, isRequestId } from '../../../../../blocks/ids.js';
import { extensionOfferFor } from '../../../../operations/extend-grant.js';
import { relinquishGrant } from '../../../../operations/revoke-grant.js';
import { groupName } from '../../../../../blocks/format.js';
import { refreshHomeAfter } from '../../app-home.js';
import { Acker, explain, identify, tellEphemeral, type SlackContext } from '../../context.js';
import { BlockActionSchema, type BlockAction } from '../../payloads.js';
import { grantLine } from '../../overview.js';
import { offerView, openRequestModal } from '../../request-flow.js';

function grantClick(body: unknown): { payload: BlockAction; grantId: string; where: { channel?: string; user: string } } | null {
  const parsed = BlockActionSchema.safeParse(body);
  const grantId = parsed.success ? parsed.data.actions[0]?.value ?? '' : '';
  if (!parsed.success || !isGrantId(grantId)) return null;
  const channel = parsed.data.container?.channel_id ?? parsed.data.channel?.id;
  return { payload: parsed.data, grantId, where: { ...(channel ? { channel } : {}), user: parsed.data.user.id } };
}

export function register(app: App, ctx: SlackContext): void {
  app.action(ACTION.extendGrant, async ({ ack, body, client }) => {
    await ack();
    const click = grantClick(body);
    if (!click?.payload.trigger_id) return;
    let offer;
    try {
      // Checked before anything opens: a forwarded or forged button shows nobody else's grant.
      offer = extensionOfferFor(ctx.deps, { actor: await identify(ctx, client, click.where.user), grantId: click.grantId });
    } catch (error) {
      await tellEphemeral(ctx, client, click.where, explain(ctx, error, `extend ${click.grantId}`));
      return;
    }
    await client.views.open({ trigger_id: click.payload.trigger_id, view: offerView(ctx, offer.grant, ctx.display.knownZone(click.where.user)) });
  });

  app.action(ACTION.relinquish, async ({ ack, body, client }) => {
    const acker = Acker.of(ack, ctx.ackBudgetMs);
    const click = grantClick(body);
    if (!click) return void (await acker.ack());
    let reply: string;
    try {
      const grant = relinquishGrant(ctx.deps, { actor: await identify(ctx, client, click.where.user), grantId: click.grantId });
      const line = grantLine(ctx.deps, grant);
      const what = `${line.appName} ${line.roleName}`;
      reply = line.removal.kind === 'manual'
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

  app.action(ACTION.rerequest, async ({ ack, body, client }) => {
    await ack();
    const parsed = BlockActionSchema.safeParse(body);
    const value = parsed.success ? parsed.data.actions[0]?.value ?? '' : '';
    if (!parsed.success || !parsed.data.trigger_id || !(isGrantId(value) || isRequestId(value))) return;
    // The form is what `/access request <app> <role>` opens; submitting it is an ordinary request by whoever submits.
    const requestId = isGrantId(value) ? ctx.deps.store.getGrant(value)?.requestId : value;
    const request = requestId ? ctx.deps.store.getRequest(requestId) : undefined;
    await openRequestModal(ctx, client, {
      triggerId: parsed.data.trigger_id, userId: parsed.data.user.id,
      ...(request ? { app: request.app, role: request.role, previousRequestId: request.id } : {}),
    });
  });
}
