/**
 * The manual provisioning task, one copy per member of the assignee group: what to set up (or
 * remove) for whom, with Done while it is open. Once someone marks it done, every copy shows who
 * and when, and the button goes away. The grantee is never offered the task (and the core refuses
 * their click anyway).
 */
import type { KnownBlock } from '@slack/web-api';
import type { SlackMessage } from './approval-message.js';
import { escapeMrkdwn } from './escape.js';
import { duration, slackDate, who } from './format.js';
import { ACTION, BLOCK } from './ids.js';
import { LIMITS, truncate, truncateMrkdwn } from './limits.js';
import type { TaskView } from './view-models.js';

export function taskMessage(task: TaskView): SlackMessage {
  const what = `${task.appName} ${task.roleName}`;
  const whatMd = `*${escapeMrkdwn(what)}*`;
  const person = `${who(task.holder)} (${escapeMrkdwn(task.holder.email)})`;
  const grant = task.action === 'grant';
  const cancelled = task.status === 'cancelled';
  const why = task.revocationReason ? ` (${escapeMrkdwn(task.revocationReason.replaceAll('_', ' '))})` : '';
  const blocks: KnownBlock[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(`${cancelled ? 'No longer needed' : grant ? 'Set up access' : 'Remove access'}: ${what}`, LIMITS.headerText) } },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncateMrkdwn(
          cancelled
            ? `🚫 *No longer needed*: do not give ${person} ${whatMd}. The access was revoked${why} before anyone set it up; if you already did, remove it again.`
            : grant
              ? `🛠️ Please give ${person} ${whatMd} by hand, then press *Done*. It was approved for *${duration(task.durationSeconds)}*; the clock starts when you press Done.`
              : `🛠️ Please remove ${whatMd} from ${person} by hand, then press *Done*.${task.revocationReason ? ` Why: ${escapeMrkdwn(task.revocationReason.replaceAll('_', ' '))}.` : ''}`,
          LIMITS.sectionText,
        ),
      },
    },
    {
      type: 'context',
      elements: [{ type: 'mrkdwn', text: truncateMrkdwn(`Assigned to the members of \`${escapeMrkdwn(task.assigneeGroup)}\` ${slackDate(task.createdAt, task.timezone)} · anyone in the group but ${who(task.holder)} may mark it done.`, LIMITS.contextText) }],
    },
  ];
  if (task.status === 'open') {
    blocks.push({
      type: 'actions',
      block_id: BLOCK.taskActions,
      elements: [{
        type: 'button',
        action_id: ACTION.taskDone,
        style: 'primary',
        text: { type: 'plain_text', text: 'Done' },
        value: task.taskId,
        confirm: {
          title: { type: 'plain_text', text: grant ? 'Access set up?' : 'Access removed?' },
          text: { type: 'plain_text', text: truncate(grant ? `Confirm that ${task.holder.name} now has ${what}.` : `Confirm that ${what} is removed from ${task.holder.name}.`, LIMITS.confirmText) },
          confirm: { type: 'plain_text', text: 'Done' },
          deny: { type: 'plain_text', text: 'Not yet' },
        },
      }],
    });
  } else if (!cancelled) {
    const by = task.completedBy ? who(task.completedBy) : 'someone';
    const at = task.completedAt ? ` ${slackDate(task.completedAt, task.timezone)}` : '';
    blocks.push({ type: 'section', block_id: 'outcome', text: { type: 'mrkdwn', text: truncateMrkdwn(`✅ *Done* by ${by}${at}. ${grant ? 'The access is active from then.' : 'The access is recorded as removed.'}`, LIMITS.sectionText) } });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Task \`${task.taskId}\` · grant \`${task.grantId}\` · request \`${task.requestId}\`` }] });
  const plain = task.status === 'open'
    ? `${grant ? 'Set up' : 'Remove'} ${what} for ${task.holder.name}, then press Done`
    : task.status === 'cancelled'
      ? `${grant ? 'Set up' : 'Remove'} ${what} for ${task.holder.name}: no longer needed, the access was revoked`
      : `${grant ? 'Set up' : 'Remove'} ${what} for ${task.holder.name}: done by ${task.completedBy?.name ?? 'someone'}`;
  return { text: truncateMrkdwn(escapeMrkdwn(plain), LIMITS.messageText), blocks };
}
