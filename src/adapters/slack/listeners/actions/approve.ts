/**
 * Approve, and Approve for less. Approve is decided at once, committed before the click is acked;
 * a pick in "Approve for less…" opens a small form that names the duration picked, whose
 * submission is the decision. A refusal (not an approver, own request, already decided) is
 * explained in an ephemeral message and changes nothing.
 */
import type { ListenerRegistry } from '../../listener-router.js';
import { duration } from '../../../../../blocks/format.js';
import { ACTION, decodeShorterOption, decodeStepRef } from '../../../../../blocks/ids.js';
import { approveShorterModal } from '../../../../../blocks/modals.js';
import { refreshHomeAfter } from '../../app-home.js';
import { Acker, tellEphemeral } from '../../context.js';
import { decide } from '../../decide.js';
import { BlockActionSchema } from '../../payloads.js';
import { requestCard } from '../../request-card.js';

export function register(app: ListenerRegistry): void {
  app.action(ACTION.approve, async ({ ack, body, client }, ctx) => {
    const acker = Acker.of(ack, ctx.ackBudgetMs);
    const payload = BlockActionSchema.safeParse(body);
    const ref = payload.success ? decodeStepRef(payload.data.actions[0]?.value ?? '') : null;
    if (!payload.success || !ref) {
      await acker.ack();
      return;
    }
    const where = {
      channel: payload.data.container?.channel_id ?? payload.data.channel?.id,
      user: payload.data.user.id,
    };
    const outcome = await decide(ctx, client, { slackUserId: where.user, ref, decision: 'approve' });
    // Acked only now: the decision (or the refusal) is already committed.
    await acker.ack();
    if (!outcome.ok) await tellEphemeral(ctx, client, where, outcome.message);
    else if (acker.late) await tellEphemeral(ctx, client, where, 'Your approval is recorded.');
    ctx.jobs.kick();
    const card = outcome.ok ? await requestCard(ctx.deps, ref.requestId) : undefined;
    const notice = card
      ? `✅ You approved ${card.requester.name}'s request for ${card.appName} ${card.roleName} (${duration(card.grantedSeconds ?? card.requestedSeconds)}).`
      : undefined;
    await refreshHomeAfter(ctx, client, payload.data, notice);
  });

  app.action(ACTION.approveShorter, async ({ ack, body, client }, ctx) => {
    await ack();
    const payload = BlockActionSchema.safeParse(body);
    const picked = payload.success ? decodeShorterOption(payload.data.actions[0]?.selected_option?.value ?? '') : null;
    if (!payload.success || !picked || !payload.data.trigger_id) return;
    const card = await requestCard(ctx.deps, picked.requestId, ctx.display.knownZone(payload.data.user.id));
    if (!card) {
      await tellEphemeral(
        ctx,
        client,
        { channel: payload.data.container?.channel_id, user: payload.data.user.id },
        'This request no longer exists.',
      );
      return;
    }
    // The form shows the request as stored now; who may approve is decided when it is submitted.
    const metadata = JSON.stringify({ r: picked.requestId, s: picked.stepIndex, sec: picked.seconds });
    await client.views.open({
      trigger_id: payload.data.trigger_id,
      view: approveShorterModal(card, picked.stepIndex, picked.seconds, metadata),
    });
  });
}
