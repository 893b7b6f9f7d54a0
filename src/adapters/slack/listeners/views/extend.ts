/** The extension offer's submission: one `extendGrant` call; the form closes and the DM confirms. */
import type { ListenerRegistry } from '../../listener-router.js';
import { ACTION, BLOCK, CALLBACK } from '../../../../../blocks/ids.js';
import { pendingPointerModal } from '../../../../../blocks/modals.js';
import { extendGrant } from '../../../../operations/extend-grant.js';
import { identify, SubmissionAcker } from '../../context.js';
import { ExtendMetadataSchema, parseMetadata, selected, typed, ViewSubmissionSchema } from '../../payloads.js';
import { requestCard } from '../../request-card.js';
import { submissionError, type SubmissionReply } from '../../request-flow.js';

export function register(app: ListenerRegistry): void {
  app.view(CALLBACK.extend, async ({ ack, body, client }, ctx) => {
    const payload = ViewSubmissionSchema.safeParse(body);
    const meta = payload.success ? parseMetadata(ExtendMetadataSchema, payload.data.view.private_metadata) : null;
    if (!payload.success || !meta) return void (await ack());
    const acker = new SubmissionAcker(ack, ctx, client, { viewId: payload.data.view.id, userId: payload.data.user.id });
    const { state } = payload.data.view;
    let reply: SubmissionReply;
    try {
      const result = await extendGrant(ctx.deps, {
        actor: await identify(ctx, client, payload.data.user.id),
        grantId: meta.g,
        addSeconds: Number(selected(state, BLOCK.extendBy, ACTION.extendBy)),
        justification: typed(state, BLOCK.justification, ACTION.justification),
      });
      // Extended, or asked for: the form closes, and the DM says which (the extension, or the request and its
      // approvers).
      if (result.kind === 'already_pending') {
        const card = await requestCard(ctx.deps, result.request, ctx.display.knownZone(payload.data.user.id));
        reply = card ? { response_action: 'update', view: pendingPointerModal(card) } : undefined;
      } else {
        reply = undefined;
      }
    } catch (error) {
      reply = submissionError(ctx, error, { duration: BLOCK.extendBy }, 'extend grant');
    }
    ctx.jobs.kick();
    await acker.finish(reply, {
      title: 'Extension asked',
      text: 'Your extension is recorded; your DM with the bot shows what happens next.',
    });
  });
}
