/**
 * The App Home tab: my access with its expiry (Extend, I'm done), my pending requests (Cancel),
 * manual tasks waiting for my group (Done), the approvals waiting for me with their justification
 * (Approve, Deny, also as someone's delegate), emergency access waiting for my review (Review,
 * Revoke now), access review items waiting for me (Keep, Revoke…), the delegations I give or
 * receive, and the roles I may request, summarised for me (Request opens the form prefilled).
 * Admins also see who holds access now, and get Export and Revoke. A Home tab holds at most 100
 * blocks: each list is cut to a share of them with "and N more" (the `/access` commands
 * show the rest). Someone whose directory account is not active gets one sentence instead.
 */
import type { ActionsBlock, HomeView, KnownBlock } from '@slack/web-api';
import { grantBlocks, requestBlock } from './command-replies.js';
import { channelLink, escapeMrkdwn, quote } from './escape.js';
import { duration, slackDate, who } from './format.js';
import { ACTION, encodeRoleRef, encodeStepRef } from './ids.js';
import { taskDoneButton } from './task-message.js';
import { myReviewsGroups } from './review-message.js';
import { LIMITS, truncate, truncateMrkdwn } from './limits.js';
import type {
  ApprovalLine,
  BreakGlassLine,
  CatalogRoleLine,
  DelegationLine,
  HoldingLine,
  HomeModel,
  TaskLine,
} from './view-models.js';
import { context, header, section } from './block-parts.js';

/** Most items each list shows before "and N more", so one long list cannot crowd out the others. */
export const HOME_SHARES = {
  grants: 12,
  requests: 8,
  tasks: 6,
  breakGlass: 5,
  reviews: 6,
  approvals: 8,
  catalog: 30,
  holdings: 10,
} as const;
/** Enough of a justification to decide on; the message has all of it. */
const JUSTIFICATION_SHOWN = 300;

function approvalBlocks(a: ApprovalLine, tz: string): KnownBlock[] {
  const ref = encodeStepRef({ requestId: a.requestId, stepIndex: a.stepIndex });
  const ext = a.kind === 'extension' ? 'an extension of ' : '';
  const shortened =
    a.seconds < a.requestedSeconds
      ? ` (asked for ${duration(a.requestedSeconds)}, shortened by an earlier approver)`
      : '';
  const why = a.justification.trim()
    ? quote(truncate(a.justification, JUSTIFICATION_SHOWN))
    : '>_no justification given_';
  const where =
    a.where.kind === 'channel'
      ? `The request is in ${channelLink(a.where.channel)}, with every detail.`
      : 'The request is in your DM, with every detail.';
  return [
    section(
      `${who(a.requester)} (${escapeMrkdwn(a.requester.email)}) asks for ${ext}*${escapeMrkdwn(a.appName)} ${escapeMrkdwn(a.roleName)}* for *${duration(a.seconds)}*${shortened}, ${slackDate(a.createdAt, tz)}\n${why}`,
    ),
    context(
      `${a.stepTitle} · ${a.forPerson ? `🤝 for ${who(a.forPerson)}, who delegated their approvals to you · ` : ''}${where}`,
    ),
    {
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: ACTION.approve,
          style: 'primary',
          text: { type: 'plain_text', text: truncate(`Approve ${duration(a.seconds)}`, LIMITS.buttonText) },
          value: ref,
        },
        {
          type: 'button',
          action_id: ACTION.deny,
          style: 'danger',
          text: { type: 'plain_text', text: 'Deny…' },
          value: ref,
        },
      ],
    },
  ];
}

function reviewBlocks(r: BreakGlassLine, tz: string): KnownBlock[] {
  const why = r.justification.trim()
    ? quote(truncate(r.justification, JUSTIFICATION_SHOWN))
    : '>_no justification given_';
  const state =
    r.grantStatus === 'active' && r.expiresAt
      ? `active until ${slackDate(r.expiresAt, tz)}`
      : r.grantStatus.replaceAll('_', ' ');
  const elements: ActionsBlock['elements'] = [
    {
      type: 'button',
      action_id: ACTION.reviewBreakGlass,
      style: 'primary',
      text: { type: 'plain_text', text: 'Review…' },
      value: r.grantId,
    },
  ];
  if (r.grantStatus === 'active' || r.grantStatus === 'provisioning') {
    elements.push({
      type: 'button',
      action_id: ACTION.revokeBreakGlass,
      style: 'danger',
      text: { type: 'plain_text', text: 'Revoke now…' },
      value: r.grantId,
    });
  }
  return [
    section(
      `🚨 ${who(r.holder)} took *${escapeMrkdwn(r.appName)} ${escapeMrkdwn(r.roleName)}* for ${duration(r.durationSeconds)}, ${slackDate(r.takenAt, tz)} (${state})${r.incident ? ` · incident ${escapeMrkdwn(r.incident)}` : ''}\n${why}`,
    ),
    context(`Review due ${slackDate(r.dueAt, tz)}`),
    { type: 'actions', elements },
  ];
}

