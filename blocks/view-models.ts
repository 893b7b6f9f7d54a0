/**
 * What the builders render: plain data assembled by the Slack adapter from stored records. The
 * builders never read the database or the clock; `now` and the time zone come in here.
 */
import type { MyReviewsView } from './review-message.js';
import type { ApprovalStep, PeopleRule } from '../src/domain/policy.js';
import type {
  BreakGlassReviewStatus,
  GrantStatus,
  RequestKind,
  RequestStatus,
  RevocationReason,
  StepStatus,
} from '../src/domain/records.js';

export interface PersonLabel {
  name: string;
  email: string;
  slackId?: string | null;
  directoryId?: string;
}

export interface DecisionView {
  person: PersonLabel;
  decision: 'approve' | 'deny';
  reason: string | null;
  shortenedToSeconds: number | null;
  at: string;
  /** The approver this person decided for, as their delegate ("Kim Nguyen for Marcus Chen"). */
  onBehalfOf?: PersonLabel | null;
}

export interface StepView {
  index: number;
  /** The step as the policy wrote it ("group security-team"): for the audit trail, not for people. */
  label: string;
  /** Who the policy asks: the builders say it in people's words. */
  approver: ApprovalStep;
  required: number;
  status: StepStatus;
  /** How many people may decide this step (0 while it waits to start). */
  approverCount: number;
  /**
   * The approvers' names, for "who decides next" lines; empty while the step waits, except for a
   * named person (`user:` step), whose name the adapter looks up for display.
   */
  approverNames: string[];
  notifyChannel: string | null;
  fallbackReason: string | null;
  decisions: DecisionView[];
  /** When the step opened (null while waiting). */
  startedAt?: string | null;
  /** When it escalated (its escalation, if any, is `approver.escalation`). */
  escalatedAt?: string | null;
  /** The names of the people the escalation added. */
  escalationNames?: string[];
}

/** A break-glass grant's review, as people read it. */
export interface BreakGlassView {
  /** Who reviews it: the policy's reviewers when it was used. */
  reviewers: PeopleRule;
  incident: string | null;
  dueAt: string;
  status: BreakGlassReviewStatus;
  reviewer: PersonLabel | null;
  reason: string | null;
  reviewedAt: string | null;
}

export interface GrantView {
  id: string;
  status: GrantStatus;
  activatedAt: string | null;
  expiresAt: string | null;
  revocationReason: RevocationReason | null;
  revocationNote: string | null;
  revokedBy: string | null;
  lastError: string | null;
  /** When the revocation was confirmed (for the "ended" message). */
  revokedAt?: string | null;
  /** Whether the role's current policy allows extending (Extend is shown only then). */
  extendable?: boolean;
  /** The approved duration: reminders come only at lead times shorter than it. */
  durationSeconds?: number;
  /** The admin who revoked it, by name, when an admin did. */
  revokedByName?: string | null;
}

/** How the access is set up and removed: by the bot (Okta, a webhook), or by people (a manual task). */
/** How the access is set up and removed: by the bot, or by hand by members of a group. */
export type ProvisioningView = { kind: 'automatic' } | { kind: 'manual'; assigneeGroup: string };

export interface RequestCard {
  id: string;
  kind: RequestKind;
  requester: PersonLabel;
  appName: string;
  roleName: string;
  policyName: string;
  policyVersion: string;
  justification: string;
  requestedSeconds: number;
  grantedSeconds: number | null;
  status: RequestStatus;
  decisionReason: string | null;
  decidedAt: string | null;
  autoApproveRule: string | null;
  /** Why it was automatic, in words ("automatic for members of SRE oncall, up to 1 hour"); null when it was not. */
  autoApproveWhy?: string | null;
  currentStep: number;
  steps: StepView[];
  createdAt: string;
  approvalDeadline: string;
  grant: GrantView | null;
  provisioning: ProvisioningView;
  /** The reminder lead times before expiry (settings `reminders`), longest first. */
  reminderLeads: number[];
  /** IANA zone for the fallback text of dates: the reader's (Slack shows each reader their own zone). */
  timezone: string;
  /** Emergency access (`kind: break_glass`): its review. */
  breakGlass?: BreakGlassView | null;
}

/**
 * Who looks at an approval message: one approver in a DM, or everyone in a `notify:` channel.
 * `forPerson`: the reader is the delegate of this approver, asked in their place.
 */
export type ApprovalAudience = { kind: 'person'; directoryId: string; forPerson?: PersonLabel } | { kind: 'channel' };

