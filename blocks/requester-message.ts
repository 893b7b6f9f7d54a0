/**
 * The requester's DM, one message per event: submitted (with the chain ahead), a step approved,
 * approved, active until when, denied and why, cancelled, expired, extended, ended.
 */
import type { ActionsBlockElement, KnownBlock } from '@slack/web-api';
import type { Notification } from '../src/domain/records.js';
import { escapeMrkdwn } from './escape.js';
import { activeGrantButtons, rerequestButton } from './grant-buttons.js';
import { approvals, duration, effectiveSeconds, names, plainDate, slackDate, who } from './format.js';
import { ACTION, BLOCK } from './ids.js';
import { LIMITS, capList, fitTextBudget, truncate, truncateMrkdwn } from './limits.js';
import type { SlackMessage } from './approval-message.js';
import type { GrantView, RequestCard, StepView } from './view-models.js';

export type RequesterEvent =
  | { type: 'request.submitted' }
  | { type: 'step.approved'; stepIndex: number }
  | { type: 'request.approved' }
  | { type: 'grant.active' }
  | { type: 'request.denied' }
  | { type: 'request.cancelled' }
  | { type: 'request.expired' }
  | { type: 'request.pointer' }
  | { type: 'grant.extended' }
  | { type: 'grant.reminder'; leadSeconds: number }
  | { type: 'grant.revoked' }
  | { type: 'grant.provisioningFailed' }
  | { type: 'grant.revocationFailed' };

export type RequesterEventType = RequesterEvent['type'];

export const REQUESTER_EVENTS: ReadonlySet<Notification['type']> = new Set<RequesterEventType>([
  'request.submitted', 'step.approved', 'request.approved', 'grant.active', 'request.denied', 'request.cancelled',
  'request.expired', 'request.pointer', 'grant.extended', 'grant.reminder', 'grant.revoked', 'grant.provisioningFailed',
  'grant.revocationFailed',
]);

const CHAIN_STEPS_SHOWN = 10;

