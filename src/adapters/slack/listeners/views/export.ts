/**
 * The export form's submission: filters and admin membership are checked before the ack (inline
 * errors); the CSV is built and uploaded to the admin's DM after it.
 */
import type { ListenerRegistry } from '../../listener-router.js';
import { CALLBACK } from '../../../../../blocks/ids.js';
import { submitExport } from '../../admin-forms.js';
import { SubmissionAcker } from '../../context.js';
import { ViewSubmissionSchema } from '../../payloads.js';

export function register(app: ListenerRegistry): void {
  app.view(CALLBACK.export, async ({ ack, body, client }, ctx) => {
    const payload = ViewSubmissionSchema.safeParse(body);
    if (!payload.success) return void (await ack());
    const acker = new SubmissionAcker(ack, ctx, client, { viewId: payload.data.view.id, userId: payload.data.user.id });
    const { reply, afterAck } = await submitExport(ctx, client, {
      adminSlackId: payload.data.user.id,
      view: payload.data.view,
    });
    await acker.finish(reply, { title: 'Export started', text: 'The CSV arrives in your DM with the bot.' });
    await afterAck?.();
  });
}
