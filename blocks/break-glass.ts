/**
 * Break-glass messages and forms: the alert in the security channel (who, what, why, until when,
 * with Revoke now and Review, updated in place as it is reviewed or revoked), the new alert when a
 * reviewer finds it not justified, the DM to each admin when nobody reviewed it in time, the form
 * that takes emergency access, and the review and revoke forms. Every message's `text` (what a
 * phone's notification shows) says who, what and how long in one line.
 */
import type { ActionsBlock, KnownBlock, ModalView, PlainTextOption } from '@slack/web-api';
import type { SlackMessage } from './approval-message.js';
import { escapeMrkdwn, mention, quote } from './escape.js';
import { duration, groupName, plainDate, shortVersion, slackDate, who } from './format.js';
import { ACTION, BLOCK, CALLBACK } from './ids.js';
import { LIMITS, truncate, truncateMrkdwn } from './limits.js';
import type { BreakGlassAlertView, BreakGlassView } from './view-models.js';
import { context, quoteInline, section, title } from './block-parts.js';
import { infoModal } from './modals.js';

const OPEN_STATUSES = new Set(['provisioning', 'active']);

function reviewersWords(review: BreakGlassView): string {
  return review.reviewers.kind === 'group' ? groupName(review.reviewers.group) : review.reviewers.user;
}

/** "Ada Lovelace took GitHub Organization owner for 1 hour, until Fri 5 Dec 2026, 10:34 CET". */
function oneLine(view: BreakGlassAlertView): string {
  const until = view.expiresAt ? `, until ${plainDate(view.expiresAt, view.timezone)}` : '';
  return `${view.holder.name} took ${view.appName} ${view.roleName} for ${duration(view.durationSeconds)}${until}`;
}

function reviewState(review: BreakGlassView, tz: string): string {
  switch (review.status) {
    case 'pending':
      return `🔎 *Not reviewed yet*: ${escapeMrkdwn(reviewersWords(review))} reviews it by ${slackDate(review.dueAt, tz)}.`;
    case 'justified':
      return `✅ *Justified*, reviewed by ${review.reviewer ? who(review.reviewer) : 'a reviewer'}${review.reviewedAt ? ` ${slackDate(review.reviewedAt, tz)}` : ''}${review.reason ? `: ${quoteInline(review.reason)}` : '.'}`;
    case 'not_justified':
      return `⛔ *Not justified*, reviewed by ${review.reviewer ? who(review.reviewer) : 'a reviewer'}${review.reviewedAt ? ` ${slackDate(review.reviewedAt, tz)}` : ''}: ${quoteInline(review.reason ?? '')}`;
  }
}

function grantState(view: BreakGlassAlertView): string {
  const tz = view.timezone;
  switch (view.grantStatus) {
    case 'provisioning':
      return '⏳ Being set up now.';
    case 'active':
      return `🔓 Active until ${slackDate(view.expiresAt!, tz)}.`;
    case 'revoking':
    case 'revoked': {
      const by = view.revokedBy && !view.revokedBy.startsWith('system:') ? ` by ${escapeMrkdwn(view.revokedBy)}` : '';
      const ended = view.grantStatus === 'revoking' ? 'Being removed' : 'Ended';
      return `🔒 ${ended}${by}${view.revocationNote ? `: ${quoteInline(view.revocationNote)}` : '.'}`;
    }
    case 'provisioning_failed':
      return '⚠️ Setting it up failed.';
  }
}

/** The facts every break-glass message shows: who, what, why, until when, the incident. */
function factBlocks(view: BreakGlassAlertView): KnownBlock[] {
  const tz = view.timezone;
  const fields = [
    `*Who*\n${mention(view.holder)} (${escapeMrkdwn(view.holder.email)})`,
    `*What*\n${escapeMrkdwn(view.appName)} ${escapeMrkdwn(view.roleName)}`,
    `*How long*\n${duration(view.durationSeconds)}${view.expiresAt ? `, until ${slackDate(view.expiresAt, tz)}` : ''}`,
    `*Taken*\n${slackDate(view.takenAt, tz)}`,
  ];
  const blocks: KnownBlock[] = [
    {
      type: 'section',
      fields: fields.map((text) => ({ type: 'mrkdwn' as const, text: truncateMrkdwn(text, LIMITS.fieldText) })),
    },
    section(`*Why*\n${quote(truncate(view.justification || '(none given)', LIMITS.sectionText - 40))}`),
  ];
  if (view.review.incident) blocks.push(section(`*Incident*\n${escapeMrkdwn(view.review.incident)}`));
  return blocks;
}

