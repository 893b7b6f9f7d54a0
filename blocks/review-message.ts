/**
 * Access reviews in Slack: the reviewer's list (one DM per reviewer and campaign, paged), the
 * reminder, the Revoke reason modal, `/access review`'s reply and the App Home's section. Pure:
 * view models in, `{ text, blocks }` out, within Slack's limits (50 blocks and about 12,000
 * characters of block text per message): a page holds at most REVIEW_PAGE_SIZE items, so 100 items
 * for one reviewer are ten pages of one message, turned with Previous and Next.
 */
import type { ActionsBlock, Button, KnownBlock, ModalView } from '@slack/web-api';
import type { ReviewItem } from '../src/domain/reviews/review-records.js';
import type { SlackMessage } from './approval-message.js';
import { escapeMrkdwn } from './escape.js';
import { duration, list, slackDate } from './format.js';
import { ACTION, BLOCK, CALLBACK, encodeReviewRef } from './ids.js';
import { LIMITS, fitTextBudget, truncate, truncateMrkdwn } from './limits.js';
import { context, header, section } from './block-parts.js';

/** Items per page of a reviewer's list: with a line per access, at most 2 + 10 × 3 + 2 blocks. */
export const REVIEW_PAGE_SIZE = 10;
/** One item's text at most this long, so ten items and their headings stay inside the text budget. */
const ITEM_CHARS = 700;
/** Approvers named per grant before "and N more". */
const APPROVERS_SHOWN = 4;

/** A reviewer's list as they read it now. */
export interface ReviewerListView {
  campaignId: string;
  reviewName: string;
  status: 'open' | 'closed';
  dueAt: string;
  closedAt: string | null;
  /** What happens to undecided items at the due time, and to standing membership on Revoke. */
  undecided: 'keep' | 'revoke';
  remediate: 'remove' | 'report';
  reviewer: { directoryId: string; name: string };
  /** Items in their list, and how many of them nobody decided yet. */
  total: number;
  pending: number;
  /** Kept or revoked; after the close, the rest were left undecided. */
  decided: number;
  page: number;
  pageCount: number;
  /** The items of this page, in order. */
  items: ReviewItem[];
  /** How each access reads: `github/owner` -> "GitHub · Organization owner". */
  accessNames: Record<string, string>;
  timezone: string;
}

/** The reviewer's DM: open, a page of items with Keep and Revoke…; closed, what they decided. */
export function reviewerListMessage(v: ReviewerListView): SlackMessage {
  const tz = v.timezone;
  const decided = v.decided;
  const blocks: KnownBlock[] = [header(`Access review: ${v.reviewName}`)];
  if (v.status === 'closed') {
    const summary = closedLine(v);
    blocks.push(section(summary));
    blocks.push(context(`Review campaign \`${v.campaignId}\`. The security channel has the summary and the evidence.`));
    return { text: truncateMrkdwn(`Access review ${v.reviewName} closed. ${summary}`, LIMITS.messageText), blocks };
  }
  const outcome = v.undecided === 'keep' ? 'kept' : 'revoked';
  blocks.push(
    section(
      `Please review who holds this access: *Keep* what is still needed, *Revoke…* what is not (you say why). ` +
        `*${v.pending} of ${v.total}* left, due ${slackDate(v.dueAt, tz)}; anything undecided then is ${outcome}.`,
    ),
  );
  blocks.push(context(`${decided} decided · ${v.pending} to go · page ${v.page + 1} of ${Math.max(1, v.pageCount)}`));
  let access = '';
  for (const item of v.items) {
    const label = accessKey(item);
    if (label !== access) {
      access = label;
      blocks.push(section(`*${escapeMrkdwn(v.accessNames[label] ?? label)}*`));
    }
    blocks.push(...itemBlocks(item, { page: v.page, viewerId: v.reviewer.directoryId }, tz));
  }
  const nav = navigation(v);
  if (nav) blocks.push(nav);
  const text = `Access review ${v.reviewName}: ${v.pending} of ${v.total} items for you to review, due ${v.dueAt.slice(0, 10)}.`;
  return {
    text: truncateMrkdwn(escapeMrkdwn(text), LIMITS.messageText),
    blocks: fitTextBudget(blocks).slice(0, LIMITS.messageBlocks),
  };
}

function closedLine(v: ReviewerListView): string {
  const when = v.closedAt ? slackDate(v.closedAt, v.timezone) : '';
  const done = v.decided;
  const left = v.total - done;
  const outcome = v.undecided === 'keep' ? 'kept' : 'revoked';
  return (
    `This review closed ${when}: ${done} of your ${v.total} items were decided` +
    (left ? `; ${left} nobody decided were ${outcome} as the review says.` : '.') +
    ' Buttons on it no longer work.'
  );
}

/** Where an item is shown: the page of the list (-1 elsewhere), to whom, and a heading before the holder. */
interface ItemPlace {
  page: number;
  viewerId: string;
  heading?: string;
}

