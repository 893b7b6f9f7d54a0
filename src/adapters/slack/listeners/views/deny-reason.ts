/** The Deny reason modal's submission: the decision, committed before the ack. */
import type { App } from '@slack/bolt';
import { infoModal } from '../../../../../blocks/modals.js';
import { escapeMrkdwn } from '../../../../../blocks/escape.js';
import { ACTION, BLOCK, CALLBACK } from '../../../../../blocks/ids.js';
import { isAccessError } from '../../../../domain/errors.js';
import { publishHome } from '../../app-home.js';
import { Acker, tellEphemeral, type SlackContext } from '../../context.js';
import { decide } from '../../decide.js';
import { DenyMetadataSchema, parseMetadata, typed, ViewSubmissionSchema } from '../../payloads.js';

export function register(app: App, ctx: SlackContext): void {
  app.view(CALLBACK.denyReason, async ({ ack, body, client }) => {
    const acker = Acker.of(ack, ctx.ackBudgetMs);
    const payload = ViewSubmissionSchema.safeParse(body);
    const meta = payload.success ? parseMetadata(DenyMetadataSchema, payload.data.view.private_metadata) : null;
    if (!payload.success || !meta) return void (await acker.ack());
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
    if (!(await acker.ack(reply)) && !outcome.ok) await tellEphemeral(ctx, client, { user: payload.data.user.id }, outcome.message);
    ctx.jobs.kick();
    // Denied from the App Home: the tab drops the request and says so.
    if (outcome.ok && meta.h) await publishHome(ctx, client, payload.data.user.id, '⛔ You denied the request; the requester reads your reason.');
  });
}
