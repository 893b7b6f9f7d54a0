/**
 * Every action, block and callback id the bot's messages and views use, in one place, with the
 * encodings of the ids a button or view carries. Values carry ids only, never facts: listeners
 * look everything up again from stored state.
 */

export const CALLBACK = {
  /** The request modal (`/access request`). */
  request: 'access_request',
  /** The extension offer that replaces the request modal when the role is already held. */
  extend: 'access_extend',
  /** The reason modal a Deny click opens. */
  denyReason: 'access_deny_reason',
  /** The confirmation an "Approve for less…" pick opens, naming the duration picked. */
  approveShorter: 'access_approve_shorter_confirm',
  /** A modal that only informs (a pointer to a pending request, a refusal). */
  info: 'access_info',
  /** An admin revokes someone's grant (`/access revoke`). */
  revoke: 'access_revoke',
  /** An admin exports evidence as CSV (`/access export`). */
  export: 'access_export',
  /** Emergency access (`/access break-glass`, or the request form's Emergency access…). */
  breakGlass: 'access_break_glass',
  /** A reviewer marks emergency access Justified or Not justified. */
  breakGlassReview: 'access_break_glass_review',
  /** Revoke now, on a break-glass alert: the reason. */
  breakGlassRevoke: 'access_break_glass_revoke',
  /** `/access delegate` without its arguments: whom, until when. */
  delegate: 'access_delegate',
  /** The reason a reviewer's Revoke asks for. */
  reviewRevoke: 'access_review_revoke_reason',
} as const;

export const ACTION = {
  app: 'access_app',
  role: 'access_role',
  duration: 'access_duration',
  justification: 'access_justification',
  approve: 'access_approve',
  approveShorter: 'access_approve_shorter',
  deny: 'access_deny',
  cancel: 'access_cancel',
  reason: 'access_reason',
  extendBy: 'access_extend_by',
  /** Extend on a reminder, the list or the App Home: opens the extension offer. Value: grant id. */
  extendGrant: 'access_extend_grant',
  /** "I'm done": gives a grant back early (with a confirm dialog). Value: grant id. */
  relinquish: 'access_relinquish',
  /** Request again… on an ended, denied or expired request: the request modal prefilled. Value: grant or request id. */
  rerequest: 'access_rerequest',
  /** Request on the App Home catalog: the request modal prefilled. Value: `app|role`. */
  requestRole: 'access_request_role',
  /** Done on a manual provisioning task. Value: task id. */
  taskDone: 'access_task_done',
  /** The App Home's admin buttons. */
  openExport: 'access_open_export',
  openRevoke: 'access_open_revoke',
  /** The revoke form: whose grant, which grant, why. */
  revokePerson: 'access_revoke_person',
  revokeGrant: 'access_revoke_grant',
  revokeReason: 'access_revoke_reason',
  /** The export form. */
  exportKind: 'access_export_kind',
  exportPeriod: 'access_export_period',
  exportFrom: 'access_export_from',
  exportTo: 'access_export_to',
  exportApp: 'access_export_app',
  exportRole: 'access_export_role',
  exportPerson: 'access_export_person',
  /** Emergency access… in the request form: the break-glass form for the role. Value: `app|role`. */
  openBreakGlass: 'access_open_break_glass',
  /** The break-glass form's incident link. */
  incident: 'access_incident',
  /** Review… on a break-glass alert or the App Home: the review form. Value: grant id. */
  reviewBreakGlass: 'access_review_break_glass',
  /** Revoke now… on a break-glass alert: the reason form. Value: grant id. */
  revokeBreakGlass: 'access_revoke_break_glass',
  /** The review form's outcome (radio buttons) and reason. */
  reviewOutcome: 'access_review_outcome',
  /** The delegate form: the person, and the last day. */
  delegatePerson: 'access_delegate_person',
  delegateUntil: 'access_delegate_until',
  /** End delegation on the App Home. */
  endDelegation: 'access_end_delegation',
  /**
   * Access reviews: Keep and Revoke… on an item (value `rvi_…|page`), the list's pages and Keep the rest
   * (`rvc_…|page`).
   */
  reviewKeep: 'access_review_keep',
  reviewRevoke: 'access_review_revoke',
  reviewPage: 'access_review_page',
  reviewKeepRest: 'access_review_keep_rest',
  reviewReason: 'access_review_reason',
} as const;