export function requesterMessage(card: RequestCard, event: RequesterEvent): SlackMessage {
  const what = `${card.appName} ${card.roleName}`;
  const whatMd = `*${escapeMrkdwn(what)}*`;
  const tz = card.timezone;
  let headline: string;
  let plain: string;
  const details: string[] = [];
  let cancellable = false;
  /** The expiry loop's buttons, for the reminder and the "ended" message. */
  let grantButtons: ActionsBlockElement[] = [];

  switch (event.type) {
    case 'request.submitted': {
      const ext = card.kind === 'extension' ? 'an extension of ' : '';
      headline = `📨 You asked for ${ext}${whatMd} for *${duration(card.requestedSeconds)}*.`;
      plain = `You asked for ${ext}${what} for ${duration(card.requestedSeconds)}`;
      const chain = capList(card.steps.map(chainLine), CHAIN_STEPS_SHOWN, (n) => `…and ${n} more step${n === 1 ? '' : 's'}`);
      if (chain.length) details.push(`*Approvals ahead*\n${chain.join('\n')}`);
      details.push(`Pending requests expire ${slackDate(card.approvalDeadline, tz)} if nobody decides.`);
      cancellable = card.status === 'pending_approval';
      if (!cancellable) details.push(`_Now ${statusWord(card)}._`);
      break;
    }
    case 'step.approved': {
      const step = card.steps.find((s) => s.index === event.stepIndex);
      const next = card.steps.find((s) => s.index === event.stepIndex + 1);
      headline = `✅ Step ${event.stepIndex + 1} of ${card.steps.length} for ${whatMd} approved${step ? ` by ${names(approvals(step).map((d) => d.person))}` : ''}.`;
      plain = `Step ${event.stepIndex + 1} of ${card.steps.length} for ${what} approved`;
      if (next) details.push(`Next: ${chainLine(next)}`);
      cancellable = card.status === 'pending_approval';
      break;
    }
    case 'request.approved': {
      const auto = card.autoApproveRule ? ` automatically (${escapeMrkdwn(card.autoApproveRule)})` : '';
      headline = `✅ Your request for ${whatMd} was approved${auto} for *${duration(effectiveSeconds(card))}*.`;
      plain = `Your request for ${what} was approved`;
      if (card.grantedSeconds !== null && card.grantedSeconds < card.requestedSeconds) details.push(`You asked for ${duration(card.requestedSeconds)}; an approver shortened it.`);
      details.push(card.kind === 'extension' ? 'Your access is being extended.' : 'Setting it up now; you will get a message when it is active.');
      break;
    }
    case 'grant.active': {
      const until = card.grant?.expiresAt;
      headline = `🔓 You now have ${whatMd}${until ? ` until ${slackDate(until, tz)}` : ''}.`;
      plain = `You now have ${what}${until ? ` until ${plainDate(until, tz)}` : ''}`;
      details.push('It is removed automatically when it expires; you will be reminded before then.');
      break;
    }
    case 'request.denied': {
      const denial = card.steps.flatMap((s) => s.decisions).find((d) => d.decision === 'deny');
      headline = denial ? `⛔ Your request for ${whatMd} was denied by ${who(denial.person)}.` : `⛔ Your request for ${whatMd} was denied.`;
      plain = `Your request for ${what} was denied`;
      const reason = denial?.reason ?? card.decisionReason;
      if (reason) details.push(`*Reason*\n${quoted(reason)}`);
      break;
    }
    case 'request.cancelled':
      headline = `🚫 You cancelled your request for ${whatMd}.`;
      plain = `You cancelled your request for ${what}`;
      break;
    case 'request.expired':
      headline = `⌛ Your request for ${whatMd} expired: nobody decided before ${slackDate(card.approvalDeadline, tz)}.`;
      plain = `Your request for ${what} expired`;
      details.push('Ask again with `/access request` if you still need it.');
      break;
    case 'request.pointer':
      headline = `You already have a pending request for ${whatMd} (\`${card.id}\`).`;
      plain = `You already have a pending request for ${what}`;
      cancellable = card.status === 'pending_approval';
      break;
    case 'grant.extended': {
      const until = card.grant?.expiresAt;
      headline = `⏩ Your ${whatMd} access was extended${until ? ` until ${slackDate(until, tz)}` : ''}.`;
      plain = `Your ${what} access was extended`;
      break;
    }
    case 'grant.reminder': {
      const until = card.grant?.expiresAt;
      headline = `⏰ Your ${whatMd} access ends in ${duration(event.leadSeconds)}${until ? `, ${slackDate(until, tz)}` : ''}.`;
      plain = `Your ${what} access ends in ${duration(event.leadSeconds)}`;
      if (card.grant?.status === 'active') {
        const extendable = card.grant.extendable !== false;
        details.push(extendable ? '*Extend…* asks for more time (within the policy); *I\'m done* gives it back now.' : 'This role cannot be extended; *I\'m done* gives it back now. Request it again after it ends if you still need it.');
        grantButtons = activeGrantButtons({ grantId: card.grant.id, extendable }, what);
      } else if (card.grant) {
        details.push(`_Now ${escapeMrkdwn(card.grant.status.replaceAll('_', ' '))}._`);
      }
      break;
    }
    case 'grant.revoked': {
      const grant = card.grant;
      headline = `🔒 ${endedHeadline(whatMd, grant, tz)}`;
      plain = `Your ${what} access ended (${(grant?.revocationReason ?? 'expired').replaceAll('_', ' ')})`;
      const why = endedDetail(grant);
      if (why) details.push(why);
      if (grant) {
        details.push('*Request again…* opens the request form with this application and role chosen.');
        grantButtons = [rerequestButton(grant.id)];
      }
      break;
    }
    case 'grant.provisioningFailed':
      headline = `⚠️ Setting up ${whatMd} failed. The access team has been alerted.`;
      plain = `Setting up ${what} failed`;
      break;
    case 'grant.revocationFailed':
      headline = `⚠️ Removing ${whatMd} did not finish yet; it is being retried.`;
      plain = `Removing ${what} did not finish yet`;
      break;
  }

  const blocks: KnownBlock[] = [{ type: 'section', text: { type: 'mrkdwn', text: truncateMrkdwn(headline, LIMITS.sectionText) } }];
  for (const detail of details) blocks.push({ type: 'section', text: { type: 'mrkdwn', text: truncateMrkdwn(detail, LIMITS.sectionText) } });
  if (cancellable) {
    blocks.push({
      type: 'actions',
      block_id: BLOCK.requestActions,
      elements: [{
        type: 'button',
        action_id: ACTION.cancel,
        text: { type: 'plain_text', text: 'Cancel request' },
        value: card.id,
        confirm: {
          title: { type: 'plain_text', text: 'Cancel this request?' },
          text: { type: 'plain_text', text: truncate(`Your request for ${what} will be withdrawn.`, LIMITS.confirmText) },
          confirm: { type: 'plain_text', text: 'Cancel request' },
          deny: { type: 'plain_text', text: 'Keep it' },
        },
      }],
    });
  }
  if (grantButtons.length) blocks.push({ type: 'actions', block_id: BLOCK.grantActions, elements: grantButtons });
  blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: `Request \`${card.id}\` · policy \`${escapeMrkdwn(card.policyName)}\`` }] });
  return { text: truncateMrkdwn(escapeMrkdwn(plain), LIMITS.messageText), blocks: fitTextBudget(blocks.slice(0, LIMITS.messageBlocks)) };
}