function delegationLine(d: DelegationLine, tz: string): KnownBlock {
  const text =
    d.direction === 'mine'
      ? `🤝 ${who(d.other)} decides your approvals until ${slackDate(d.endsAt, tz)}.`
      : `🤝 You decide ${who(d.other)}'s approvals until ${slackDate(d.endsAt, tz)}.`;
  if (d.direction !== 'mine') return section(text);
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: truncateMrkdwn(text, LIMITS.sectionText) },
    accessory: {
      type: 'button',
      action_id: ACTION.endDelegation,
      text: { type: 'plain_text', text: 'End delegation' },
      value: d.delegationId,
    },
  };
}

function catalogBlock(r: CatalogRoleLine): KnownBlock {
  const text = `*${escapeMrkdwn(r.appName)} · ${escapeMrkdwn(r.roleName)}*\n${escapeMrkdwn(r.summary)}${r.held ? ' · _you hold it_' : ''}${r.pending ? ' · _asked, waiting for approval_' : ''}`;
  if (r.pending) return section(text);
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: truncateMrkdwn(text, LIMITS.sectionText) },
    accessory: {
      type: 'button',
      action_id: ACTION.requestRole,
      text: { type: 'plain_text', text: r.held ? 'Extend…' : 'Request…' },
      value: encodeRoleRef(r.app, r.role),
    },
  };
}

function taskBlock(t: TaskLine, tz: string): KnownBlock[] {
  const what = `*${escapeMrkdwn(t.appName)} ${escapeMrkdwn(t.roleName)}*`;
  const line =
    t.action === 'grant'
      ? `🛠️ Give ${who(t.holder)} ${what} by hand, then press *Done*. Asked ${slackDate(t.createdAt, tz)}.`
      : `🛠️ Remove ${what} from ${who(t.holder)} by hand, then press *Done*. Asked ${slackDate(t.createdAt, tz)}.`;
  return [
    {
      type: 'section',
      text: { type: 'mrkdwn', text: truncateMrkdwn(line, LIMITS.sectionText) },
      accessory: taskDoneButton(t),
    },
  ];
}

function holdingLine(h: HoldingLine, tz: string): string {
  return `${h.sensitive ? '🛡️' : '🔓'} *${escapeMrkdwn(h.appName)} ${escapeMrkdwn(h.roleName)}* · ${who(h.holder)}${h.expiresAt ? ` · until ${slackDate(h.expiresAt, tz)}` : ''}`;
}

