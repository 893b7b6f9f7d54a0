/**
 * The requester's DM. One status message per request ("You asked for…"), updated in place as the
 * request moves, plus a message for each thing they must hear at once: an approver shortened the
 * duration, someone sets it up by hand, the access is active, a reminder, denied or expired, ended.
 * Every message is rendered from the request as it is now, so a message updated later drops what
 * no longer applies: Cancel once it is decided, Extend and I'm done once the access ended, the old
 * end time after an extension, the approval deadline after a decision. Nothing promises what will
 * not happen: no reminder is announced that a short grant will not get, and access that people
 * remove by hand is never said to be removed automatically.
 */
import type { ActionsBlockElement, KnownBlock } from '@slack/web-api';
import type { SlackMessage } from './approval-message.js';
import { channelLink, escapeMrkdwn } from './escape.js';
import {
  approvals,
  decider,
  deciderName,
  deciders,
  duration,
  effectiveSeconds,
  grantedDuration,
  groupName,
  list,
  plainDate,
  slackDate,
  stepWho,
  who,
} from './format.js';
import { activeGrantButtons, cancelButton, rerequestButton } from './grant-buttons.js';
import { BLOCK } from './ids.js';
import { LIMITS, capList, fitTextBudget, truncateMrkdwn } from './limits.js';
import type { GrantView, RequestCard, StepView } from './view-models.js';

export type RequesterEvent =
  | { type: 'request.submitted' }
  | { type: 'step.approved'; stepIndex: number }
  /** A step escalated: nobody decided in time, and its escalation target was added. */
  | { type: 'step.escalated'; stepIndex: number }
  /** Emergency access was reviewed (Justified or Not justified). */
  | { type: 'breakGlass.reviewed' }
  | { type: 'request.approved' }
  | { type: 'grant.active' }
  | { type: 'request.denied' }
  | { type: 'request.cancelled' }
  | { type: 'request.expired' }
  | { type: 'grant.extended' }
  /** `leadSeconds` null: the reminder as it reads now (after an extension or the end). */
  | { type: 'grant.reminder'; leadSeconds: number | null }
  | { type: 'grant.revoked' }
  | { type: 'grant.provisioningFailed' }
  /** The first attempt at setting it up failed and is retried: the requester hears of the delay. */
  | { type: 'grant.provisioningDelayed' };

export type RequesterEventType = RequesterEvent['type'];

const CHAIN_STEPS_SHOWN = 10;

