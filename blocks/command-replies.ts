/**
 * The `/access` command's ephemeral replies: help, `list` (my access and my pending requests, with
 * their buttons), `pending` (the approval messages waiting for me, as approvers see them in DMs)
 * and `whoami`. Each fits one message: lists are cut with "and N more" before Slack's 50 blocks.
 */
import type { KnownBlock } from '@slack/web-api';
import { approvalMessage, type SlackMessage } from './approval-message.js';
import { escapeMrkdwn } from './escape.js';
import { duration, groupName, list, slackDate } from './format.js';
import { activeGrantButtons, cancelButton } from './grant-buttons.js';
import { LIMITS, blockText, capList, fitTextBudget, truncateMrkdwn } from './limits.js';
import type { GrantLine, PersonLabel, RequestCard, RequestLine } from './view-models.js';
import { context, section } from './block-parts.js';

/** One line of the help: the command, its arguments, what it does (mrkdwn). */
export interface HelpLine {
  usage: string;
  args: string[];
  summary: string;
}

/** The help: a line per subcommand (the Slack adapter's subcommand table), after an optional first line. */
export function helpMessage(lines: readonly HelpLine[], prefix?: string): SlackMessage {
  const help = lines.map((l) => `*${l.usage}*${l.args.map((a) => ` \`${a}\``).join('')} — ${l.summary}`);
  const text = [prefix, ...help].filter(Boolean).join('\n');
  return { text: truncateMrkdwn(text, LIMITS.messageText), blocks: [section(text)] };
}

/** One section of (already escaped) mrkdwn: a short answer. */
export function textMessage(text: string): SlackMessage {
  return { text: truncateMrkdwn(text, LIMITS.messageText), blocks: [section(text)] };
}

/** Text kept free for what follows a capped list (a header, a closing line, the "and N more"). */
const RESERVED_TEXT = 1_000;

/**
 * Appends groups of blocks while they fit under `limit` blocks (keeping `reserve` blocks free for
 * what follows) and under the message's text budget (LIMITS.messageBlocksTextBudget, keeping room
 * for what follows); the rest become one "…and N more" line.
 */
export function appendCapped(
  blocks: KnownBlock[],
  groups: KnownBlock[][],
  limit: number,
  reserve: number,
  more: (n: number) => string,
): void {
  let shown = 0;
  let text = blockText(blocks);
  for (const group of groups) {
    // One block kept for the "and N more" line itself, unless this is the last group.
    const needs = group.length + (shown + 1 < groups.length ? 1 : 0);
    if (blocks.length + needs + reserve > limit) break;
    const groupText = blockText(group);
    if (text + groupText + RESERVED_TEXT > LIMITS.messageBlocksTextBudget) break;
    blocks.push(...group);
    text += groupText;
    shown++;
  }
  if (shown < groups.length) blocks.push(context(more(groups.length - shown)));
}

function grantStatusLine(grant: GrantLine, timezone: string): string {
  const what = `*${escapeMrkdwn(grant.appName)} ${escapeMrkdwn(grant.roleName)}*`;
  switch (grant.status) {
    case 'active':
      return `🔓 ${what} until ${grant.expiresAt ? slackDate(grant.expiresAt, timezone) : 'revoked'}`;
    case 'provisioning':
      return grant.removal.kind === 'manual'
        ? `⏳ ${what}: someone from ${escapeMrkdwn(groupName(grant.removal.assigneeGroup))} is setting it up by hand`
        : `⏳ ${what}: being set up`;
    case 'revoking':
      return `🔒 ${what}: being removed`;
    case 'provisioning_failed':
      return `⚠️ ${what}: setting it up failed; the access team was alerted`;
    case 'revoked':
      return `${what}: ended`;
  }
}

/** One grant: its line, and Extend / I'm done while it is active. */
export function grantBlocks(grant: GrantLine, timezone: string): KnownBlock[] {
  const blocks: KnownBlock[] = [section(grantStatusLine(grant, timezone))];
  if (grant.status === 'active')
    blocks.push({
      type: 'actions',
      elements: activeGrantButtons({ ...grant, removal: grant.removal }, `${grant.appName} ${grant.roleName}`),
    });
  return blocks;
}

function requestLineText(request: RequestLine, timezone: string): string {
  const ext = request.kind === 'extension' ? 'extension of ' : '';
  const shortened =
    request.grantedSeconds !== null && request.grantedSeconds < request.requestedSeconds
      ? `${duration(request.grantedSeconds)} (you asked for ${duration(request.requestedSeconds)}; an approver shortened it)`
      : duration(request.requestedSeconds);
  const step = request.stepTitle ? `\nWaiting for ${request.stepTitle.replace(/^Step/, 'step')}` : '';
  // Who exactly it waits on now, and since when: the person to nudge.
  const on = request.waitingOn?.length
    ? `\n⏳ Waiting on ${list(capList(request.waitingOn.map(escapeMrkdwn), 6, (n) => `${n} more`))}${request.waitingSince ? ` since ${slackDate(request.waitingSince, timezone)}` : ''}`
    : '';
  return `📨 ${ext}*${escapeMrkdwn(request.appName)} ${escapeMrkdwn(request.roleName)}* for ${shortened}, asked ${slackDate(request.createdAt, timezone)}${step}${on}`;
}

/** One pending request: its line with a Cancel button (confirmed first). */
export function requestBlock(request: RequestLine, timezone: string): KnownBlock {
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: truncateMrkdwn(requestLineText(request, timezone), LIMITS.sectionText) },
    accessory: cancelButton(request.requestId, `${request.appName} ${request.roleName}`),
  };
}

export function listMessage(model: { grants: GrantLine[]; requests: RequestLine[]; timezone: string }): SlackMessage {
  const tz = model.timezone;
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: 'Your access' } }];
  if (model.grants.length === 0)
    blocks.push(section('You hold no access through the bot. `/access request` asks for some.'));
  // Room for the requests header, one request and the closing line.
  appendCapped(
    blocks,
    model.grants.map((g) => grantBlocks(g, tz)),
    LIMITS.messageBlocks,
    4,
    (n) => `…and ${n} more: the bot's App Home lists them all.`,
  );
  blocks.push({ type: 'header', text: { type: 'plain_text', text: 'Your pending requests' } });
  if (model.requests.length === 0) blocks.push(section('None waiting for approval.'));
  appendCapped(
    blocks,
    model.requests.map((r) => [requestBlock(r, tz)]),
    LIMITS.messageBlocks,
    1,
    (n) => `…and ${n} more: the bot's App Home lists them all.`,
  );
  const text = `You hold ${model.grants.length} grant${model.grants.length === 1 ? '' : 's'} and have ${model.requests.length} pending request${model.requests.length === 1 ? '' : 's'}.`;
  return { text, blocks: fitTextBudget(blocks.slice(0, LIMITS.messageBlocks)) };
}

