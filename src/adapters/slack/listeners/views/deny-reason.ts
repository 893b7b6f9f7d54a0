/** The Deny reason modal's submission: the decision, committed before the ack. */
import type { ListenerRegistry } from '../../listener-router.js';
import { infoModal } from '../../../../../blocks/modals.js';
import { escapeMrkdwn } from '../../../../../blocks/escape.js';
import { ACTION, BLOCK, CALLBACK } from '../../../../../blocks/ids.js';
import { isAccessError } from '../../../../domain/errors.js';
import { publishHome } from '../../app-home.js';
import { SubmissionAcker } from '../../context.js';
import { decide } from '../../decide.js';
import { DenyMetadataSchema, parseMetadata, typed, ViewSubmissionSchema } from '../../payloads.js';

export function register(app: ListenerRegistry): void {
  app.view(CALLBACK.denyReason, async ({ ack, body, client }, ctx) => {
    const payload = ViewSubmissionSchema.safeParse(body);
    const meta = payload.success ? parseMetadata(DenyMetadataSchema, payload.data.view.private_metadata) : null;
    if (!payload.success || !meta) return void (await ack());
    const acker = new SubmissionAcker(ack, ctx, client, { viewId: payload.data.view.id, userId: payload.data.user.id });
    const outcome = await decide(ctx, client, {
      slackUserId: payload.data.user.id,
      ref: { requestId: meta.r, stepIndex: meta.s },
      decision: 'deny',
      reason: typed(payload.data.view.state, BLOCK.reason, ACTION.reason),
    });
    const reply = outcome.ok
      ? undefined
      : isAccessError(outcome.error, 'reason_required')
        ? { response_action: 'errors' as const, errors: { [BLOCK.reason]: outcome.message } }
        : { response_action: 'update' as const, view: infoModal('Not recorded', escapeMrkdwn(outcome.message)) };
    ctx.jobs.kick();
    await acker.finish(reply, {
      title: 'Denied',
      text: 'Your denial is recorded; the requester is told, with your reason.',
    });
    // Denied from the App Home: the tab drops the request and says so.
    if (outcome.ok && meta.h)
      await publishHome(
        ctx,
        client,
        payload.data.user.id,
        '⛔ You denied the request; the requester reads your reason.',
      );
  });
}