function buttons(view: BreakGlassAlertView): ActionsBlock | null {
  const elements: ActionsBlock['elements'] = [];
  if (view.review.status === 'pending') {
    elements.push({
      type: 'button',
      action_id: ACTION.reviewBreakGlass,
      style: 'primary',
      text: { type: 'plain_text', text: 'Review…' },
      value: view.grantId,
    });
  }
  if (OPEN_STATUSES.has(view.grantStatus)) {
    elements.push({
      type: 'button',
      action_id: ACTION.revokeBreakGlass,
      style: 'danger',
      text: { type: 'plain_text', text: 'Revoke now…' },
      value: view.grantId,
    });
  }
  return elements.length ? { type: 'actions', block_id: BLOCK.breakGlassActions, elements } : null;
}

function footer(view: BreakGlassAlertView, who: string): KnownBlock {
  return context(
    `${who} · policy \`${escapeMrkdwn(view.policyName)}\` version \`${shortVersion(view.policyVersion)}\` · grant \`${view.grantId}\` · request \`${view.requestId}\``,
  );
}

/** The alert in the security channel, posted at once and updated as the access is reviewed or revoked. */
export function breakGlassAlert(view: BreakGlassAlertView): SlackMessage {
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncate(`🚨 Break-glass: ${view.appName} ${view.roleName}`, LIMITS.headerText),
      },
    },
    section(
      `${mention(view.holder)} took *emergency access* to *${escapeMrkdwn(view.appName)} ${escapeMrkdwn(view.roleName)}* without approval.`,
    ),
    ...factBlocks(view),
    section(`${grantState(view)}\n${reviewState(view.review, view.timezone)}`, 'state'),
  ];
  const actions = buttons(view);
  if (actions) blocks.push(actions);
  blocks.push(footer(view, 'Revoke now: reviewers and admins'));
  const state =
    view.review.status === 'pending'
      ? 'needs review'
      : view.review.status === 'justified'
        ? 'reviewed: justified'
        : 'reviewed: not justified';
  return { text: truncateMrkdwn(escapeMrkdwn(`Break-glass: ${oneLine(view)} (${state})`), LIMITS.messageText), blocks };
}

/** A reviewer found it not justified: a new alert, so the channel does not miss it. */
export function breakGlassNotJustified(view: BreakGlassAlertView): SlackMessage {
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncate(`⛔ Break-glass not justified: ${view.appName} ${view.roleName}`, LIMITS.headerText),
      },
    },
    section(`${reviewState(view.review, view.timezone)}`),
    ...factBlocks(view),
    section(grantState(view), 'state'),
    footer(view, 'The access is revoked if it was still active'),
  ];
  const by = view.review.reviewer ? ` by ${view.review.reviewer.name}` : '';
  return { text: truncateMrkdwn(escapeMrkdwn(`Not justified${by}: ${oneLine(view)}`), LIMITS.messageText), blocks };
}

/** To each admin: nobody reviewed it in time (day 0 when it became overdue, then daily). */
export function breakGlassOverdue(view: BreakGlassAlertView, day: number): SlackMessage {
  const tz = view.timezone;
  const since =
    day === 0
      ? `was due ${slackDate(view.review.dueAt, tz)}`
      : `has been overdue since ${slackDate(view.review.dueAt, tz)} (day ${day + 1})`;
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: {
        type: 'plain_text',
        text: truncate(`⚠️ Unreviewed break-glass: ${view.appName} ${view.roleName}`, LIMITS.headerText),
      },
    },
    section(
      `Nobody has reviewed ${who(view.holder)}'s emergency access yet: the review by ${escapeMrkdwn(reviewersWords(view.review))} ${since}. You are told because you are an admin; you may review it yourself.`,
    ),
    ...factBlocks(view),
    section(`${grantState(view)}\n${reviewState(view.review, tz)}`, 'state'),
  ];
  const actions = buttons(view);
  if (actions) blocks.push(actions);
  blocks.push(footer(view, 'Until someone reviews it, the admins are told again every day'));
  return { text: truncateMrkdwn(escapeMrkdwn(`Unreviewed break-glass: ${oneLine(view)}`), LIMITS.messageText), blocks };
}

/** What the form that takes emergency access needs to show. */
export interface BreakGlassFormModel {
  app: string;
  role: string;
  appName: string;
  roleName: string;
  choices: number[];
  defaultSeconds: number;
  maxSeconds: number;
  /** "Security team", or a person's email. */
  reviewers: string;
  reviewWithinSeconds: number;
  privateMetadata: string;
}

function option(text: string, value: string): PlainTextOption {
  return { text: { type: 'plain_text', text: truncate(text, LIMITS.optionText) }, value };
}