/** The approval messages waiting for one approver, each as it looks in their DM, buttons included. */
export function pendingMessage(
  asks: { card: RequestCard; stepIndex: number; forPerson?: PersonLabel }[],
  approverId: string,
): SlackMessage {
  const blocks: KnownBlock[] = [{ type: 'header', text: { type: 'plain_text', text: 'Approvals waiting for you' } }];
  if (asks.length === 0) {
    blocks.push(section('Nothing is waiting for your decision.'));
    return { text: 'Nothing is waiting for your decision.', blocks };
  }
  const groups = asks.map(({ card, stepIndex, forPerson }, i) => {
    // Block ids must be unique in a message: each ask's get its position appended.
    const audience = { kind: 'person' as const, directoryId: approverId, ...(forPerson ? { forPerson } : {}) };
    const own = approvalMessage(card, stepIndex, audience).blocks.map((b) =>
      b.block_id ? { ...b, block_id: `${b.block_id}:${i}` } : b,
    );
    return i === 0 ? own : [{ type: 'divider' } as KnownBlock, ...own];
  });
  appendCapped(
    blocks,
    groups,
    LIMITS.messageBlocks,
    0,
    (n) => `…and ${n} more waiting: each is also in your DM with the bot, and in its App Home.`,
  );
  const text = `${asks.length} approval${asks.length === 1 ? '' : 's'} waiting for you`;
  return { text, blocks: fitTextBudget(blocks.slice(0, LIMITS.messageBlocks)) };
}

export interface WhoamiView {
  slackUserId: string;
  directoryId: string;
  email: string;
  name: string;
  boundAt: string;
  directoryStatus: string;
  timezone: string;
}

export function whoamiMessage(me: WhoamiView): SlackMessage {
  const blocks: KnownBlock[] = [
    section(`You are matched to *${escapeMrkdwn(me.name)}* in the directory.`),
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Slack user id*\n\`${escapeMrkdwn(me.slackUserId)}\`` },
        {
          type: 'mrkdwn',
          text: truncateMrkdwn(`*Directory id*\n\`${escapeMrkdwn(me.directoryId)}\``, LIMITS.fieldText),
        },
        { type: 'mrkdwn', text: truncateMrkdwn(`*Email*\n${escapeMrkdwn(me.email)}`, LIMITS.fieldText) },
        { type: 'mrkdwn', text: `*Bound since*\n${slackDate(me.boundAt, me.timezone)}` },
        {
          type: 'mrkdwn',
          text: truncateMrkdwn(`*Directory status*\n${escapeMrkdwn(me.directoryStatus)}`, LIMITS.fieldText),
        },
      ],
    },
    context(
      'The pair of ids is recorded on every decision you make. If your email changes, an admin re-matches you with `access-bot identity unbind`.',
    ),
  ];
  return { text: escapeMrkdwn(`You are ${me.email} (${me.directoryId}) in the directory`), blocks };
}
