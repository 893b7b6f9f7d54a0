/** The request modal's submission: one `submitRequest` call; refusals become inline errors. */
import type { ListenerRegistry } from '../../listener-router.js';
import { ACTION, BLOCK, CALLBACK } from '../../../../../blocks/ids.js';
import { submitRequest } from '../../../../operations/submit-request.js';
import { identify, SubmissionAcker } from '../../context.js';
import { durationBlock, hasInputBlock, selected, typed, ViewSubmissionSchema } from '../../payloads.js';
import { submissionError, submittedReply, type SubmissionReply } from '../../request-flow.js';

export function register(app: ListenerRegistry): void {
  app.view(CALLBACK.request, async ({ ack, body, client }, ctx) => {
    const payload = ViewSubmissionSchema.safeParse(body);
    if (!payload.success) return void (await ack());
    const acker = new SubmissionAcker(ack, ctx, client, { viewId: payload.data.view.id, userId: payload.data.user.id });
    const { state } = payload.data.view;
    const appSlug = selected(state, BLOCK.app, ACTION.app);
    const role = selected(state, BLOCK.role, ACTION.role);
    const seconds = Number(selected(state, BLOCK.duration, ACTION.duration));
    const blocks = { duration: durationBlock(state), role: BLOCK.role };
    if (!appSlug)
      return void (await acker.ack({ response_action: 'errors', errors: { [BLOCK.app]: 'Choose an application.' } }));
    if (!role) {
      const errors: Record<string, string> = hasInputBlock(payload.data.view, BLOCK.role)
        ? { [BLOCK.role]: 'Choose a role.' }
        : { [BLOCK.app]: 'Choose an application with a role you may request.' };
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
    ctx.jobs.kick();
    await acker.finish(reply, {
      title: 'Request sent',
      text: 'Your request was submitted; your DM with the bot shows each step.',
    });
  });
}