export function breakGlassModal(model: BreakGlassFormModel): ModalView {
  const ordered = [...model.choices].sort((a, b) => a - b);
  const options = ordered.map((s) =>
    option(s === model.defaultSeconds ? `${duration(s)} (default)` : duration(s), String(s)),
  );
  const initial = options.find((o) => o.value === String(model.defaultSeconds));
  return {
    type: 'modal',
    callback_id: CALLBACK.breakGlass,
    title: title('Emergency access'),
    submit: { type: 'plain_text', text: 'Get access now' },
    close: { type: 'plain_text', text: 'Cancel' },
    private_metadata: model.privateMetadata,
    blocks: [
      section(
        `🚨 *${escapeMrkdwn(model.appName)} ${escapeMrkdwn(model.roleName)}* now, without waiting for approvers, for at most *${duration(model.maxSeconds)}*. ` +
          `The security channel is told at once, and ${escapeMrkdwn(model.reviewers)} reviews it within ${duration(model.reviewWithinSeconds)}: use it for an incident, not to skip the queue.`,
      ),
      {
        type: 'input',
        block_id: BLOCK.duration,
        label: { type: 'plain_text', text: 'Duration' },
        hint: { type: 'plain_text', text: `At most ${duration(model.maxSeconds)}.` },
        element: {
          type: 'static_select',
          action_id: ACTION.duration,
          options,
          ...(initial ? { initial_option: initial } : {}),
        },
      },
      {
        type: 'input',
        block_id: BLOCK.justification,
        label: { type: 'plain_text', text: 'Justification' },
        hint: {
          type: 'plain_text',
          text: 'Required: what is broken, and why it cannot wait. The security channel and the reviewers read it.',
        },
        element: {
          type: 'plain_text_input',
          action_id: ACTION.justification,
          multiline: true,
          max_length: LIMITS.plainTextInput,
          placeholder: { type: 'plain_text', text: 'Production is down: …' },
        },
      },
      {
        type: 'input',
        block_id: BLOCK.incident,
        optional: true,
        label: { type: 'plain_text', text: 'Incident link' },
        hint: { type: 'plain_text', text: 'A link to the incident or its ticket id, if there is one.' },
        element: {
          type: 'plain_text_input',
          action_id: ACTION.incident,
          max_length: 500,
          placeholder: { type: 'plain_text', text: 'https://status.example.com/incidents/42 or INC-42' },
        },
      },
    ],
  };
}

/** The review form: Justified or Not justified, and why (required for Not justified). */
export function breakGlassReviewModal(view: BreakGlassAlertView, privateMetadata: string): ModalView {
  if (view.review.status !== 'pending') {
    return infoModal('Already reviewed', reviewState(view.review, view.timezone));
  }
  return {
    type: 'modal',
    callback_id: CALLBACK.breakGlassReview,
    title: title('Review access'),
    submit: { type: 'plain_text', text: 'Record review' },
    close: { type: 'plain_text', text: 'Cancel' },
    private_metadata: privateMetadata,
    blocks: [
      section(
        `Was ${who(view.holder)}'s emergency access to *${escapeMrkdwn(view.appName)} ${escapeMrkdwn(view.roleName)}* (${duration(view.durationSeconds)}) justified?`,
      ),
      section(
        `*Why*\n${quote(truncate(view.justification || '(none given)', LIMITS.sectionText - 40))}${view.review.incident ? `\n*Incident* ${escapeMrkdwn(view.review.incident)}` : ''}`,
      ),
      context(`${grantState(view)} Not justified revokes it if it is still active, and tells the security channel.`),
      {
        type: 'input',
        block_id: BLOCK.reviewOutcome,
        label: { type: 'plain_text', text: 'Outcome' },
        element: {
          type: 'radio_buttons',
          action_id: ACTION.reviewOutcome,
          options: [option('Justified', 'justified'), option('Not justified', 'not_justified')],
        },
      },
      {
        type: 'input',
        block_id: BLOCK.reason,
        optional: true,
        label: { type: 'plain_text', text: 'Reason' },
        hint: { type: 'plain_text', text: 'Required for Not justified: the grantee and the security channel read it.' },
        element: { type: 'plain_text_input', action_id: ACTION.reason, multiline: true, max_length: 1000 },
      },
    ],
  };
}

/** Revoke now: the reason the holder reads. */
export function breakGlassRevokeModal(view: BreakGlassAlertView, privateMetadata: string): ModalView {
  if (!OPEN_STATUSES.has(view.grantStatus)) return infoModal('Nothing to revoke', grantState(view));
  return {
    type: 'modal',
    callback_id: CALLBACK.breakGlassRevoke,
    title: title('Revoke access'),
    submit: { type: 'plain_text', text: 'Revoke now' },
    close: { type: 'plain_text', text: 'Cancel' },
    private_metadata: privateMetadata,
    blocks: [
      section(
        `End ${who(view.holder)}'s emergency access to *${escapeMrkdwn(view.appName)} ${escapeMrkdwn(view.roleName)}* now? It is removed at once; the review is still owed.`,
      ),
      {
        type: 'input',
        block_id: BLOCK.reason,
        label: { type: 'plain_text', text: 'Reason' },
        hint: { type: 'plain_text', text: 'The holder reads it, and it is kept in the audit log.' },
        element: { type: 'plain_text_input', action_id: ACTION.reason, multiline: true, max_length: 1000 },
      },
    ],
  };
}