export function requesterMessage(card: RequestCard, event: RequesterEvent): SlackMessage {
  const what = `${card.appName} ${card.roleName}`;
  const whatMd = `*${escapeMrkdwn(what)}*`;
  const tz = card.timezone;
  const pending = card.status === 'pending_approval';
  let headline: string;
  let plain: string;
  const details: string[] = [];
  let cancellable = false;
  /** Extend / I'm done while the access is active; Request again… once it ended or was refused. */
  let buttons: ActionsBlockElement[] = [];

  switch (event.type) {
    case 'request.submitted': {
      if (card.kind === 'break_glass') {
        headline = `🚨 You took emergency access to ${whatMd} for *${duration(card.requestedSeconds)}*, without approval.`;
        plain = `You took emergency access to ${what} for ${duration(card.requestedSeconds)}`;
        details.push(statusLine(card));
        const review = reviewLine(card);
        if (review) details.push(review);
        break;
      }
      headline =
        card.kind === 'extension'
          ? `📨 You asked to extend ${whatMd} by *${duration(card.requestedSeconds)}*.`
          : `📨 You asked for ${whatMd} for *${duration(card.requestedSeconds)}*.`;
      plain =
        card.kind === 'extension'
          ? `You asked to extend ${what} by ${duration(card.requestedSeconds)}`
          : `You asked for ${what} for ${duration(card.requestedSeconds)}`;
      const chain = capList(
        card.steps.map((s) => chainLine(s, pending)),
        CHAIN_STEPS_SHOWN,
        (n) => `…and ${n} more step${n === 1 ? '' : 's'}`,
      );
      if (chain.length) details.push(`*Who approves*\n${chain.join('\n')}`);
      if (pending && card.grantedSeconds !== null && card.grantedSeconds < card.requestedSeconds) {
        details.push(`An approver shortened it to *${duration(card.grantedSeconds)}*.`);
      }
      if (pending) details.push(`If nobody decides by ${slackDate(card.approvalDeadline, tz)}, the request expires.`);
      else details.push(statusLine(card));
      cancellable = pending;
      break;
    }
    case 'step.approved': {
      const step = card.steps.find((s) => s.index === event.stepIndex);
      const yes = step ? approvals(step) : [];
      const shortened = yes.find((d) => d.shortenedToSeconds !== null);
      const of = `step ${event.stepIndex + 1} of ${card.steps.length}`;
      headline = shortened
        ? `✂️ ${decider(shortened)} approved *${duration(shortened.shortenedToSeconds!)}* of ${whatMd} (you asked for ${duration(card.requestedSeconds)}): ${of}.`
        : `✅ ${deciders(yes) || 'Your approvers'} approved ${of} for ${whatMd}.`;
      plain = shortened
        ? `${deciderName(shortened)} approved ${duration(shortened.shortenedToSeconds!)} of ${what} (you asked for ${duration(card.requestedSeconds)})`
        : `Step ${event.stepIndex + 1} of ${card.steps.length} for ${what} approved`;
      const next = card.steps.find((s) => s.index === card.currentStep);
      if (pending && next)
        details.push(
          `Next: ${stepWho(next, 'requester')}${next.notifyChannel ? `, in ${channelLink(next.notifyChannel)}` : ''}.`,
        );
      if (!pending) details.push(statusLine(card));
      cancellable = pending;
      break;
    }
    case 'step.escalated': {
      const step = card.steps.find((s) => s.index === event.stepIndex);
      const after = step?.approver.escalation ? duration(step.approver.escalation.afterSeconds) : 'the time allowed';
      const added = step?.escalationNames?.length ? list(step.escalationNames.map(escapeMrkdwn)) : null;
      headline = added
        ? `⏫ Nobody decided step ${event.stepIndex + 1} of ${card.steps.length} for ${whatMd} within ${after}, so it was escalated: ${added} may decide it now too.`
        : `⏫ Nobody decided step ${event.stepIndex + 1} of ${card.steps.length} for ${whatMd} within ${after}; it was escalated, but nobody else could be added.`;
      plain = `Your request for ${what} (${duration(effectiveSeconds(card))}) was escalated: nobody decided within ${after}`;
      if (!pending) details.push(statusLine(card));
      cancellable = pending;
      break;
    }
    case 'breakGlass.reviewed': {
      const review = card.breakGlass;
      const by = review?.reviewer ? who(review.reviewer) : 'A reviewer';
      if (review?.status === 'not_justified') {
        headline = `⛔ ${by} reviewed your emergency access to ${whatMd}: *not justified*.`;
        plain = `Your emergency access to ${what} was reviewed: not justified`;
        if (review.reason) details.push(`*Reason*\n${quoted(review.reason)}`);
        if (card.grant && (card.grant.status === 'revoking' || card.grant.status === 'revoked'))
          details.push('The access is removed.');
      } else {
        headline = `✅ ${by} reviewed your emergency access to ${whatMd}: *justified*.`;
        plain = `Your emergency access to ${what} was reviewed: justified`;
        if (review?.reason) details.push(`*Note*\n${quoted(review.reason)}`);
      }
      break;
    }
    case 'request.approved': {
      headline = card.autoApproveRule
        ? `✅ Your request for ${whatMd} was approved automatically for *${duration(effectiveSeconds(card))}*${card.autoApproveWhy ? `: ${escapeMrkdwn(card.autoApproveWhy)}` : ''}.`
        : `✅ Your request for ${whatMd} was approved for ${boldGranted(card)}.`;
      plain = `Your request for ${what} was approved`;
      if (card.kind === 'extension') details.push('Your access is extended now.');
      else if (card.grant && card.grant.status !== 'provisioning') details.push(statusLine(card));
      else if (card.provisioning.kind === 'manual') details.push(byHand(card.provisioning.assigneeGroup, card));
      else details.push('Setting it up now; you will get a message when it is active.');
      break;
    }
    case 'grant.active': {
      const grant = card.grant;
      if (grant?.status === 'active' && grant.expiresAt) {
        headline = `🔓 You now have ${whatMd} until ${slackDate(grant.expiresAt, tz)}.`;
        plain = `You now have ${what} until ${plainDate(grant.expiresAt, tz)}`;
        if (card.autoApproveWhy) details.push(`Approved automatically: ${escapeMrkdwn(card.autoApproveWhy)}.`);
        if (card.grantedSeconds !== null && card.grantedSeconds < card.requestedSeconds) {
          details.push(
            `That is ${duration(card.grantedSeconds)}: you asked for ${duration(card.requestedSeconds)}, and an approver shortened it.`,
          );
        }
        details.push(atTheEnd(card, grant));
        buttons = activeGrantButtons(
          { grantId: grant.id, extendable: grant.extendable !== false, removal: removalOf(card) },
          what,
        );
      } else {
        headline = `🔒 You had ${whatMd}${grant?.activatedAt ? ` from ${slackDate(grant.activatedAt, tz)}` : ''}; it has ended.`;
        plain = `You had ${what}; it has ended`;
      }
      break;
    }
    case 'request.denied': {
      const denial = card.steps.flatMap((s) => s.decisions).find((d) => d.decision === 'deny');
      headline = denial
        ? `⛔ ${decider(denial)} denied your request for ${whatMd}.`
        : `⛔ Your request for ${whatMd} was denied.`;
      plain = denial ? `${deciderName(denial)} denied your request for ${what}` : `Your request for ${what} was denied`;
      const reason = denial?.reason ?? card.decisionReason;
      if (reason) details.push(`*Reason*\n${quoted(reason)}`);
      buttons = [rerequestButton(card.id)];
      break;
    }
    case 'request.cancelled':
      headline =
        card.decisionReason === 'the requester was offboarded'
          ? `🚫 Your request for ${whatMd} was cancelled: your directory account is no longer active.`
          : card.decisionReason?.startsWith('superseded by emergency access')
            ? `🚫 Your request for ${whatMd} was closed: you took emergency access instead.`
            : `🚫 You cancelled your request for ${whatMd}.`;
      plain = `Your request for ${what} was cancelled`;
      break;
    case 'request.expired':
      headline = `⌛ Your request for ${whatMd} expired: nobody decided by ${slackDate(card.approvalDeadline, tz)}.`;
      plain = `Your request for ${what} expired`;
      buttons = [rerequestButton(card.id)];
      break;
    case 'grant.extended': {
      const until = card.grant?.expiresAt;
      headline = `⏩ Your ${whatMd} access was extended${until ? `; it now ends ${slackDate(until, tz)}` : ''}.`;
      plain = `Your ${what} access was extended`;
      break;
    }
    case 'grant.reminder': {
      const grant = card.grant;
      const until = grant?.expiresAt;
      if (grant?.status === 'active' && until) {
        headline =
          event.leadSeconds !== null
            ? `⏰ Your ${whatMd} access ends in *${duration(event.leadSeconds)}*, ${slackDate(until, tz)}.`
            : `⏰ Your ${whatMd} access ends ${slackDate(until, tz)}.`;
        plain =
          event.leadSeconds !== null
            ? `Your ${what} access ends in ${duration(event.leadSeconds)}`
            : `Your ${what} access ends ${plainDate(until, tz)}`;
        if (grant.extendable === false)
          details.push('This role cannot be extended: request it again after it ends if you still need it.');
        buttons = activeGrantButtons(
          { grantId: grant.id, extendable: grant.extendable !== false, removal: removalOf(card) },
          what,
        );
      } else {
        const ended = grant?.revokedAt ?? until;
        headline = `🔒 Your ${whatMd} access ${ended ? `ended ${slackDate(ended, tz)}` : 'has ended'}.`;
        plain = `Your ${what} access has ended`;
      }
      break;
    }
    case 'grant.revoked': {
      const grant = card.grant;
      headline = `🔒 ${endedHeadline(card, whatMd, grant, tz)}`;
      plain = `Your ${what} access ended (${(grant?.revocationReason ?? 'expired').replaceAll('_', ' ')})`;
      const why = endedDetail(grant);
      if (why) details.push(why);
      buttons = [rerequestButton(grant?.id ?? card.id)];
      break;
    }
    case 'grant.provisioningFailed':
      headline = `⚠️ Setting up ${whatMd} failed. The access team has been alerted and will follow up with you.`;
      plain = `Setting up ${what} failed`;
      break;
    case 'grant.provisioningDelayed':
      if (card.grant?.status === 'provisioning') {
        headline = `⏳ Setting up ${whatMd} is taking longer than usual. The bot keeps trying and tells you when it is active; nothing for you to do.`;
        plain = `Setting up ${what} is taking longer than usual`;
      } else {
        headline = `⏳ Setting up ${whatMd} took longer than usual.`;
        plain = `Setting up ${what} took longer than usual`;
        details.push(statusLine(card));
      }
      break;
  }

  const blocks: KnownBlock[] = [
    { type: 'section', text: { type: 'mrkdwn', text: truncateMrkdwn(headline, LIMITS.sectionText) } },
  ];
  if (card.kind === 'break_glass' && event.type === 'grant.active' && card.breakGlass) {
    const review = reviewLine(card);
    if (review) details.unshift(review);
  }
  for (const detail of details)
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncateMrkdwn(detail, LIMITS.sectionText) } });
  if (cancellable) {
    blocks.push({
      type: 'actions',
      block_id: BLOCK.requestActions,
      elements: [cancelButton(card.id, what)],
    });
  }
  if (buttons.length) blocks.push({ type: 'actions', block_id: BLOCK.grantActions, elements: buttons });
  blocks.push({
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `Request \`${card.id}\` · policy \`${escapeMrkdwn(card.policyName)}\`` }],
  });
  const fitted = fitTextBudget(blocks.slice(0, LIMITS.messageBlocks));
  return { text: truncateMrkdwn(escapeMrkdwn(plain), LIMITS.messageText), blocks: fitted };
}

