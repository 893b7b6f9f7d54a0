/**
 * The message an approver sees for one step of a request: a DM per approver, or one message in a
 * `notify:` channel. While the step is open it carries Approve, Approve for less and Deny; once the
 * step is decided (or the request ended) every copy shows the outcome and who decided, and no
 * buttons.
 */
import type { ActionsBlock, KnownBlock, PlainTextOption } from '@slack/web-api';
import { DURATION_PRESETS_SECONDS } from '../src/domain/duration.js';
import { escapeMrkdwn, mention } from './escape.js';
import {
  approvals,
  decidedStepLine,
  decider,
  deciderName,
  deciders,
  duration,
  effectiveSeconds,
  escalationLine,
  list,
  progressLine,
  shortVersion,
  slackDate,
  stepTitle,
} from './format.js';
import { ACTION, BLOCK, encodeShorterOption, encodeStepRef } from './ids.js';
import { LIMITS, capList, fitTextBudget, truncate, truncateMrkdwn } from './limits.js';
import type { ApprovalAudience, DecisionView, RequestCard, StepView } from './view-models.js';
import { quoteInline } from './block-parts.js';

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** Room left in a section for the justification after its label. */
const JUSTIFICATION_ROOM = LIMITS.sectionText - 40;
/** Earlier steps listed one per line; a long chain is summarised. */
const EARLIER_STEPS_SHOWN = 10;

export function approvalMessage(
  card: RequestCard,
  stepIndex: number,
  audience: ApprovalAudience,
  options: { reminderAfterSeconds?: number } = {},
): SlackMessage {
  const step = card.steps.find((s) => s.index === stepIndex);
  if (!step) throw new Error(`request ${card.id} has no step ${stepIndex}`);
  const total = card.steps.length;
  const open = card.status === 'pending_approval' && step.status === 'open' && card.currentStep === step.index;
  // What this reader decided (or their delegate did for them, or they did for the approver they stand in for).
  const mine =
    audience.kind === 'person'
      ? step.decisions.find(
          (d) =>
            d.person.directoryId === audience.directoryId ||
            d.onBehalfOf?.directoryId === audience.directoryId ||
            (audience.forPerson !== undefined && d.onBehalfOf?.directoryId === audience.forPerson.directoryId),
        )
      : undefined;
  const reminder = open && !mine && options.reminderAfterSeconds !== undefined;

  const blocks: KnownBlock[] = [];
  if (reminder) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: `⏰ *Reminder*: this has waited *${duration(options.reminderAfterSeconds!)}* for a decision.`,
      },
    });
  }
  blocks.push({
    type: 'header',
    text: {
      type: 'plain_text',
      text: truncate(`Access request: ${card.appName} · ${card.roleName}`, LIMITS.headerText),
    },
  });
  const kind = card.kind === 'extension' ? 'an extension of' : '';
  blocks.push({
    type: 'section',
    text: {
      type: 'mrkdwn',
      text: truncateMrkdwn(
        `${mention(card.requester)} (${escapeMrkdwn(card.requester.email)}) asks for ${kind ? `${kind} ` : ''}*${escapeMrkdwn(card.appName)} ${escapeMrkdwn(card.roleName)}* for *${duration(card.requestedSeconds)}*.`,
        LIMITS.sectionText,
      ),
    },
  });
  const shortened =
    card.grantedSeconds !== null && card.grantedSeconds !== card.requestedSeconds
      ? `, shortened to ${duration(card.grantedSeconds)} by an earlier approver`
      : '';
  blocks.push({
    type: 'section',
    fields: [
      {
        type: 'mrkdwn',
        text: truncateMrkdwn(`*Duration*\n${duration(card.requestedSeconds)}${shortened}`, LIMITS.fieldText),
      },
      {
        type: 'mrkdwn',
        text: truncateMrkdwn(
          `*Policy*\n\`${escapeMrkdwn(card.policyName)}\` version \`${shortVersion(card.policyVersion)}\``,
          LIMITS.fieldText,
        ),
      },
      { type: 'mrkdwn', text: truncateMrkdwn(`*Step*\n${stepTitle(step, total)}`, LIMITS.fieldText) },
      {
        type: 'mrkdwn',
        text: truncateMrkdwn(`*Asked*\n${slackDate(card.createdAt, card.timezone)}`, LIMITS.fieldText),
      },
    ],
  });
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: justificationText(card.justification) } });

  const earlier = card.steps.filter((s) => s.index < step.index && (s.status === 'approved' || s.status === 'denied'));
  if (earlier.length) {
    const lines = capList(
      earlier.map(decidedStepLine),
      EARLIER_STEPS_SHOWN,
      (n) => `…and ${n} more step${n === 1 ? '' : 's'}`,
    );
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: truncateMrkdwn(`Earlier steps:\n${lines.join('\n')}`, LIMITS.contextText) }],
    });
  }
  if (step.fallbackReason) {
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: truncateMrkdwn(`Admin fallback: ${escapeMrkdwn(step.fallbackReason)}`, LIMITS.contextText),
        },
      ],
    });
  }
  const escalation = escalationLine(step, card.timezone, open);
  if (escalation)
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: truncateMrkdwn(escalation, LIMITS.contextText) }],
    });
  if (audience.kind === 'person' && audience.forPerson && open && !mine) {
    const them = escapeMrkdwn(audience.forPerson.name);
    blocks.push({
      type: 'context',
      elements: [
        {
          type: 'mrkdwn',
          text: truncateMrkdwn(
            `🤝 You are asked in place of ${them}, who delegated their approvals to you: your decision is recorded as yours, for ${them}.`,
            LIMITS.contextText,
          ),
        },
      ],
    });
  }
  // Progress matters while the quorum fills; once decided, the outcome line names everyone.
  if (step.required > 1 && step.status === 'open') {
    blocks.push({
      type: 'section',
      block_id: 'progress',
      text: { type: 'mrkdwn', text: truncateMrkdwn(progressLine(step), LIMITS.sectionText) },
    });
  }

  if (open && !mine) {
    blocks.push(approvalActions(card, step));
  } else {
    blocks.push({
      type: 'section',
      block_id: 'outcome',
      text: {
        type: 'mrkdwn',
        text: truncateMrkdwn(open && mine ? yourDecision(mine, audience) : outcomeLine(card, step), LIMITS.sectionText),
      },
    });
  }
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Request \`${card.id}\`` }] });

  // The fallback text is what a phone's notification shows: who, what and how long, in one line.
  // It is parsed for mentions too (notifications, screen readers): escaped as well.
  const asks = `${card.requester.name} asks for ${card.kind === 'extension' ? 'an extension of ' : ''}${card.appName} ${card.roleName} for ${duration(effectiveSeconds(card))}`;
  const text = reminder
    ? `Reminder: ${asks}, waiting ${duration(options.reminderAfterSeconds!)} for your decision (step ${step.index + 1} of ${total})`
    : open
      ? `${asks} (step ${step.index + 1} of ${total})`
      : `${card.requester.name}'s ${card.appName} ${card.roleName} for ${duration(effectiveSeconds(card))}: ${plainOutcome(card, step)}`;
  const fitted = fitTextBudget(blocks.slice(0, LIMITS.messageBlocks));
  return { text: truncateMrkdwn(escapeMrkdwn(text), LIMITS.messageText), blocks: fitted };
}

