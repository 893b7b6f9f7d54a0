/**
 * Delegation messages and the form: the DM to the delegate when a delegation starts (whose
 * approvals, until when), the DM to both people when it ends and why, and the `/access delegate`
 * form for when the command lacks its arguments.
 */
import type { KnownBlock, ModalView } from '@slack/web-api';
import type { SlackMessage } from './approval-message.js';
import { escapeMrkdwn } from './escape.js';
import { plainDate, slackDate, who } from './format.js';
import { ACTION, BLOCK, CALLBACK } from './ids.js';
import { LIMITS, truncate, truncateMrkdwn } from './limits.js';
import type { DelegationView } from './view-models.js';
import { section } from './block-parts.js';

const ENDED_WHY: Record<NonNullable<DelegationView['endedReason']>, string> = {
  off: 'it was switched off',
  expired: 'its last day is over',
  replaced: 'a new delegation replaced it',
  delegator_inactive: 'the directory account of the person who delegated is no longer active',
  delegate_inactive: "the delegate's directory account is no longer active",
};

/** The delegate hears that a delegation started; either person hears that it ended. */
export function delegationMessage(view: DelegationView): SlackMessage {
  const tz = view.timezone;
  const until = slackDate(view.endsAt, tz);
  let headline: string;
  let text: string;
  if (view.status === 'active') {
    headline =
      view.reader === 'delegate'
        ? `🤝 ${who(view.delegator)} asked you to decide their approvals until ${until}. Requests waiting for them come to you too, marked “for ${who(view.delegator)}”; you never decide your own request, nor a step you already decided.`
        : `🤝 ${who(view.delegate)} decides your approvals until ${until}.`;
    text =
      view.reader === 'delegate'
        ? `${view.delegator.name} delegated their approvals to you until ${plainDate(view.endsAt, tz)}`
        : `${view.delegate.name} decides your approvals until ${plainDate(view.endsAt, tz)}`;
  } else {
    const why = view.endedReason ? ENDED_WHY[view.endedReason] : 'it ended';
    headline =
      view.reader === 'delegate'
        ? `🤝 You no longer decide ${who(view.delegator)}'s approvals: ${escapeMrkdwn(why)}.`
        : `🤝 ${who(view.delegate)} no longer decides your approvals: ${escapeMrkdwn(why)}. They come to you again.`;
    text =
      view.reader === 'delegate'
        ? `You no longer decide ${view.delegator.name}'s approvals`
        : `${view.delegate.name} no longer decides your approvals`;
  }
  return {
    text: truncateMrkdwn(escapeMrkdwn(text), LIMITS.messageText),
    blocks: [
      section(headline),
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: `Delegation \`${view.delegationId}\` · \`/access delegate off\` ends it` }],
      },
    ],
  };
}

/** `/access delegate` without its arguments: whom, and the last day (inclusive). */
export function delegateModal(input: {
  today: string;
  active?: { delegate: string; endsAt: string; timezone: string };
}): ModalView {
  const blocks: KnownBlock[] = [
    section(
      'While you are away, someone you pick decides the requests that wait for you. Every decision they make is recorded as theirs, for you.',
    ),
  ];
  if (input.active) {
    blocks.push(
      section(
        `_Now: ${escapeMrkdwn(input.active.delegate)} decides your approvals until ${slackDate(input.active.endsAt, input.active.timezone)}. A new delegation replaces it._`,
      ),
    );
  }
  blocks.push(
    {
      type: 'input',
      block_id: BLOCK.delegatePerson,
      label: { type: 'plain_text', text: 'Who decides for you' },
      element: {
        type: 'users_select',
        action_id: ACTION.delegatePerson,
        placeholder: { type: 'plain_text', text: 'Pick a person' },
      },
    },
    {
      type: 'input',
      block_id: BLOCK.delegateUntil,
      label: { type: 'plain_text', text: 'Until (the last day, included)' },
      element: { type: 'datepicker', action_id: ACTION.delegateUntil, initial_date: input.today },
    },
  );
  return {
    type: 'modal',
    callback_id: CALLBACK.delegate,
    title: { type: 'plain_text', text: truncate('Delegate approvals', LIMITS.modalTitle) },
    submit: { type: 'plain_text', text: 'Delegate' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks,
  };
}