/** One role in the request modal's role list. */
export interface RoleChoice {
  app: string;
  role: string;
  name: string;
  /** For this person: "needs your manager · up to 30 days", "automatic for you up to 1 day…". At most 75 characters. */
  summary: string;
}

export interface AppChoice {
  app: string;
  name: string;
}

export interface RequestModalModel {
  apps: AppChoice[];
  /** Use an external select for applications (more than fit a static select). */
  appsExternal: boolean;
  selectedApp: AppChoice | null;
  /** null: still looking up what the person may request. */
  roles: RoleChoice[] | null;
  /** Why there are no roles to offer, when `roles` is empty. */
  noRolesReason?: string;
  /** A request for the chosen role is already waiting: shown instead of the duration and justification. */
  pending?: RequestCard;
  /** Prefilled justification (Request again… carries the last one). */
  justification?: string;
  selectedRole:
    | (RoleChoice & {
        durationChoices: number[];
        defaultSeconds: number;
        maxSeconds: number;
        justificationRequired: boolean;
        policyName: string;
        policyVersion: string;
        /** What happens to this person's request, in words: "Needs your manager (Marcus Chen), then …". */
        approvalSummary: string;
        /** Set when the role allows emergency access and this person may use it: at most this long. */
        breakGlassMaxSeconds?: number;
      })
    | null;
  privateMetadata: string;
}

export interface ExtensionOfferModel {
  grantId: string;
  appName: string;
  roleName: string;
  expiresAt: string | null;
  maxAddSeconds: number;
  choices: number[];
  approval: 'same' | 'auto' | null;
  justificationRequired: boolean;
  /** Why no extension is possible (the modal then only informs). */
  refusal?: string;
  /** Now: the choices say the end they lead to ("2 hours: until 16:00"). */
  now: string;
  /** Whether the access is held now (active); an ended grant's offer only says why not. */
  held: boolean;
  timezone: string;
  privateMetadata: string;
}

// ---- Slack 2 of 2: lists, the App Home, tasks, the admin forms ----------------------------------

/** One grant as its holder sees it in a list. */
export interface GrantLine {
  grantId: string;
  app: string;
  role: string;
  appName: string;
  roleName: string;
  status: GrantStatus;
  activatedAt: string | null;
  expiresAt: string | null;
  /** Whether the role allows extending at all (the offer itself is computed when Extend is pressed). */
  extendable: boolean;
  /** Who removes it when it ends: the bot, or a person in the assignee group (a manual task). */
  removal: { kind: 'automatic' } | { kind: 'manual'; assigneeGroup: string };
}

/** One of my requests still waiting for approvals. */
export interface RequestLine {
  requestId: string;
  kind: RequestKind;
  appName: string;
  roleName: string;
  requestedSeconds: number;
  /** What approvers allowed so far, when one shortened it. */
  grantedSeconds: number | null;
  createdAt: string;
  /** "Step 2 of 3 · 2 people from Security team", or null when no step is open. */
  stepTitle: string | null;
  /** Who the request waits on now (names; delegates marked "Kim Nguyen for Marcus Chen"), and since when. */
  waitingOn?: string[];
  waitingSince?: string | null;
}

/** One approval waiting for the person looking. */
export interface ApprovalLine {
  requestId: string;
  stepIndex: number;
  kind: RequestKind;
  requester: PersonLabel;
  appName: string;
  roleName: string;
  /** What an Approve click approves (the request as shortened by earlier steps). */
  seconds: number;
  /** What the requester asked for (more than `seconds` when an earlier approver shortened it). */
  requestedSeconds: number;
  stepTitle: string;
  createdAt: string;
  justification: string;
  /** Where the request's message with all its facts is: this person's DM, or a channel. */
  where: { kind: 'dm' } | { kind: 'channel'; channel: string };
  /** Set when the person decides this as the delegate of an approver. */
  forPerson?: PersonLabel;
}

/** Emergency access waiting for a review the person may give. */
export interface BreakGlassLine {
  grantId: string;
  holder: PersonLabel;
  appName: string;
  roleName: string;
  durationSeconds: number;
  justification: string;
  incident: string | null;
  grantStatus: GrantStatus;
  takenAt: string;
  expiresAt: string | null;
  dueAt: string;
}

/** A delegation the person gives or receives, for the App Home. */
export interface DelegationLine {
  delegationId: string;
  /** `mine`: the person delegated their approvals; `to_me`: they decide for someone else. */
  direction: 'mine' | 'to_me';
  other: PersonLabel;
  endsAt: string;
}