function chainLine(step: StepView): string {
  const who = step.approverNames.length
    ? ` (${escapeMrkdwn(capList(step.approverNames, 5, (n) => `${n} more`).join(', '))})`
    : '';
  const need = step.required > 1 ? `, ${step.required} approvals` : '';
  const state = step.status === 'approved' ? ' ✓' : step.status === 'open' ? ' ← now' : '';
  return `${step.index + 1}. ${escapeMrkdwn(step.label)}${need}${who}${state}`;
}

function quoted(text: string): string {
  return truncateMrkdwn(escapeMrkdwn(text), LIMITS.sectionText - 40).split('\n').map((l) => `>${l}`).join('\n');
}

function statusWord(card: RequestCard): string {
  return card.status.replaceAll('_', ' ');
}

/** Why the access ended, in the holder's words: the revocation reason said plainly. */
function endedHeadline(whatMd: string, grant: GrantView | null, tz: string): string {
  const removedAt = grant?.revokedAt ?? grant?.expiresAt;
  const when = removedAt ? ` on ${slackDate(removedAt, tz)}` : '';
  switch (grant?.revocationReason ?? 'expired') {
    case 'expired':
      return `Your ${whatMd} access expired${grant?.expiresAt ? ` at ${slackDate(grant.expiresAt, tz)}` : ''} and was removed.`;
    case 'relinquished':
      return `You gave back your ${whatMd} access${when}. Thanks for tidying up.`;
    case 'revoked':
      return `Your ${whatMd} access was revoked by an admin${grant?.revokedBy ? ` (${escapeMrkdwn(grant.revokedBy)})` : ''}${when}.`;
    case 'offboarded':
      return `Your ${whatMd} access was removed${when} because your directory account is no longer active.`;
    case 'removed_externally':
      return `Your ${whatMd} access was removed outside the bot (by hand in the directory), so the bot ended the grant${when}.`;
  }
}

function endedDetail(grant: GrantView | null): string | undefined {
  const note = grant?.revocationNote;
  if (!note) return undefined;
  switch (grant.revocationReason) {
    case 'revoked':
      return `*Reason*\n${quoted(note)}`;
    case 'removed_externally':
    case 'offboarded':
      return `*Detail*\n${quoted(note)}`;
    default:
      return `*Note*\n${quoted(note)}`;
  }
}
