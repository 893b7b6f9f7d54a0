/**
 * Done on a manual task: one `completeTask` call, committed before the ack. The grantee, and anyone
 * outside the assignee group, is refused (`not_assignee`) in a message only they see.
 */
import type { ListenerRegistry } from '../../listener-router.js';
import { ACTION, isTaskId } from '../../../../../blocks/ids.js';
import { completeTask } from '../../../../operations/complete-task.js';
import { refreshHomeAfter } from '../../app-home.js';
import { Acker, explain, identify, tellEphemeral } from '../../context.js';
import { BlockActionSchema } from '../../payloads.js';

export function register(app: ListenerRegistry): void {
  app.action(ACTION.taskDone, async ({ ack, body, client }, ctx) => {
    const acker = Acker.of(ack, ctx.ackBudgetMs);
    const payload = BlockActionSchema.safeParse(body);
    const taskId = payload.success ? (payload.data.actions[0]?.value ?? '') : '';
    if (!payload.success || !isTaskId(taskId)) return void (await acker.ack());
    const channel = payload.data.container?.channel_id ?? payload.data.channel?.id;
    const where = { ...(channel ? { channel } : {}), user: payload.data.user.id };
    let refusal: string | undefined;
    try {
      await completeTask(ctx.deps, { actor: await identify(ctx, client, where.user), taskId });
    } catch (error) {
      refusal = explain(ctx, error, `complete task ${taskId}`);
    }
    await acker.ack();
    if (refusal) await tellEphemeral(ctx, client, where, refusal);
    // Every copy of the task message, and the grantee's DM, follow from the recorded jobs.
    ctx.jobs.kick();
    await refreshHomeAfter(ctx, client, payload.data, refusal ? undefined : '✅ Task marked done.');
  });
}
