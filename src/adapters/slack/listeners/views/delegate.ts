/** The delegate form's submission: one `delegateApprovals` call; problems inline. */
import type { ListenerRegistry } from '../../listener-router.js';
import { CALLBACK } from '../../../../../blocks/ids.js';
import { SubmissionAcker } from '../../context.js';
import { submitDelegate } from '../../delegate-flow.js';
import { ViewSubmissionSchema } from '../../payloads.js';

export function register(app: ListenerRegistry): void {
  app.view(CALLBACK.delegate, async ({ ack, body, client }, ctx) => {
    const payload = ViewSubmissionSchema.safeParse(body);
    if (!payload.success) return void (await ack());
    const acker = new SubmissionAcker(ack, ctx, client, { viewId: payload.data.view.id, userId: payload.data.user.id });
    const reply = await submitDelegate(ctx, client, { userId: payload.data.user.id, view: payload.data.view });
    ctx.jobs.kick();
    await acker.finish(reply, { title: 'Delegated', text: 'Your delegation is recorded.' });
  });
}
