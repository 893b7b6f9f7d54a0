/** "Approve for less": the confirmation that names the duration picked; its submission is the decision. */
import type { ListenerRegistry } from '../../listener-router.js';
import { escapeMrkdwn } from '../../../../../blocks/escape.js';
import { CALLBACK } from '../../../../../blocks/ids.js';
import { infoModal } from '../../../../../blocks/modals.js';
import { Acker, tellEphemeral } from '../../context.js';
import { decide } from '../../decide.js';
import { parseMetadata, ShorterMetadataSchema, ViewSubmissionSchema } from '../../payloads.js';

export function register(app: ListenerRegistry): void {
  app.view(CALLBACK.approveShorter, async ({ ack, body, client }, ctx) => {
    const acker = Acker.of(ack, ctx.ackBudgetMs);
    const payload = ViewSubmissionSchema.safeParse(body);
    const meta = payload.success ? parseMetadata(ShorterMetadataSchema, payload.data.view.private_metadata) : null;
    if (!payload.success || !meta) return void (await acker.ack());
    const outcome = await decide(ctx, client, {
      slackUserId: payload.data.user.id,
      ref: { requestId: meta.r, stepIndex: meta.s },
      decision: 'approve',
      shortenToSeconds: meta.sec,
    });
    // Decided: the form closes, and every copy of the approval message shows the outcome.
    const reply = outcome.ok
      ? undefined
      : { response_action: 'update' as const, view: infoModal('Not recorded', escapeMrkdwn(outcome.message)) };
    if (!(await acker.ack(reply)) && !outcome.ok)
      await tellEphemeral(ctx, client, { user: payload.data.user.id }, outcome.message);
    ctx.jobs.kick();
  });
}
