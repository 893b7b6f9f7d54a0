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
  /** A modal that only informs (a pointer to a pending request, a refusal). */
  info: 'access_info',
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
} as const;

export const BLOCK = {
  app: 'app',
  role: 'role',
  /** The duration block id carries the role (`duration:github:owner`) so Slack resets the choice when the role changes. */
  duration: 'duration',
  justification: 'justification',
  reason: 'reason',
  extendBy: 'extend_by',
  approvalActions: 'approval_actions',
  requestActions: 'request_actions',
  policySummary: 'policy_summary',
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