/** A manual task waiting for the person looking (they are in its assignee group). */
export interface TaskLine {
  taskId: string;
  action: 'grant' | 'revoke';
  holder: PersonLabel;
  appName: string;
  roleName: string;
  createdAt: string;
}

/** Access someone holds now, for the admins' overview. */
export interface HoldingLine {
  holder: PersonLabel;
  appName: string;
  roleName: string;
  sensitive: boolean;
  expiresAt: string | null;
}

/** A role the person may request, for the App Home catalog. */
export interface CatalogRoleLine {
  app: string;
  role: string;
  appName: string;
  roleName: string;
  /** For this person: "needs your manager · up to 30 days". */
  summary: string;
  /** Already held (Request would become an extension offer) or already asked for. */
  held: boolean;
  pending: boolean;
}

export interface HomeModel {
  person: PersonLabel;
  grants: GrantLine[];
  requests: RequestLine[];
  approvals: ApprovalLine[];
  catalog: CatalogRoleLine[];
  /** Manual tasks waiting for this person's group. */
  tasks: TaskLine[];
  /** Emergency access this person may review and nobody has yet. */
  breakGlassReviews?: BreakGlassLine[];
  /** Delegations this person gives or receives. */
  delegations?: DelegationLine[];
  /** Access review items waiting for this person (none: no section). */
  reviews?: MyReviewsView;
  admin: boolean;
  /** Admins: who holds access now, sensitive first (null for everyone else). */
  holdings: { lines: HoldingLine[]; total: number } | null;
  /** What just happened, after a button on the tab ("✅ You approved …"). */
  notice?: string;
  /** Why something could not be shown (the directory did not answer); shown at the top. */
  problem?: string;
  /** The person cannot act (their directory account is not active): one sentence instead of the tab. */
  inactive?: boolean;
  timezone: string;
}

/** A manual provisioning task, as every member of the assignee group sees it. */
export interface TaskView {
  taskId: string;
  action: 'grant' | 'revoke';
  /** `cancelled`: the grant ended before anyone set it up; the task is no longer needed. */
  status: 'open' | 'done' | 'cancelled';
  assigneeGroup: string;
  holder: PersonLabel;
  appName: string;
  roleName: string;
  grantId: string;
  requestId: string;
  durationSeconds: number;
  revocationReason: RevocationReason | null;
  /** The requester's justification, as typed: the person doing it by hand reads why. */
  justification: string;
  createdAt: string;
  completedBy: PersonLabel | null;
  completedAt: string | null;
  timezone: string;
}

/** The admin's revoke form: whose access, which of their grants. */
export interface RevokeFormModel {
  /** The person picked (Slack id), once picked. */
  personSlackId: string | null;
  personName: string | null;
  /** Their open grants; null until a person is picked. */
  grants: GrantLine[] | null;
  /** Why no grants are listed (nobody matched, nothing held). */
  note?: string;
  timezone: string;
}

export type ExportPeriodPreset =
  'last_7_days' | 'last_30_days' | 'this_quarter' | 'last_quarter' | 'this_year' | 'custom';

export interface ExportFormModel {
  apps: AppChoice[];
  defaultPeriod: ExportPeriodPreset;
  timezone: string;
}

/** What the admin reads next to the uploaded file. */
export interface ExportSummaryView {
  kind: string;
  rows: number;
  bytes: number;
  from: string | null;
  to: string | null;
  periodLabel: string;
  filters: Record<string, string>;
  sha256: string;
  auditHead: string;
  auditHeadSeq: number;
  timezone: string;
}

/** A break-glass grant, as its alerts and review forms show it. */
export interface BreakGlassAlertView {
  grantId: string;
  requestId: string;
  holder: PersonLabel;
  appName: string;
  roleName: string;
  durationSeconds: number;
  justification: string;
  takenAt: string;
  /** Until when it runs (null while it is being set up). */
  expiresAt: string | null;
  grantStatus: GrantStatus;
  /** Who ended it early and why, when it was revoked. */
  revokedBy: string | null;
  revocationNote: string | null;
  review: BreakGlassView;
  policyName: string;
  policyVersion: string;
  timezone: string;
}

/** A delegation, as the messages to its two people show it. */
export interface DelegationView {
  delegationId: string;
  delegator: PersonLabel;
  delegate: PersonLabel;
  endsAt: string;
  status: 'active' | 'ended';
  endedAt: string | null;
  endedReason: 'off' | 'expired' | 'replaced' | 'delegator_inactive' | 'delegate_inactive' | null;
  /** Who reads it: the delegate or the delegator. */
  reader: 'delegate' | 'delegator';
  timezone: string;
}
