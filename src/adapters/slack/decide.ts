/** An approver's click or Deny form, as one `reviewRequest` call by the identified person. */
import type { WebClient } from '@slack/web-api';
import type { StepRef } from '../../../blocks/ids.js';
import { reviewRequest, type ReviewResult } from '../../operations/review-request.js';
import { explain, identify, type SlackContext } from './context.js';

export type DecideOutcome = { ok: true; result: ReviewResult } | { ok: false; error: unknown; message: string };

export async function decide(
  ctx: SlackContext,
  client: WebClient,
  input: {
    slackUserId: string;
    ref: StepRef;
    decision: 'approve' | 'deny';
    reason?: string;
    shortenToSeconds?: number;
  },
): Promise<DecideOutcome> {
  try {
    const actor = await identify(ctx, client, input.slackUserId);
    const result = await reviewRequest(ctx.deps, {
      actor,
      requestId: input.ref.requestId,
      stepIndex: input.ref.stepIndex,
      decision: input.decision,
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
      ...(input.shortenToSeconds !== undefined ? { shortenToSeconds: input.shortenToSeconds } : {}),
    });
    return { ok: true, result };
  } catch (error) {
    return { ok: false, error, message: explain(ctx, error, `${input.decision} ${input.ref.requestId}`) };
  }
}
