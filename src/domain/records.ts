/**
 * The lifecycle's records as the core reads and writes them. Storage maps them to tables; Slack
 * message ids and timestamps never appear here (the Slack adapter keeps its own table).
 *
 * pending_approval -> approved -> (grant) provisioning -> active -> revoking -> revoked,
 * with the side exits denied, cancelled, approval_expired and provisioning_failed.
 */
import type { CheckpointWire } from './checkpoint.js';
import type { ApprovalStep, PeopleRule, Provision } from './policy.js';

export type RequestStatus = 'pending_approval' | 'approved' | 'denied' | 'cancelled' | 'approval_expired';
export type GrantStatus = 'provisioning' | 'active' | 'revoking' | 'revoked' | 'provisioning_failed';
/** `review`: a reviewer revoked it in an access review (or it was undecided and the review revokes those). */
export type RevocationReason = 'expired' | 'relinquished' | 'revoked' | 'offboarded' | 'removed_externally' | 'review';
export type StepStatus = 'waiting' | 'open' | 'approved' | 'denied' | 'closed';
export type RequestKind = 'access' | 'extension' | 'break_glass';

/** A person as recorded on a request or decision: ids and the name and email at the time. */
export interface PersonRef {
  directoryId: string;
  email: string;
  name: string;
  slackId?: string | null;
}

export interface AccessRequest {
  id: string;
  /**
   * `access` asks for a new grant; `extension` asks to extend `grantId`; `break_glass` is emergency
   * access, granted at once without approvers and reviewed afterwards (`BreakGlassReview`).
   */
  kind: RequestKind;
  grantId: string | null;
  requester: PersonRef;
  app: string;
  role: string;
  policyName: string;
  policyVersion: string;
  justification: string;
  requestedSeconds: number;
  /** The approved duration (approvers may shorten it); null until approved. */
  grantedSeconds: number | null;
  status: RequestStatus;
  /** `approval: auto` or `auto_approve.when` when the chain was skipped. */
  autoApproveRule: string | null;
  /** Index of the open step; -1 when none is open. */
  currentStep: number;
  stepCount: number;
  createdAt: string;
  /** Pending requests expire at this time (approval_timeout). */
  approvalDeadline: string;
  decidedAt: string | null;
  decisionReason: string | null;
}

export interface StepRecord {
  requestId: string;
  index: number;
  step: ApprovalStep;
  label: string;
  required: number;
  status: StepStatus;
  /** The people who may decide, resolved when the step started; empty while waiting. */
  approvers: PersonRef[];
  fallbackReason: string | null;
  notifyChannel: string | null;
  startedAt: string | null;
  decidedAt: string | null;
  /** When the step escalates if it is still open (its `escalate_after` after it started); null: it never does. */
  escalateAt: string | null;
  /** When it escalated; null while it has not. */
  escalatedAt: string | null;
  /** The people the escalation added as approvers (the step's own `approvers` stay). */
  escalationApprovers: PersonRef[];
  /** When its pending approvers are reminded next (`approver_reminders`); null: no reminder is due. */
  nextReminderAt: string | null;
  /** The `approver_reminders` lead times (seconds after the step started) already sent. */
  remindersSent: number[];
}

export interface DecisionRecord {
  requestId: string;
  stepIndex: number;
  approver: PersonRef;
  decision: 'approve' | 'deny';
  reason: string | null;
  /** Set when the approver shortened the duration. */
  shortenedToSeconds: number | null;
  at: string;
  /** Set when `approver` decided as the delegate of this person (an approver of the step). */
  onBehalfOf: PersonRef | null;
}

/** What a grant was provisioned with, kept so revocation never depends on the current policy. */
export interface ProvisionSnapshot {
  provision: Provision;
  policyName: string;
  policyVersion: string;
}

export interface Grant {
  id: string;
  requestId: string;
  holder: PersonRef;
  app: string;
  role: string;
  policyName: string;
  policyVersion: string;
  sensitive: boolean;
  /** Emergency access (`break_glass`), reviewed afterwards: see `BreakGlassReview`. */
  breakGlass: boolean;
  snapshot: ProvisionSnapshot;
  /** For okta_group: whether the holder was already in the group before this grant (then it is kept). */
  alreadyMember: boolean | null;
  status: GrantStatus;
  durationSeconds: number;
  /** The lifetime cap (extension max_total) fixed at approval; null when extension is none. */
  maxTotalSeconds: number | null;
  extensionApproval: 'same' | 'auto' | null;
  createdAt: string;
  activatedAt: string | null;
  expiresAt: string | null;
  revocationReason: RevocationReason | null;
  revocationNote: string | null;
  revokedBy: string | null;
  revocationStartedAt: string | null;
  revokedAt: string | null;
  /** Lead times (seconds) whose reminder was already sent for the current expiry. */
  remindersSent: number[];
  /** Attempts at the current provisioning or revocation that failed. */
  failures: number;
  lastError: string | null;
}