function justificationText(justification: string): string {
  if (!justification.trim()) return '*Justification*\n_none given_';
  // Escape first, then cut without splitting an entity, then quote (the quote marks are ours).
  const escaped = truncateMrkdwn(escapeMrkdwn(justification), JUSTIFICATION_ROOM);
  const quoted = escaped
    .split('\n')
    .map((line) => `>${line}`)
    .join('\n');
  return truncateMrkdwn(`*Justification*\n${quoted}`, LIMITS.sectionText);
}

function approvalActions(card: RequestCard, step: StepView): ActionsBlock {
  const ref = { requestId: card.id, stepIndex: step.index };
  const current = effectiveSeconds(card);
  const shorter = DURATION_PRESETS_SECONDS.filter((s) => s < current).slice(-LIMITS.selectOptions);
  const elements: ActionsBlock['elements'] = [
    {
      type: 'button',
      action_id: ACTION.approve,
      style: 'primary',
      text: { type: 'plain_text', text: truncate(`Approve ${duration(current)}`, LIMITS.buttonText) },
      value: encodeStepRef(ref),
    },
  ];
  if (shorter.length) {
    // No confirm dialog here: Slack's confirm cannot name the pick. The pick opens a small form that does.
    elements.push({
      type: 'static_select',
      action_id: ACTION.approveShorter,
      placeholder: { type: 'plain_text', text: 'Approve for less…' },
      options: shorter.map((s): PlainTextOption => ({
        text: { type: 'plain_text', text: truncate(duration(s), LIMITS.optionText) },
        value: encodeShorterOption(ref, s),
      })),
    });
  }
  elements.push({
    type: 'button',
    action_id: ACTION.deny,
    style: 'danger',
    text: { type: 'plain_text', text: 'Deny…' },
    value: encodeStepRef(ref),
  });
  return { type: 'actions', block_id: BLOCK.approvalActions, elements };
}