/**
 * "2. 2 people from Security team, in #security: Sam Rivera, Jordan Lee, Kim Nguyen ← now" while
 * it is asked; "2. 2 people from Security team ✓ Sam Rivera and Jordan Lee" once decided.
 */
function chainLine(step: StepView, pending: boolean): string {
  const whoDecides = stepWho(step, 'requester');
  const many = step.approver.kind === 'group' || step.fallbackReason !== null;
  const yes = approvals(step);
  const head = `${step.index + 1}. ${step.approver.kind === 'user' && step.fallbackReason === null ? whoDecides : capitalise(whoDecides)}`;
  if (step.status === 'approved') return `${head} ✓${many || yes.some((d) => d.onBehalfOf) ? ` ${deciders(yes)}` : ''}`;
  if (step.status === 'denied') return `${head} ✗ denied`;
  // A step not started yet posts where its policy says (a fallback to the admins would ask them directly).
  const channel =
    step.notifyChannel ??
    (step.status === 'waiting' && step.approver.kind === 'group' ? step.approver.notify : undefined);
  const where = channel ? `, in ${channelLink(channel)}` : '';
  const named = many ? capList(step.approverNames.map(escapeMrkdwn), 5, (n) => `${n} more`) : [];
  const people = named.length ? `: ${named.join(', ')}` : '';
  const now =
    step.status === 'open' && pending
      ? step.required > 1
        ? ` ← now (${yes.length} of ${step.required} so far)`
        : ' ← now'
      : '';
  const escalated =
    step.escalatedAt && step.status === 'open' && step.escalationNames?.length
      ? ` ⏫ escalated: also ${list(capList(step.escalationNames.map(escapeMrkdwn), 5, (n) => `${n} more`))}`
      : '';
  return `${head}${where}${people}${now}${escalated}`;
}

