/**
 * Access policies as the core sees them: already parsed, validated and normalised (durations in
 * seconds, camelCase keys). The YAML shape and its validation live in `policy-schema.ts`; loading
 * files is an adapter's job (`adapters/policies/`).
 */
import type { AuditCheckpointSettings, AuditSinkSettings } from './audit-sinks.js';
import type { Provision } from './provisioning/methods.js';

/** People a policy names by rule: every member of a directory group, or one person by email. */
export type PeopleRule = { kind: 'group'; group: string } | { kind: 'user'; user: string };

/**
 * `escalate_after` / `escalate_to` on a step: when the step is still undecided this long after it
 * started, the target's people become approvers of the step too (the step's own approvers stay).
 */
export interface Escalation {
  afterSeconds: number;
  to: PeopleRule;
}

export type ApprovalStep =
  | { kind: 'manager'; escalation?: Escalation }
  | { kind: 'user'; user: string; escalation?: Escalation }
  | { kind: 'group'; group: string; minApprovals: number; notify?: string; escalation?: Escalation };

/**
 * `break_glass`: emergency access without waiting for approvers, provisioned at once, capped at
 * `maxSeconds`, and reviewed afterwards by `reviewers` within `reviewWithinSeconds`.
 */
export interface BreakGlassRule {
  maxSeconds: number;
  /** Who may use it; null: the role's `eligible_groups`. */
  eligibleGroups: string[] | null;
  reviewWithinSeconds: number;
  /** Who reviews it afterwards (never the grantee). */
  reviewers: PeopleRule;
}

export type { Provision };

export interface AutoApproveRule {
  /** The requester must be in at least one of these groups. */
  requesterGroups?: string[];
  /** The requested duration must be at most this long. */
  maxDurationSeconds?: number;
}

export interface ExtensionRule {
  /** The grant's whole lifetime, from activation to the extended expiry, may not exceed this. */
  maxTotalSeconds: number;
  approval: 'same' | 'auto';
}

export interface Role {
  id: string;
  name: string;
  /** The policy name recorded on every request this role governs; unique across all files. */
  policy: string;
  sensitive: boolean;
  eligibleGroups: string[];
  duration: { defaultSeconds: number; maxSeconds: number };
  justification: 'required' | 'optional';
  approval: 'auto' | ApprovalStep[];
  autoApprove?: AutoApproveRule;
  /** null: `extension: none` (or no extension key): holders must request again. */
  extension: ExtensionRule | null;
  provision: Provision;
  /** Emergency access; absent: the role has none. */
  breakGlass?: BreakGlassRule;
}

export interface AppPolicy {
  app: string;
  name: string;
  description?: string;
  roles: Role[];
}

/** Where a policy came from, for messages that name the file. */
export interface PolicySource {
  file: string;
}

export interface LoadedPolicy extends AppPolicy {
  source: PolicySource;
}

export interface Settings {
  adminGroup: string;
  securityChannel: string;
  alertsChannel: string;
  timezone: string;
  sweepSchedule: string;
  digestSchedule: string;
  reconcileSchedule: string;
  approvalTimeoutSeconds: number;
  /** Lead times before expiry, longest first. */
  remindersSeconds: number[];
  /**
   * `approver_reminders`: how long after a step started its pending approvers are reminded, one
   * DM (or channel message) at each, shortest first. Empty: no reminders.
   */
  approverRemindersSeconds: number[];
  managerAttribute: string;
  /** Where every audit event is streamed (`audit_sinks`), in order, at least once. */
  auditSinks: AuditSinkSettings[];
  /**
   * `audit_checkpoints` as written; null when settings.yml leaves it out (with AUDIT_SIGNING_KEY
   * set, checkpoints are then written hourly to the security channel).
   */
  auditCheckpoints: AuditCheckpointSettings | null;
  /**
   * How long finished jobs and the records of messages about finished requests are kept before the
   * sweep prunes them (audit events and the requests and grants themselves are kept for good).
   */
  retentionSeconds: number;
}

/** A role together with its application, and the version of its policy. */
export interface PolicyRef {
  app: AppPolicy;
  role: Role;
  version: string;
}