function yourDecision(mine: DecisionView, audience: ApprovalAudience): string {
  const me = audience.kind === 'person' ? audience.directoryId : '';
  if (mine.person.directoryId !== me) {
    // Someone else decided in the reader's place (their delegate), or for the person the reader stands in for.
    return `${mine.decision === 'approve' ? '✅' : '⛔'} ${decider(mine)} ${mine.decision === 'approve' ? 'approved' : 'denied'}. Nothing left for you to decide here.`;
  }
  const forWhom = mine.onBehalfOf ? ` for ${escapeMrkdwn(mine.onBehalfOf.name)}` : '';
  return mine.decision === 'approve'
    ? `✅ You approved${forWhom}. Waiting for the other approvals.`
    : `⛔ You denied this request${forWhom}.`;
}

/** The outcome line every copy of a decided step shows. */
export function outcomeLine(card: RequestCard, step: StepView): string {
  const denied = step.decisions.find((d) => d.decision === 'deny');
  if (step.status === 'approved') {
    const yes = approvals(step);
    const shortest = yes
      .map((d) => d.shortenedToSeconds)
      .filter((s): s is number => s !== null)
      .sort((a, b) => a - b)[0];
    return `✅ *Approved* by ${deciders(yes)}${shortest !== undefined ? `, for ${duration(shortest)} (asked: ${duration(card.requestedSeconds)})` : ''}.`;
  }
  if (denied) return `⛔ *Denied* by ${decider(denied)}: ${quoteInline(denied.reason ?? '')}`;
  switch (card.status) {
    case 'cancelled':
      return '🚫 *Cancelled* by the requester. Nothing to decide.';
    case 'approval_expired':
      return `⌛ *Expired*: nobody decided before ${slackDate(card.approvalDeadline, card.timezone)}.`;
    case 'denied':
      return `⛔ *Closed*: ${escapeMrkdwn(card.decisionReason ?? 'the request was denied')}.`;
    case 'approved':
      return '✅ *Approved*.';
    default:
      return step.status === 'waiting' ? 'Waiting for earlier steps.' : 'This step is closed.';
  }
}

function plainOutcome(card: RequestCard, step: StepView): string {
  const denied = step.decisions.find((d) => d.decision === 'deny');
  if (step.status === 'approved') return `approved by ${approvals(step).map(deciderName).join(', ')}`;
  if (denied) return `denied by ${deciderName(denied)}`;
  if (step.status === 'open') return `${approvals(step).length} of ${step.required} approvals`;
  return card.status.replaceAll('_', ' ');
}

/**
 * The step escalated: a short notice to its earlier approvers (a DM each, or a reply under the
 * channel message), who may still decide. The request message itself shows the escalation too.
 */
export function escalationNotice(card: RequestCard, stepIndex: number): SlackMessage {
  const step = card.steps.find((s) => s.index === stepIndex);
  if (!step) throw new Error(`request ${card.id} has no step ${stepIndex}`);
  const what = `${card.appName} ${card.roleName}`;
  const after = step.approver.escalation ? duration(step.approver.escalation.afterSeconds) : 'the time allowed';
  const added = step.escalationNames?.length ? list(step.escalationNames.map(escapeMrkdwn)) : 'nobody else';
  const open = card.status === 'pending_approval' && step.status === 'open';
  const still = open ? ' You can still decide it: the request is in the message above.' : ` ${outcomeLine(card, step)}`;
  const headline = `⏫ Nobody decided ${escapeMrkdwn(card.requester.name)}'s request for *${escapeMrkdwn(what)}* (${duration(effectiveSeconds(card))}) within ${after}: ${added} may decide it now too.${still}`;
  const text = `Escalated: ${card.requester.name} asks for ${what} for ${duration(effectiveSeconds(card))}; nobody decided within ${after}`;
  return {
    text: truncateMrkdwn(escapeMrkdwn(text), LIMITS.messageText),
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: truncateMrkdwn(headline, LIMITS.sectionText) } },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `Request \`${card.id}\` · ${stepTitle(step, card.steps.length)}` }],
      },
    ],
  };
}

/** A reminder under a `notify:` step's channel message (a thread reply; the buttons are in the message). */
export function channelReminder(card: RequestCard, stepIndex: number, afterSeconds: number): SlackMessage {
  const step = card.steps.find((s) => s.index === stepIndex);
  if (!step) throw new Error(`request ${card.id} has no step ${stepIndex}`);
  const what = `${card.appName} ${card.roleName}`;
  const open = card.status === 'pending_approval' && step.status === 'open';
  const line = open
    ? `⏰ Still waiting for a decision after ${duration(afterSeconds)}: ${progressLine(step)}. Decide in the message above.`
    : `⏰ ${outcomeLine(card, step)}`;
  const text = `Reminder: ${card.requester.name} asks for ${what} for ${duration(effectiveSeconds(card))}, waiting ${duration(afterSeconds)} for a decision`;
  return {
    text: truncateMrkdwn(escapeMrkdwn(text), LIMITS.messageText),
    blocks: [{ type: 'section', text: { type: 'mrkdwn', text: truncateMrkdwn(line, LIMITS.sectionText) } }],
  };
}
