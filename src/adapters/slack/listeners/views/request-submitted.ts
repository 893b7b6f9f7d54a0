/** The request modal's submission: one `submitRequest` call; refusals become inline errors. */
import type { App } from '@slack/bolt';
import { ACTION, BLOCK, CALLBACK } from '../../../../../blocks/ids.js';
import { submitRequest } from '../../../../operations/submit-request.js';
import { Acker, identify, tellEphemeral, type SlackContext } from '../../context.js';
import { durationBlock, hasInputBlock, selected, typed, ViewSubmissionSchema } from '../../payloads.js';
import { submissionError, submittedReply, type SubmissionReply } from '../../request-flow.js';

export function register(app: App, ctx: SlackContext): void {
  app.view(CALLBACK.request, async ({ ack, body, client }) => {
    const acker = Acker.of(ack, ctx.ackBudgetMs);
    const payload = ViewSubmissionSchema.safeParse(body);
    if (!payload.success) return void (await acker.ack());
    const { state } = payload.data.view;
    const appSlug = selected(state, BLOCK.app, ACTION.app);
    const role = selected(state, BLOCK.role, ACTION.role);
    const seconds = Number(selected(state, BLOCK.duration, ACTION.duration));
    const blocks = { duration: durationBlock(state), role: BLOCK.role };
    if (!appSlug) return void (await acker.ack({ response_action: 'errors', errors: { [BLOCK.app]: 'Choose an application.' } }));
    if (!role) {
      const errors = hasInputBlock(payload.data.view, BLOCK.role) ? { [BLOCK.role]: 'Choose a role.' } : { [BLOCK.app]: 'Choose an application with a role you may request.' };
      return void (await acker.ack({ response_action: 'errors', errors }));
    }
    let reply: SubmissionReply;
    try {
      const requester = await identify(ctx, client, payload.data.user.id);
      const result = await submitRequest(ctx.deps, {
        requester,
        app: appSlug,
        role,
        ...(Number.isInteger(seconds) && seconds > 0 ? { durationSeconds: seconds } : {}),
        justification: typed(state, BLOCK.justification, ACTION.justification),
      });
      reply = await submittedReply(ctx, result);
    } catch (error) {
      reply = submissionError(ctx, error, blocks, 'submit request');
    }
    if (!(await acker.ack(reply)) && reply?.response_action === 'errors') {
      // Too late for inline errors: the modal closed at the budget; say it in a DM instead.
      await tellEphemeral(ctx, client, { user: payload.data.user.id }, `Your request was not submitted: ${Object.values(reply.errors).join(' ')}`);
    }
    ctx.jobs.kick();
  });
}