export interface ExtensionRecord {
  id: string;
  grantId: string;
  requestId: string;
  addedSeconds: number;
  previousExpiresAt: string;
  newExpiresAt: string;
  at: string;
}

export type BreakGlassReviewStatus = 'pending' | 'justified' | 'not_justified';

/**
 * The review a break-glass grant owes: who may review it (the policy's reviewers when it was
 * used), by when, and the outcome. One per break-glass grant.
 */
export interface BreakGlassReview {
  grantId: string;
  requestId: string;
  reviewers: PeopleRule;
  /** The incident the grantee named (a link or a ticket), as typed; null when none. */
  incident: string | null;
  createdAt: string;
  /** `review_within` after the access was taken: unreviewed after this, the admins are alerted daily. */
  dueAt: string;
  status: BreakGlassReviewStatus;
  reviewer: PersonRef | null;
  /** The reviewer's reason (required for Not justified). */
  reason: string | null;
  reviewedAt: string | null;
}

export type DelegationEndReason = 'off' | 'expired' | 'replaced' | 'delegator_inactive' | 'delegate_inactive';

/**
 * A person's approvals handed to someone else while they are away: the delegate may decide what
 * the delegator could, from `startsAt` until `endsAt` (exclusive) or until it is ended.
 */
export interface Delegation {
  id: string;
  delegator: PersonRef;
  delegate: PersonRef;
  startsAt: string;
  endsAt: string;
  status: 'active' | 'ended';
  createdAt: string;
  endedAt: string | null;
  endedReason: DelegationEndReason | null;
}

export interface TaskRecord {
  id: string;
  grantId: string;
  action: 'grant' | 'revoke';
  assigneeGroup: string;
  /** `cancelled`: the grant ended before a grant task was done; the task is no longer needed. */
  status: 'open' | 'done' | 'cancelled';
  createdAt: string;
  completedBy: PersonRef | null;
  completedAt: string | null;
}

export interface IdentityBinding {
  slackUserId: string;
  directoryId: string;
  email: string;
  boundAt: string;
}

export interface PolicyVersionRecord {
  policyName: string;
  version: string;
  app: string;
  role: string;
  definition: Record<string, unknown>;
  firstSeenAt: string;
  lastSeenAt: string;
}

/** Every effect outside the database is a job, written in the transaction that causes it. */
export type JobPayload =
  | { kind: 'provision'; grantId: string }
  /**
   * `undoLateProvision`: a provisioning effect landed after the grant's revocation had already
   * run (its worker stalled past the job lock); the revocation's effect is repeated after it.
   */
  | { kind: 'revoke'; grantId: string; undoLateProvision?: true }
  | { kind: 'notify'; notification: Notification }
  /** An access review decided to take a standing group membership away (`remediate: remove`). */
  | { kind: 'reviewRemoval'; itemId: string };

export type JobStatus = 'pending' | 'running' | 'done' | 'dead';

export interface JobRecord {
  id: number;
  key: string;
  payload: JobPayload;
  status: JobStatus;
  attempts: number;
  runAt: string;
  lastError: string | null;
  createdAt: string;
  updatedAt: string;
  /** What the effect acts on; jobs of one subject never run at the same time. Null for messages. */
  subject: string | null;
}

/**
 * Where a message goes: a person (by directory id; the Slack adapter finds their DM), a channel, or every member of a
 * group.
 */
export type PersonRecipient = { kind: 'person'; directoryId: string };
export type ChannelRecipient = { kind: 'channel'; channel: string };
export type GroupRecipient = { kind: 'group'; group: string };
export type Recipient = PersonRecipient | ChannelRecipient | GroupRecipient;

/** A notice to the requester about their request. */
type AboutRequest<T extends string> = { type: T; recipient: PersonRecipient; requestId: string };
/** A notice to the holder about their grant (and the request that created or extended it). */
type AboutGrant<T extends string> = { type: T; recipient: PersonRecipient; grantId: string; requestId: string };
/** The approval message of one step, to one approver or the step's channel. */
type AboutStep<T extends string> = {
  type: T;
  recipient: PersonRecipient | ChannelRecipient;
  requestId: string;
  stepIndex: number;
};
/** A reviewer's messages about one campaign. */
type AboutReview<T extends string> = { type: T; recipient: PersonRecipient; campaignId: string };
/** The manual task message, one copy per member of the assignee group. */
type AboutTask<T extends string> = { type: T; recipient: GroupRecipient; taskId: string; grantId: string };