/** "*30 minutes* (you asked for 1 hour)". */
function boldGranted(card: RequestCard): string {
  const granted = effectiveSeconds(card);
  return granted === card.requestedSeconds
    ? `*${duration(granted)}*`
    : `*${duration(granted)}* (you asked for ${duration(card.requestedSeconds)})`;
}

function capitalise(text: string): string {
  return text ? text[0]!.toUpperCase() + text.slice(1) : text;
}

/** Where the request stands, for messages that no longer ask anything of anyone. */
function statusLine(card: RequestCard): string {
  const tz = card.timezone;
  const grant = card.grant;
  switch (card.status) {
    case 'pending_approval':
      return '_Waiting for approval._';
    case 'denied': {
      const denial = card.steps.flatMap((s) => s.decisions).find((d) => d.decision === 'deny');
      return denial ? `⛔ *Denied* by ${decider(denial)}.` : '⛔ *Denied*.';
    }
    case 'cancelled':
      return card.decisionReason === 'the requester was offboarded'
        ? '🚫 *Cancelled*: your directory account is no longer active.'
        : '🚫 *Cancelled*.';
    case 'approval_expired':
      return `⌛ *Expired*: nobody decided by ${slackDate(card.approvalDeadline, tz)}.`;
    case 'approved':
      break;
  }
  const approved =
    card.kind === 'break_glass'
      ? `🚨 *Emergency access* for ${duration(effectiveSeconds(card))}`
      : card.autoApproveRule
        ? `✅ *Approved automatically* for ${duration(effectiveSeconds(card))}`
        : `✅ *Approved* for ${grantedDuration(card)}`;
  if (card.kind === 'extension') return `${approved}.`;
  switch (grant?.status) {
    case 'active':
      return `${approved}. 🔓 Active until ${slackDate(grant.expiresAt!, tz)}.`;
    case 'revoking':
      return `${approved}. 🔒 Being removed now.`;
    case 'revoked':
      return `${approved}. 🔒 Ended${grant.revokedAt ? ` ${slackDate(grant.revokedAt, tz)}` : ''}.`;
    case 'provisioning_failed':
      return `${approved}. ⚠️ Setting it up failed; the access team has been alerted.`;
    default:
      return card.provisioning.kind === 'manual'
        ? `${approved}. ${byHand(card.provisioning.assigneeGroup, card)}`
        : `${approved}. Setting it up now.`;
  }
}