export function homeView(model: HomeModel): HomeView {
  const tz = model.timezone;
  const limit = LIMITS.viewBlocks;
  if (model.inactive) {
    return {
      type: 'home',
      blocks: [
        header('Access'),
        section(
          `Your directory account (${escapeMrkdwn(model.person.email)}) is not active, so the bot cannot act for you. If that is a mistake, ask IT to reactivate it.`,
        ),
      ],
    };
  }
  const blocks: KnownBlock[] = [
    header('Access'),
    context(
      `Signed in as ${who(model.person)} (${escapeMrkdwn(model.person.email)}). Everything here is also a command: \`/access help\`.`,
    ),
  ];
  if (model.problem) blocks.push(section(`⚠️ ${escapeMrkdwn(model.problem)}`));
  if (model.notice) blocks.push(section(escapeMrkdwn(model.notice)));
  // What the sections after the current one need at least: a header and one line each (+ admin).
  const adminBlocks = model.admin ? 6 : 0;
  const taskBlocks = model.tasks.length ? 2 : 0;
  const more = (n: number, what: string) => `…and ${n} more ${what}: \`/access list\` shows them all.`;

  blocks.push({ type: 'divider' }, header('Your access'));
  if (model.grants.length === 0) blocks.push(section('You hold no access through the bot.'));
  pushShare(
    blocks,
    model.grants.map((g) => grantBlocks(g, tz)),
    HOME_SHARES.grants,
    limit,
    10 + taskBlocks + adminBlocks,
    (n) => more(n, 'grants'),
  );

  blocks.push(header('Your pending requests'));
  if (model.requests.length === 0) blocks.push(section('None waiting for approval.'));
  pushShare(
    blocks,
    model.requests.map((r) => [requestBlock(r, tz)]),
    HOME_SHARES.requests,
    limit,
    7 + taskBlocks + adminBlocks,
    (n) => more(n, 'requests'),
  );

  if (model.tasks.length) {
    blocks.push(header('Your tasks'));
    pushShare(
      blocks,
      model.tasks.map((t) => taskBlock(t, tz)),
      HOME_SHARES.tasks,
      limit,
      7 + adminBlocks,
      (n) => `…and ${n} more tasks: each is in your DM with the bot.`,
    );
  }

  const breakGlass = model.breakGlassReviews ?? [];
  if (breakGlass.length) {
    blocks.push(header('Emergency access to review'));
    pushShare(
      blocks,
      breakGlass.map((r) => reviewBlocks(r, tz)),
      HOME_SHARES.breakGlass,
      limit,
      6 + adminBlocks,
      (n) => `…and ${n} more to review: each alert is in the security channel.`,
    );
  }

  const reviews = model.reviews;
  if (reviews && reviews.campaigns.length) {
    blocks.push(header('Access reviews waiting for you'));
    // Whole items only, and room kept for the sections after this one.
    for (const group of myReviewsGroups(reviews, HOME_SHARES.reviews)) {
      if (blocks.length + group.length + 3 + taskBlocks + adminBlocks > limit) break;
      blocks.push(...group);
    }
  }

  blocks.push(header('Waiting for your approval'));
  if (model.approvals.length === 0) blocks.push(section('Nothing is waiting for your decision.'));
  pushShare(
    blocks,
    model.approvals.map((a) => approvalBlocks(a, tz)),
    HOME_SHARES.approvals,
    limit,
    3 + adminBlocks,
    (n) => `…and ${n} more waiting: \`/access pending\` shows them all.`,
  );

  const delegations = model.delegations ?? [];
  if (delegations.length) {
    blocks.push(header('Delegation'));
    pushShare(
      blocks,
      delegations.map((d) => [delegationLine(d, tz)]),
      4,
      limit,
      2 + adminBlocks,
      (n) => `…and ${n} more delegations.`,
    );
  } else {
    blocks.push(
      context('Away? `/access delegate @person until 2026-12-24` lets someone decide your approvals meanwhile.'),
    );
  }

  blocks.push(header('Request access'));
  if (model.catalog.length === 0)
    blocks.push(section('There is no role you may request right now (your directory groups decide which).'));
  pushShare(
    blocks,
    model.catalog.map((r) => [catalogBlock(r)]),
    HOME_SHARES.catalog,
    limit,
    adminBlocks,
    (n) => `…and ${n} more roles: \`/access request\` lists every application.`,
  );

  if (model.admin) {
    blocks.push(header('Admin'));
    const holdings = model.holdings;
    if (holdings) {
      const shown = holdings.lines.slice(0, HOME_SHARES.holdings);
      const lines = shown.length
        ? shown.map((h) => holdingLine(h, tz))
        : ['Nobody holds access through the bot right now.'];
      if (holdings.total > shown.length)
        lines.push(`…and ${holdings.total - shown.length} more: *Export CSV…* (access) lists everyone.`);
      blocks.push(section(`*Who holds access now* (${holdings.total}, sensitive first)\n${lines.join('\n')}`));
    }
    blocks.push(section("Export the audit evidence, or revoke someone's access with a reason."));
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', action_id: ACTION.openExport, text: { type: 'plain_text', text: 'Export CSV…' } },
        {
          type: 'button',
          action_id: ACTION.openRevoke,
          style: 'danger',
          text: { type: 'plain_text', text: 'Revoke access…' },
        },
      ],
    });
  }
  return { type: 'home', blocks: blocks.slice(0, limit) };
}

/** Up to `share` groups, within the view's block limit; the rest counted in one line. */
function pushShare(
  blocks: KnownBlock[],
  groups: KnownBlock[][],
  share: number,
  limit: number,
  reserve: number,
  more: (n: number) => string,
): void {
  let shown = 0;
  for (const group of groups.slice(0, share)) {
    // One block stays free for the "and N more" line whenever something is left out.
    const tail = shown + 1 < groups.length ? 1 : 0;
    if (blocks.length + group.length + tail + reserve > limit) break;
    blocks.push(...group);
    shown++;
  }
  if (shown < groups.length) blocks.push(context(more(groups.length - shown)));
}