/**
 * A message the bot owes someone, one type per notice. Only ids and the kind: the adapter renders
 * it from current state, so a retried message shows the truth at the time it is sent.
 */
export type Notification =
  | AboutRequest<'request.submitted'>
  | AboutStep<'approval.requested'>
  | AboutStep<'approval.outcome'>
  | { type: 'step.approved'; recipient: PersonRecipient; requestId: string; stepIndex: number }
  | AboutRequest<'request.approved'>
  | AboutRequest<'request.denied'>
  | AboutRequest<'request.cancelled'>
  | AboutRequest<'request.expired'>
  | AboutGrant<'grant.active'>
  | AboutGrant<'grant.extended'>
  /** `leadSeconds`: how long before the expiry this reminder is. */
  | { type: 'grant.reminder'; recipient: PersonRecipient; grantId: string; leadSeconds: number }
  | AboutGrant<'grant.revoked'>
  | AboutGrant<'grant.provisioningFailed'>
  /** The first attempt at setting it up failed and is retried: the holder hears of the delay. */
  | AboutGrant<'grant.provisioningDelayed'>
  | AboutTask<'task.assigned'>
  | AboutTask<'task.completed'>
  /** The grant ended before its grant task was done: the task's messages say it is no longer needed. */
  | AboutTask<'task.cancelled'>
  | { type: 'alert'; recipient: ChannelRecipient; text: string; grantId?: string; requestId?: string }
  /** An approver has not decided `leadSeconds` after the step started: one reminder each. */
  | (AboutStep<'approval.reminder'> & { leadSeconds: number })
  /** The step escalated: its earlier approvers hear that it now also asks the escalation target. */
  | AboutStep<'approval.escalated'>
  /** The step escalated: the requester hears who is asked now. */
  | { type: 'step.escalated'; recipient: PersonRecipient; requestId: string; stepIndex: number }
  /**
   * Break-glass access was taken: the alert in the security channel (who, what, why, until when),
   * with Revoke now and Review; one message per grant, updated as it is reviewed or revoked.
   */
  | { type: 'breakGlass.alert'; recipient: ChannelRecipient; grantId: string }
  /** A reviewer marked it Not justified: a new alert in the security channel. */
  | { type: 'breakGlass.notJustified'; recipient: ChannelRecipient; grantId: string }
  /** A reviewer reviewed it: the holder hears the outcome. */
  | AboutGrant<'breakGlass.reviewed'>
  /** Nobody reviewed it within `review_within`: every admin is told, on day `day` (0, 1, 2…) after it was due. */
  | { type: 'breakGlass.overdue'; recipient: GroupRecipient; grantId: string; day: number }
  /** A delegation began: the delegate hears whose approvals they may decide, and until when. */
  | { type: 'delegation.started'; recipient: PersonRecipient; delegationId: string }
  /** A delegation ended (off, expired, replaced, a person inactive): both people hear it. */
  | { type: 'delegation.ended'; recipient: PersonRecipient; delegationId: string }
  /** A signed checkpoint of the audit chain, for the checkpoint channel (a witness outside the database). */
  | { type: 'audit.checkpoint'; recipient: ChannelRecipient; checkpoint: CheckpointWire }
  /** The weekly digest for the week ending `at`. */
  | { type: 'digest'; recipient: ChannelRecipient; at: string }
  /** A reviewer's list of items in an access review: posted, or brought up to date. */
  | AboutReview<'review.assigned'>
  /** The reviewer's list brought up to date (a decision, a removal verified, the close); never a new message. */
  | AboutReview<'review.updated'>
  /** `leadSeconds` before the due time; not sent when nothing is left for the reviewer to decide. */
  | (AboutReview<'review.reminder'> & { leadSeconds: number })
  /** The summary of a campaign, with its evidence CSV, to the security channel; updated as removals land. */
  | { type: 'review.summary'; recipient: ChannelRecipient; campaignId: string };

export type NotificationType = Notification['type'];

/** The notification of one type. */
export type NotificationOf<T extends NotificationType> = Extract<Notification, { type: T }>;

/** For a `switch` over a union: a case left out is a type error here. */
export function assertNever(value: never, what = 'value'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(value)}`);
}

export const OPEN_GRANT_STATUSES: readonly GrantStatus[] = ['provisioning', 'active', 'revoking'];