function itemBlocks(item: ReviewItem, place: ItemPlace, tz: string): KnownBlock[] {
  const holder = `*${escapeMrkdwn(item.holder.name)}* (${escapeMrkdwn(item.holder.email)})`;
  const lines = [place.heading ? `${place.heading} · ${holder}` : holder, howObtained(item, tz)];
  if (item.reviewer.fallbackReason && place.page >= 0)
    lines.push(`_You review this because ${escapeMrkdwn(item.reviewer.fallbackReason)}._`);
  const text = truncateMrkdwn(lines.join('\n'), ITEM_CHARS);
  if (item.decision === 'pending') {
    const value = encodeReviewRef({ id: item.id, page: place.page });
    const actions: ActionsBlock = {
      type: 'actions',
      block_id: `review_item:${item.id}`.slice(0, LIMITS.blockId),
      elements: [
        {
          type: 'button',
          action_id: ACTION.reviewKeep,
          style: 'primary',
          text: { type: 'plain_text', text: 'Keep' },
          value,
        },
        {
          type: 'button',
          action_id: ACTION.reviewRevoke,
          style: 'danger',
          text: { type: 'plain_text', text: 'Revoke…' },
          value,
        },
      ],
    };
    return [section(text), actions];
  }
  return [section(text), context(decisionLine(item, place.viewerId, tz))];
}

/** How the holder got the access: the grant, who approved it and its dates, or standing membership. */
export function howObtained(item: ReviewItem, tz: string): string {
  const s = item.source;
  if (s.kind === 'standing') {
    return item.access.kind === 'group'
      ? `Standing member of ${escapeMrkdwn(item.access.group)} (not granted through the bot)`
      : 'Standing access (not granted through the bot)';
  }
  const approvers =
    s.approvedBy.length > APPROVERS_SHOWN
      ? [...s.approvedBy.slice(0, APPROVERS_SHOWN - 1), `${s.approvedBy.length - APPROVERS_SHOWN + 1} more`]
      : s.approvedBy;
  const since = s.grantedAt ? ` · since ${slackDate(s.grantedAt, tz)}` : '';
  const until = s.expiresAt ? ` · until ${slackDate(s.expiresAt, tz)}` : '';
  return `Grant \`${s.grantId}\`, ${approvers[0]?.startsWith('auto-approved') ? 'auto-approved by its policy' : `approved by ${escapeMrkdwn(list(approvers.map(nameOnly)))}`}${since}${until}`;
}

function nameOnly(entry: string): string {
  return entry.replace(/ <[^>]*>$/, '');
}

function decisionLine(item: ReviewItem, viewerId: string, tz: string): string {
  const by = item.decidedBy
    ? item.decidedBy.directoryId === viewerId
      ? 'you'
      : escapeMrkdwn(item.decidedBy.name)
    : 'nobody';
  const at = item.decidedAt ? ` ${slackDate(item.decidedAt, tz)}` : '';
  const removal = removalText(item, tz);
  switch (item.decision) {
    case 'keep':
      return `✅ Kept by ${by}${at}`;
    case 'revoke':
      return `🗑️ Revoked by ${by}${at}${item.reason ? `: ${escapeMrkdwn(truncate(item.reason, 200))}` : ''}${removal}`;
    case 'undecided':
      return `⏳ Nobody decided it by the due time${removal || ': kept'}`;
    default:
      return '';
  }
}

function removalText(item: ReviewItem, tz: string): string {
  switch (item.remediation) {
    case 'removed':
      return ` · removal verified${item.remediatedAt ? ` ${slackDate(item.remediatedAt, tz)}` : ''}`;
    case 'pending':
      return ` · removal in progress${item.remediationDetail ? ` (${escapeMrkdwn(truncate(item.remediationDetail, 120))})` : ''}`;
    case 'failed':
      return ` · ⚠️ removal failed: ${escapeMrkdwn(truncate(item.remediationDetail ?? 'see the alerts channel', 160))}`;
    default:
      return '';
  }
}

function navigation(v: ReviewerListView): ActionsBlock | null {
  const elements: Button[] = [];
  if (v.page > 0) {
    elements.push({
      type: 'button',
      action_id: `${ACTION.reviewPage}:prev`,
      text: { type: 'plain_text', text: '◀ Previous' },
      value: encodeReviewRef({ id: v.campaignId, page: v.page - 1 }),
    });
  }
  if (v.page + 1 < v.pageCount) {
    elements.push({
      type: 'button',
      action_id: `${ACTION.reviewPage}:next`,
      text: { type: 'plain_text', text: 'Next ▶' },
      value: encodeReviewRef({ id: v.campaignId, page: v.page + 1 }),
    });
  }
  if (v.pending > 0) {
    elements.push({
      type: 'button',
      action_id: ACTION.reviewKeepRest,
      text: { type: 'plain_text', text: truncate(`Keep the rest (${v.pending})`, LIMITS.buttonText) },
      value: encodeReviewRef({ id: v.campaignId, page: v.page }),
      confirm: {
        title: { type: 'plain_text', text: 'Keep the rest?' },
        text: {
          type: 'mrkdwn',
          text: truncateMrkdwn(
            `Keep all ${v.pending} items still undecided in your list, on every page? Each is recorded as your decision, with the time you took.`,
            LIMITS.confirmText,
          ),
        },
        confirm: { type: 'plain_text', text: truncate(`Keep ${v.pending}`, LIMITS.confirmButton) },
        deny: { type: 'plain_text', text: 'Cancel' },
      },
    });
  }
  return elements.length ? { type: 'actions', block_id: BLOCK.reviewNav, elements } : null;
}

