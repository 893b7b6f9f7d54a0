/** The break-glass forms' submissions: take emergency access, review it, revoke it now. */
import type { ListenerRegistry } from '../../listener-router.js';
import * as z from 'zod';
import { CALLBACK } from '../../../../../blocks/ids.js';
import { submitBreakGlass, submitBreakGlassReview, submitBreakGlassRevoke } from '../../break-glass-flow.js';
import { SubmissionAcker } from '../../context.js';
import { ExtendMetadataSchema, parseMetadata, ViewSubmissionSchema } from '../../payloads.js';

/** The break-glass form remembers the role (slugs only; looked up again in the catalog). */
const RoleMetadataSchema = z.object({
  a: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
  r: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/),
});

export function register(app: ListenerRegistry): void {
  app.view(CALLBACK.breakGlass, async ({ ack, body, client }, ctx) => {
    const payload = ViewSubmissionSchema.safeParse(body);
    const meta = payload.success ? parseMetadata(RoleMetadataSchema, payload.data.view.private_metadata) : null;
    if (!payload.success || !meta) return void (await ack());
    const acker = new SubmissionAcker(ack, ctx, client, { viewId: payload.data.view.id, userId: payload.data.user.id });
    const reply = await submitBreakGlass(ctx, client, {
      userId: payload.data.user.id,
      view: payload.data.view,
      app: meta.a,
      role: meta.r,
    });
    ctx.jobs.kick();
    await acker.finish(reply, {
      title: 'Access granted',
      text: 'Emergency access is being set up now; your DM says when it is active. The security channel was told.',
    });
  });

  app.view(CALLBACK.breakGlassReview, async ({ ack, body, client }, ctx) => {
    const payload = ViewSubmissionSchema.safeParse(body);
    const meta = payload.success ? parseMetadata(ExtendMetadataSchema, payload.data.view.private_metadata) : null;
    if (!payload.success || !meta) return void (await ack());
    const acker = new SubmissionAcker(ack, ctx, client, { viewId: payload.data.view.id, userId: payload.data.user.id });
    const reply = await submitBreakGlassReview(ctx, client, {
      userId: payload.data.user.id,
      view: payload.data.view,
      grantId: meta.g,
    });
    ctx.jobs.kick();
    await acker.finish(reply, {
      title: 'Reviewed',
      text: 'Your review is recorded; the alert in the security channel shows it.',
    });
  });

  app.view(CALLBACK.breakGlassRevoke, async ({ ack, body, client }, ctx) => {
    const payload = ViewSubmissionSchema.safeParse(body);
    const meta = payload.success ? parseMetadata(ExtendMetadataSchema, payload.data.view.private_metadata) : null;
    if (!payload.success || !meta) return void (await ack());
    const acker = new SubmissionAcker(ack, ctx, client, { viewId: payload.data.view.id, userId: payload.data.user.id });
    const reply = await submitBreakGlassRevoke(ctx, client, {
      userId: payload.data.user.id,
      view: payload.data.view,
      grantId: meta.g,
    });
    ctx.jobs.kick();
    await acker.finish(reply, { title: 'Revoked', text: 'The revocation is recorded.' });
  });
}