export const BLOCK = {
  app: 'app',
  role: 'role',
  /**
   * The duration block id carries the role (`duration:github:owner`) so Slack resets the choice when the role changes.
   */
  duration: 'duration',
  justification: 'justification',
  reason: 'reason',
  extendBy: 'extend_by',
  approvalActions: 'approval_actions',
  requestActions: 'request_actions',
  policySummary: 'policy_summary',
  grantActions: 'grant_actions',
  taskActions: 'task_actions',
  revokePerson: 'revoke_person',
  revokeGrant: 'revoke_grant',
  revokeReason: 'revoke_reason',
  exportKind: 'export_kind',
  exportPeriod: 'export_period',
  exportFrom: 'export_from',
  exportTo: 'export_to',
  exportApp: 'export_app',
  exportRole: 'export_role',
  exportPerson: 'export_person',
  incident: 'incident',
  reviewOutcome: 'review_outcome',
  breakGlassActions: 'break_glass_actions',
  delegatePerson: 'delegate_person',
  delegateUntil: 'delegate_until',
  reviewReason: 'review_reason',
  reviewNav: 'review_nav',
} as const;

/** `duration:<app>:<role>`: a new block id per role makes Slack drop the previous pick. */
export function durationBlockId(app: string, role: string): string {
  return `${BLOCK.duration}:${app}:${role}`.slice(0, 255);
}

/** Which request and step a button is for: `req_…|1`. */
export interface StepRef {
  requestId: string;
  stepIndex: number;
}

const ID_PATTERN = /^[a-z]{3}_[A-Za-z0-9]{1,60}$/;

export function encodeStepRef(ref: StepRef): string {
  return `${ref.requestId}|${ref.stepIndex}`;
}

/** Null for anything that is not exactly an id and a small step number. */
export function decodeStepRef(value: string): StepRef | null {
  const match = /^([^|]+)\|(\d{1,3})$/.exec(value);
  if (!match || !ID_PATTERN.test(match[1]!)) return null;
  return { requestId: match[1]!, stepIndex: Number(match[2]) };
}

/** A shorter-duration option: `req_…|1|3600` (≤ 75 characters, the safe option value size). */
export function encodeShorterOption(ref: StepRef, seconds: number): string {
  return `${encodeStepRef(ref)}|${seconds}`;
}

export function decodeShorterOption(value: string): (StepRef & { seconds: number }) | null {
  const match = /^(.+)\|(\d{1,9})$/.exec(value);
  if (!match) return null;
  const ref = decodeStepRef(match[1]!);
  return ref ? { ...ref, seconds: Number(match[2]) } : null;
}

export function isRequestId(value: string): boolean {
  return ID_PATTERN.test(value) && value.startsWith('req_');
}

export function isGrantId(value: string): boolean {
  return ID_PATTERN.test(value) && value.startsWith('grt_');
}

export function isTaskId(value: string): boolean {
  return ID_PATTERN.test(value) && value.startsWith('tsk_');
}

/** A role in the catalog: `github|owner` (slugs only; looked up again in the catalog). */
export function encodeRoleRef(app: string, role: string): string {
  return `${app}|${role}`;
}

export function decodeRoleRef(value: string): { app: string; role: string } | null {
  const match = /^([a-z0-9][a-z0-9_-]{0,63})\|([a-z0-9][a-z0-9_-]{0,63})$/i.exec(value);
  return match ? { app: match[1]!, role: match[2]! } : null;
}

/** A button in a reviewer's list: the item or campaign, and the page of the list it was on. */
export interface ReviewRef {
  id: string;
  /** -1: not on a page of the list (an ephemeral reply, the App Home). */
  page: number;
}

export function encodeReviewRef(ref: ReviewRef): string {
  return `${ref.id}|${ref.page}`;
}

/** `rvi_…|2` or `rvc_…|0`; null for anything else. */
export function decodeReviewRef(value: string, prefix: 'rvi' | 'rvc'): ReviewRef | null {
  const match = /^([a-z]{3}_[A-Za-z0-9]{1,60})\|(-1|\d{1,5})$/.exec(value);
  if (!match || !match[1]!.startsWith(`${prefix}_`)) return null;
  return { id: match[1]!, page: Number(match[2]) };
}