/** Where a break-glass grant's review stands, for its holder. */
function reviewLine(card: RequestCard): string | null {
  const review = card.breakGlass;
  if (!review) return null;
  const reviewers =
    review.reviewers.kind === 'group'
      ? escapeMrkdwn(groupName(review.reviewers.group))
      : escapeMrkdwn(review.reviewers.user);
  switch (review.status) {
    case 'pending':
      return `The security channel was told at once. ${reviewers} reviews it by ${slackDate(review.dueAt, card.timezone)}.`;
    case 'justified':
      return `✅ Reviewed: *justified*, by ${review.reviewer ? who(review.reviewer) : 'a reviewer'}.`;
    case 'not_justified':
      return `⛔ Reviewed: *not justified*, by ${review.reviewer ? who(review.reviewer) : 'a reviewer'}.`;
  }
}

function byHand(assigneeGroup: string, card: RequestCard): string {
  return `Someone from *${escapeMrkdwn(groupName(assigneeGroup))}* sets it up by hand; you will get a message when it is done, and your ${duration(effectiveSeconds(card))} start then.`;
}

function removalOf(card: RequestCard): { kind: 'automatic' } | { kind: 'manual'; assigneeGroup: string } {
  return card.provisioning.kind === 'manual'
    ? { kind: 'manual', assigneeGroup: card.provisioning.assigneeGroup }
    : { kind: 'automatic' };
}

