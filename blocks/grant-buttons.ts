/**
 * The buttons of the expiry loop, shared by the reminder DM, `/access list` and the App Home:
 * Extend (opens the extension offer), I'm done (gives the access back, after a confirm dialog) and
 * Request again (the request form prefilled). Values carry the grant id only; who may press them is
 * decided by the core when the click arrives.
 */
import type { ActionsBlockElement, Button } from '@slack/web-api';
import { groupName } from './format.js';
import { ACTION } from './ids.js';
import { LIMITS, truncate } from './limits.js';

function extendButton(grantId: string): Button {
  return {
    type: 'button',
    action_id: ACTION.extendGrant,
    text: { type: 'plain_text', text: 'Extend…' },
    value: grantId,
  };
}

/** Who removes the access when it is given back: the bot at once, or a person by hand. */
export type Removal = { kind: 'automatic' } | { kind: 'manual'; assigneeGroup: string };

function relinquishButton(grantId: string, what: string, removal: Removal = { kind: 'automatic' }): Button {
  const how =
    removal.kind === 'manual'
      ? `Someone from ${groupName(removal.assigneeGroup)} is asked to remove your ${what} access now.`
      : `Your ${what} access is removed now.`;
  return {
    type: 'button',
    action_id: ACTION.relinquish,
    text: { type: 'plain_text', text: "I'm done" },
    value: grantId,
    confirm: {
      title: { type: 'plain_text', text: 'Give this access back?' },
      text: { type: 'plain_text', text: truncate(`${how} You can request it again later.`, LIMITS.confirmText) },
      confirm: { type: 'plain_text', text: "I'm done" },
      deny: { type: 'plain_text', text: 'Keep it' },
    },
  };
}

/** The request form again, with the same application, role and justification. Value: the grant or request id. */
export function rerequestButton(grantOrRequestId: string): Button {
  return {
    type: 'button',
    action_id: ACTION.rerequest,
    text: { type: 'plain_text', text: 'Request again…' },
    value: grantOrRequestId,
  };
}

/** Extend (when the role allows it) and I'm done, for an active grant. */
export function activeGrantButtons(
  grant: { grantId: string; extendable: boolean; removal?: Removal },
  what: string,
): ActionsBlockElement[] {
  return [
    ...(grant.extendable ? [extendButton(grant.grantId)] : []),
    relinquishButton(grant.grantId, what, grant.removal),
  ];
}

/** Cancel on a pending request (the status message, the lists, the request form), confirmed first. */
export function cancelButton(requestId: string, what: string, label = 'Cancel request'): Button {
  return {
    type: 'button',
    action_id: ACTION.cancel,
    text: { type: 'plain_text', text: label },
    value: requestId,
    confirm: {
      title: { type: 'plain_text', text: 'Cancel this request?' },
      text: { type: 'plain_text', text: truncate(`Your request for ${what} will be withdrawn.`, LIMITS.confirmText) },
      confirm: { type: 'plain_text', text: 'Cancel request' },
      deny: { type: 'plain_text', text: 'Keep it' },
    },
  };
}
