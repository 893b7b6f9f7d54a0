/**
 * What the builders render: plain data assembled by the Slack adapter from stored records. The
 * builders never read the database or the clock; `now` and the time zone come in here.
 */
import type { GrantStatus, RequestStatus, RevocationReason, StepStatus } from '../src/domain/records.js';

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
}

export interface StepView {
  index: number;
  label: string;
  required: number;
  status: StepStatus;
  /** How many people may decide this step (0 while it waits to start). */
  approverCount: number;
  /** The approvers' names, for "who decides next" lines; empty while the step waits. */
  approverNames: string[];
  notifyChannel: string | null;
  fallbackReason: string | null;
  decisions: DecisionView[];
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
}

export interface RequestCard {
  id: string;
  kind: 'access' | 'extension';
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
  currentStep: number;
  steps: StepView[];
  createdAt: string;
  approvalDeadline: string;
  grant: GrantView | null;
  /** IANA zone for the fallback text of dates (Slack shows each reader their own zone). */
  timezone: string;
}

/** Who looks at an approval message: one approver in a DM, or everyone in a `notify:` channel. */
export type ApprovalAudience = { kind: 'person'; directoryId: string } | { kind: 'channel' };

/** One role in the request modal's role list. */
export interface RoleChoice {
  app: string;
  role: string;
  name: string;
  /** "2 approval steps · up to 4 hours". */
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
  selectedRole: (RoleChoice & {
    durationChoices: number[];
    defaultSeconds: number;
    maxSeconds: number;
    justificationRequired: boolean;
    policyName: string;
    policyVersion: string;
    approvalSummary: string;
  }) | null;
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
  timezone: string;
  privateMetadata: string;
}