/** What happens at the end, as it will happen: who removes it, and which reminders come. */
function atTheEnd(card: RequestCard, grant: GrantView): string {
  const removal =
    card.provisioning.kind === 'manual'
      ? `When it ends, someone from ${escapeMrkdwn(groupName(card.provisioning.assigneeGroup))} removes it by hand.`
      : 'It is removed automatically when it ends.';
  const length = grant.durationSeconds ?? effectiveSeconds(card);
  const leads = card.reminderLeads.filter((lead) => lead < length).sort((a, b) => b - a);
  const reminder = leads.length
    ? `You will get a reminder ${list(leads.map(duration))} before.`
    : `No reminder: it ends in ${duration(length)}.`;
  return `${removal} ${reminder}`;
}

function quoted(text: string): string {
  return truncateMrkdwn(escapeMrkdwn(text), LIMITS.sectionText - 40)
    .split('\n')
    .map((l) => `>${l}`)
    .join('\n');
}

/** Why the access ended, in the holder's words: the revocation reason said plainly. */
function endedHeadline(card: RequestCard, whatMd: string, grant: GrantView | null, tz: string): string {
  const removedAt = grant?.revokedAt ?? grant?.expiresAt;
  const when = removedAt ? ` ${slackDate(removedAt, tz)}` : '';
  const byHandNote =
    card.provisioning.kind === 'manual'
      ? ` ${escapeMrkdwn(groupName(card.provisioning.assigneeGroup))} has removed it.`
      : '';
  switch (grant?.revocationReason ?? 'expired') {
    case 'expired':
      return `Your ${whatMd} access expired${grant?.expiresAt ? ` ${slackDate(grant.expiresAt, tz)}` : ''}${byHandNote ? `.${byHandNote}` : ' and was removed.'}`;
    case 'relinquished':
      return `You gave back your ${whatMd} access${when}. Thanks for tidying up.${byHandNote}`;
    case 'revoked': {
      const by =
        grant?.revokedByName ?? (grant?.revokedBy && !grant.revokedBy.startsWith('system:') ? grant.revokedBy : null);
      return `${by ? escapeMrkdwn(by) : 'An admin'} revoked your ${whatMd} access${when}.${byHandNote}`;
    }
    case 'offboarded':
      return `Your ${whatMd} access was removed${when} because your directory account is no longer active.`;
    case 'removed_externally':
      return `Your ${whatMd} access was removed by hand in the directory, outside the bot, so the bot ended the grant${when}.`;
    case 'review': {
      const by =
        grant?.revokedByName ?? (grant?.revokedBy && !grant.revokedBy.startsWith('system:') ? grant.revokedBy : null);
      return `Your ${whatMd} access was removed${when} after an access review${by ? `: ${escapeMrkdwn(by)} decided it is no longer needed` : ''}.${byHandNote}`;
    }
  }
}

function endedDetail(grant: GrantView | null): string | undefined {
  const note = grant?.revocationNote;
  if (!note) return undefined;
  switch (grant.revocationReason) {
    case 'revoked':
    case 'review':
      return `*Reason*\n${quoted(note)}`;
    case 'removed_externally':
    case 'offboarded':
      return `*Detail*\n${quoted(note)}`;
    default:
      return `*Note*\n${quoted(note)}`;
  }
}
