/** The extension offer's submission: one `extendGrant` call. */
import type { App } from '@slack/bolt';
import { slackDate } from '../../../../../blocks/format.js';
import { ACTION, BLOCK, CALLBACK } from '../../../../../blocks/ids.js';
import { infoModal, pendingPointerModal } from '../../../../../blocks/modals.js';
import { extendGrant } from '../../../../operations/extend-grant.js';
import { identify, SubmissionAcker, type SlackContext } from '../../context.js';
import { ExtendMetadataSchema, parseMetadata, selected, typed, ViewSubmissionSchema } from '../../payloads.js';
import { requestCard } from '../../request-card.js';
import { submissionError, type SubmissionReply } from '../../request-flow.js';

export function register(app: App, ctx: SlackContext): void {
  app.view(CALLBACK.extend, async ({ ack, body, client }) => {
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
      const tz = ctx.deps.settings.timezone;
      if (result.kind === 'extended') {
        reply = { response_action: 'update', view: infoModal('Extended', `✅ Extended${result.grant.expiresAt ? ` until ${slackDate(result.grant.expiresAt, tz)}` : ''}.`) };
      } else {
        const card = requestCard(ctx.deps, result.request);
        reply = result.kind === 'already_pending' && card
          ? { response_action: 'update', view: pendingPointerModal(card) }
          : { response_action: 'update', view: infoModal('Extension asked', '📨 Your extension goes through the approvals; your DM with the bot shows each step.') };
      }
    } catch (error) {
      reply = submissionError(ctx, error, { duration: BLOCK.extendBy }, 'extend grant');
    }
    ctx.jobs.kick();
    await acker.finish(reply, { title: 'Extension asked', text: 'Your extension is recorded; your DM with the bot shows what happens next.' });
  });
}
