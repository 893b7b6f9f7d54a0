/**
 * The manual provisioning task, one copy per member of the assignee group: what to set up (or
 * remove) for whom, with Done while it is open. Once someone marks it done, every copy shows who
 * and when, and the button goes away. The grantee is never offered the task (and the core refuses
 * their click anyway).
 */
import type { Button, KnownBlock } from '@slack/web-api';
import type { SlackMessage } from './approval-message.js';
import { escapeMrkdwn, quote } from './escape.js';
import { duration, groupName, slackDate, who } from './format.js';
import { ACTION, BLOCK } from './ids.js';
import { LIMITS, truncate, truncateMrkdwn } from './limits.js';
import type { PersonLabel, TaskView } from './view-models.js';

/** Done on a task, with the confirmation that names what was done. */
export function taskDoneButton(task: {
  taskId: string;
  action: 'grant' | 'revoke';
  holder: PersonLabel;
  appName: string;
  roleName: string;
}): Button {
  const what = `${task.appName} ${task.roleName}`;
  const grant = task.action === 'grant';
  return {
    type: 'button',
    action_id: ACTION.taskDone,
    style: 'primary',
    text: { type: 'plain_text', text: 'Done' },
    value: task.taskId,
    confirm: {
      title: { type: 'plain_text', text: grant ? 'Access set up?' : 'Access removed?' },
      text: {
        type: 'plain_text',
        text: truncate(
          grant
            ? `Confirm that ${task.holder.name} now has ${what}.`
            : `Confirm that ${what} is removed from ${task.holder.name}.`,
          LIMITS.confirmText,
        ),
      },
      confirm: { type: 'plain_text', text: 'Done' },
      deny: { type: 'plain_text', text: 'Not yet' },
    },
  };
}

/** Why the access ends, for the person removing it. */
const ENDS: Record<string, string> = {
  expired: 'it expired',
  relinquished: 'the holder gave it back',
  revoked: 'an admin revoked it',
  offboarded: "the holder's directory account is no longer active",
  removed_externally: 'it was removed outside the bot',
  review: 'an access review revoked it',
};

export function taskMessage(task: TaskView): SlackMessage {
  const what = `${task.appName} ${task.roleName}`;
  const whatMd = `*${escapeMrkdwn(what)}*`;
  const person = `${who(task.holder)} (${escapeMrkdwn(task.holder.email)})`;
  const grant = task.action === 'grant';
  // Cancelled: the grant ended before anyone set it up; nobody may set it up now.
  const cancelled = task.status === 'cancelled';
  const ends = task.revocationReason
    ? ` because ${ENDS[task.revocationReason] ?? escapeMrkdwn(task.revocationReason.replaceAll('_', ' '))}`
    : '';
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncate(
          `${cancelled ? 'No longer needed' : grant ? 'Set up access' : 'Remove access'}: ${what}`,
          LIMITS.headerText,
        ),
      },
    },
    {
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: truncateMrkdwn(
          cancelled
            ? `🚫 *No longer needed*: do not give ${person} ${whatMd}. Before anyone set it up, the access ended${ends}. If you already did, remove it again.`
            : grant
              ? `🛠️ Please give ${person} ${whatMd} by hand, then press *Done*. It was approved for *${duration(task.durationSeconds)}*; the clock starts when you press Done.`
              : `🛠️ Please remove ${whatMd} from ${person} by hand, then press *Done*.${task.revocationReason ? ` It ends because ${ENDS[task.revocationReason] ?? escapeMrkdwn(task.revocationReason.replaceAll('_', ' '))}.` : ''}`,
          LIMITS.sectionText,
        ),
      },
    },
  ];
  if (grant && !cancelled) {
    const why = task.justification.trim()
      ? quote(task.justification.slice(0, LIMITS.sectionText - 60))
      : '>_no justification given_';
    blocks.push({
      type: 'section',
      text: { type: 'mrkdwn', text: truncateMrkdwn(`*Justification*\n${why}`, LIMITS.sectionText) },
    });
  }
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: truncateMrkdwn(
          `Asked of ${escapeMrkdwn(groupName(task.assigneeGroup))} ${slackDate(task.createdAt, task.timezone)} · anyone in the group but ${who(task.holder)} may mark it done.`,
          LIMITS.contextText,
        ),
      },
    ],
  });
  if (task.status === 'open') {
    blocks.push({ type: 'actions', block_id: BLOCK.taskActions, elements: [taskDoneButton(task)] });
  } else if (!cancelled) {
    const by = task.completedBy ? who(task.completedBy) : 'someone';
    const at = task.completedAt ? ` ${slackDate(task.completedAt, task.timezone)}` : '';
    blocks.push({
      type: 'section',
      block_id: 'outcome',
      text: {
        type: 'mrkdwn',
        text: truncateMrkdwn(
          `✅ *Done* by ${by}${at}. ${grant ? 'The access is active from then.' : 'The access is recorded as removed.'}`,
          LIMITS.sectionText,
        ),
      },
    });
  }
  blocks.push({
    type: 'context',
    elements: [
      {
        type: 'mrkdwn',
        text: `Task \`${task.taskId}\` · grant \`${task.grantId}\` · request \`${task.requestId}\` · group \`${escapeMrkdwn(task.assigneeGroup)}\``,
      },
    ],
  });
  const plain =
    task.status === 'open'
      ? `${grant ? 'Set up' : 'Remove'} ${what} for ${task.holder.name}, then press Done`
      : cancelled
        ? `${grant ? 'Set up' : 'Remove'} ${what} for ${task.holder.name}: no longer needed, the access ended`
        : `${grant ? 'Set up' : 'Remove'} ${what} for ${task.holder.name}: done by ${task.completedBy?.name ?? 'someone'}`;
  return { text: truncateMrkdwn(escapeMrkdwn(plain), LIMITS.messageText), blocks };
}