/** The reminder before the due time (only ever sent to a reviewer with something left). */
export function reviewReminderMessage(input: {
  reviewName: string;
  pending: number;
  total: number;
  dueAt: string;
  leadSeconds: number;
  timezone: string;
}): SlackMessage {
  const text =
    `⏰ ${input.pending} of your ${input.total} items in *${escapeMrkdwn(input.reviewName)}* are still undecided; ` +
    `the review is due ${slackDate(input.dueAt, input.timezone)} (in ${duration(input.leadSeconds)}). ` +
    'Your list is in this conversation, above; `/access review` shows it too.';
  const plain = `Reminder: ${input.pending} of your ${input.total} items in ${input.reviewName} are still undecided; due in ${duration(input.leadSeconds)}.`;
  return { text: escapeMrkdwn(plain), blocks: [section(text)] };
}

/** Revoke… asks why; the holder and the evidence keep the reason. */
export function reviewRevokeModal(input: {
  item: ReviewItem;
  accessName: string;
  privateMetadata: string;
  remediate: 'remove' | 'report';
}): ModalView {
  const item = input.item;
  const what = `*${escapeMrkdwn(item.holder.name)}* (${escapeMrkdwn(item.holder.email)}) · *${escapeMrkdwn(input.accessName)}*`;
  const effect =
    item.source.kind === 'grant'
      ? 'The grant is revoked at once; its removal is verified with the provider.'
      : input.remediate === 'remove'
        ? 'The bot removes this standing membership through the directory and reads it back.'
        : 'The access team is asked to remove this standing membership; the bot verifies it is gone.';
  return {
    type: 'modal',
    callback_id: CALLBACK.reviewRevoke,
    private_metadata: input.privateMetadata,
    title: { type: 'plain_text', text: 'Revoke access' },
    submit: { type: 'plain_text', text: 'Revoke' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      section(truncateMrkdwn(`${what}\n${effect}`, LIMITS.sectionText)),
      {
        type: 'input',
        block_id: BLOCK.reviewReason,
        label: { type: 'plain_text', text: 'Why should it go?' },
        element: { type: 'plain_text_input', action_id: ACTION.reviewReason, multiline: true, max_length: 1000 },
      },
    ],
  };
}

/** `/access review` and the App Home: the undecided items given to a person, with their campaign. */
export interface MyReviewsView {
  viewerId: string;
  campaigns: {
    campaignId: string;
    reviewName: string;
    dueAt: string;
    pending: number;
    total: number;
    items: ReviewItem[];
  }[];
  accessNames: Record<string, string>;
  timezone: string;
}

/** Items per campaign in `/access review`'s reply (the DM has them all). */
export const MY_REVIEW_ITEMS_SHOWN = 6;

/** The items of `myReviewsBlocks`, each group of blocks whole (a heading, an item and its buttons, a "more" line). */
export function myReviewsGroups(v: MyReviewsView, itemsPerCampaign = MY_REVIEW_ITEMS_SHOWN): KnownBlock[][] {
  const groups: KnownBlock[][] = [];
  for (const c of v.campaigns) {
    groups.push([
      section(
        `*${escapeMrkdwn(c.reviewName)}* · ${c.pending} of ${c.total} left · due ${slackDate(c.dueAt, v.timezone)}`,
      ),
    ]);
    const shown = c.items.slice(0, itemsPerCampaign);
    for (const item of shown) {
      const label = accessKey(item);
      groups.push(
        itemBlocks(
          item,
          { page: -1, viewerId: v.viewerId, heading: `*${escapeMrkdwn(v.accessNames[label] ?? label)}*` },
          v.timezone,
        ),
      );
    }
    if (c.pending > shown.length) {
      groups.push([
        context(`…and ${c.pending - shown.length} more in your DM with the bot (its list has *Keep the rest*).`),
      ]);
    }
  }
  return groups;
}

function myReviewsBlocks(v: MyReviewsView, itemsPerCampaign = MY_REVIEW_ITEMS_SHOWN): KnownBlock[] {
  return myReviewsGroups(v, itemsPerCampaign).flat();
}

export function myReviewsMessage(v: MyReviewsView): SlackMessage {
  if (v.campaigns.length === 0)
    return { text: 'No access review is waiting for you.', blocks: [section('No access review is waiting for you.')] };
  const blocks = [section('*Access reviews waiting for you*'), ...myReviewsBlocks(v)];
  const n = v.campaigns.reduce((sum, c) => sum + c.pending, 0);
  return {
    text: `${n} access review item${n === 1 ? '' : 's'} waiting for you.`,
    blocks: fitTextBudget(blocks).slice(0, LIMITS.messageBlocks),
  };
}

function accessKey(item: ReviewItem): string {
  return item.access.kind === 'role' ? `${item.access.app}/${item.access.role}` : `group:${item.access.group}`;
}
