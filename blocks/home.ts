/**
 * The App Home tab: my access with its expiry (Extend, I'm done), my pending requests (Cancel),
 * the approvals waiting for me (Approve, Deny), and the roles I may request (Request opens the form
 * prefilled). Admins also get Export and Revoke. A Home tab holds at most 100 blocks: each list is
 * cut to a share of them with "and N more" (the `/access` commands show the rest).
 */
import type { HomeView, KnownBlock } from '@slack/web-api';
import { grantBlocks, requestBlock } from './command-replies.js';
import { escapeMrkdwn } from './escape.js';
import { duration, slackDate, who } from './format.js';
import { ACTION, encodeRoleRef, encodeStepRef } from './ids.js';
import { LIMITS, truncate, truncateMrkdwn } from './limits.js';
import type { ApprovalLine, CatalogRoleLine, HomeModel } from './view-models.js';

/** Most items each list shows before "and N more", so one long list cannot crowd out the others. */
export const HOME_SHARES = { grants: 12, requests: 8, approvals: 10, catalog: 30 } as const;

function section(text: string): KnownBlock {
  return { type: 'section', text: { type: 'mrkdwn', text: truncateMrkdwn(text, LIMITS.sectionText) } };
}

function header(text: string): KnownBlock {
  return { type: 'header', text: { type: 'plain_text', text: truncate(text, LIMITS.headerText) } };
}

function context(text: string): KnownBlock {
  return { type: 'context', elements: [{ type: 'mrkdwn', text: truncateMrkdwn(text, LIMITS.contextText) }] };
}

function approvalBlocks(a: ApprovalLine, tz: string): KnownBlock[] {
  const ref = encodeStepRef({ requestId: a.requestId, stepIndex: a.stepIndex });
  const ext = a.kind === 'extension' ? 'an extension of ' : '';
  return [
    section(`${who(a.requester)} (${escapeMrkdwn(a.requester.email)}) asks for ${ext}*${escapeMrkdwn(a.appName)} ${escapeMrkdwn(a.roleName)}* for *${duration(a.seconds)}*, ${slackDate(a.createdAt, tz)}\n${a.stepTitle} · the justification is in your DM`),
    {
      type: 'actions',
      elements: [
        { type: 'button', action_id: ACTION.approve, style: 'primary', text: { type: 'plain_text', text: truncate(`Approve ${duration(a.seconds)}`, LIMITS.buttonText) }, value: ref },
        { type: 'button', action_id: ACTION.deny, style: 'danger', text: { type: 'plain_text', text: 'Deny…' }, value: ref },
      ],
    },
  ];
}

function catalogBlock(r: CatalogRoleLine): KnownBlock {
  const text = `*${escapeMrkdwn(r.appName)} · ${escapeMrkdwn(r.roleName)}*\n${escapeMrkdwn(r.summary)}${r.held ? ' · _you hold it_' : ''}${r.pending ? ' · _asked, waiting for approval_' : ''}`;
  if (r.pending) return section(text);
  return {
    type: 'section',
    text: { type: 'mrkdwn', text: truncateMrkdwn(text, LIMITS.sectionText) },
    accessory: { type: 'button', action_id: ACTION.requestRole, text: { type: 'plain_text', text: r.held ? 'Extend…' : 'Request…' }, value: encodeRoleRef(r.app, r.role) },
  };
}

export function homeView(model: HomeModel): HomeView {
  const tz = model.timezone;
  const limit = LIMITS.viewBlocks;
  const blocks: KnownBlock[] = [
    header('Access'),
    context(`Signed in as ${who(model.person)} (${escapeMrkdwn(model.person.email)}). Everything here is also a command: \`/access help\`.`),
  ];
  if (model.problem) blocks.push(section(`⚠️ ${escapeMrkdwn(model.problem)}`));
  // What the sections after the current one need at least: a header and one line each (+ admin).
  const adminBlocks = model.admin ? 3 : 0;
  const more = (n: number, what: string) => `…and ${n} more ${what}: \`/access list\` shows them all.`;

  blocks.push({ type: 'divider' }, header('Your access'));
  if (model.grants.length === 0) blocks.push(section('You hold no access through the bot.'));
  pushShare(blocks, model.grants.map((g) => grantBlocks(g, tz)), HOME_SHARES.grants, limit, 9 + adminBlocks, (n) => more(n, 'grants'));

  blocks.push(header('Your pending requests'));
  if (model.requests.length === 0) blocks.push(section('None waiting for approval.'));
  pushShare(blocks, model.requests.map((r) => [requestBlock(r, tz)]), HOME_SHARES.requests, limit, 6 + adminBlocks, (n) => more(n, 'requests'));

  blocks.push(header('Waiting for your approval'));
  if (model.approvals.length === 0) blocks.push(section('Nothing is waiting for your decision.'));
  pushShare(blocks, model.approvals.map((a) => approvalBlocks(a, tz)), HOME_SHARES.approvals, limit, 3 + adminBlocks, (n) => `…and ${n} more waiting: \`/access pending\` shows them all.`);

  blocks.push(header('Request access'));
  if (model.catalog.length === 0) blocks.push(section('There is no role you may request right now (your directory groups decide which).'));
  pushShare(blocks, model.catalog.map((r) => [catalogBlock(r)]), HOME_SHARES.catalog, limit, adminBlocks, (n) => `…and ${n} more roles: \`/access request\` lists every application.`);

  if (model.admin) {
    blocks.push(header('Admin'));
    blocks.push(section('You are in the admin group: export the audit evidence, or revoke someone\'s access with a reason.'));
    blocks.push({
      type: 'actions',
      elements: [
        { type: 'button', action_id: ACTION.openExport, text: { type: 'plain_text', text: 'Export CSV…' } },
        { type: 'button', action_id: ACTION.openRevoke, style: 'danger', text: { type: 'plain_text', text: 'Revoke access…' } },
      ],
    });
  }
  return { type: 'home', blocks: blocks.slice(0, limit) };
}

/** Up to `share` groups, within the view's block limit; the rest counted in one line. */
function pushShare(blocks: KnownBlock[], groups: KnownBlock[][], share: number, limit: number, reserve: number, more: (n: number) => string): void {
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
