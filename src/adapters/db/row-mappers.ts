/**
 * Rows to records and back: the tables' shapes (schema.ts) stay in the SQLite adapter, the
 * operations see the domain records only.
 */
import type { Actor, AuditAction, AuditEvent } from '../../domain/audit.js';
import { managedGroup } from '../../domain/provisioning/methods.js';
import type {
  AccessRequest,
  BreakGlassReview,
  DecisionRecord,
  Delegation,
  Grant,
  JobRecord,
  StepRecord,
  TaskRecord,
} from '../../domain/records.js';
import type * as t from './schema.js';

export type RequestRow = typeof t.requests.$inferSelect;
export type StepRow = typeof t.approvalSteps.$inferSelect;
export type DecisionRow = typeof t.decisions.$inferSelect;
export type GrantRow = typeof t.grants.$inferSelect;
export type TaskRow = typeof t.tasks.$inferSelect;
export type BreakGlassReviewRow = typeof t.breakGlassReviews.$inferSelect;
export type DelegationRow = typeof t.delegations.$inferSelect;
// Without SQLite's computed key_order (PostgreSQL's jobs have none): no record needs it.
export type JobRow = Omit<typeof t.jobs.$inferSelect, 'keyOrder'>;
export type AuditRow = typeof t.auditEvents.$inferSelect;

export function toRequest(row: RequestRow): AccessRequest {
  return {
    id: row.id,
    kind: row.kind,
    grantId: row.grantId,
    requester: {
      directoryId: row.requesterId,
      email: row.requesterEmail,
      name: row.requesterName,
      slackId: row.requesterSlackId,
    },
    app: row.app,
    role: row.role,
    policyName: row.policyName,
    policyVersion: row.policyVersion,
    justification: row.justification,
    requestedSeconds: row.requestedSeconds,
    grantedSeconds: row.grantedSeconds,
    status: row.status,
    autoApproveRule: row.autoApproveRule,
    currentStep: row.currentStep,
    stepCount: row.stepCount,
    createdAt: row.createdAt,
    approvalDeadline: row.approvalDeadline,
    decidedAt: row.decidedAt,
    decisionReason: row.decisionReason,
  };
}

export function fromRequest(r: AccessRequest): RequestRow {
  return {
    id: r.id,
    kind: r.kind,
    grantId: r.grantId,
    requesterId: r.requester.directoryId,
    requesterEmail: r.requester.email,
    requesterName: r.requester.name,
    requesterSlackId: r.requester.slackId ?? null,
    app: r.app,
    role: r.role,
    policyName: r.policyName,
    policyVersion: r.policyVersion,
    justification: r.justification,
    requestedSeconds: r.requestedSeconds,
    grantedSeconds: r.grantedSeconds,
    status: r.status,
    autoApproveRule: r.autoApproveRule,
    currentStep: r.currentStep,
    stepCount: r.stepCount,
    createdAt: r.createdAt,
    approvalDeadline: r.approvalDeadline,
    decidedAt: r.decidedAt,
    decisionReason: r.decisionReason,
  };
}

export function fromRequestPatch(patch: Partial<AccessRequest>): Partial<RequestRow> {
  const out: Partial<RequestRow> = {};
  if (patch.status !== undefined) out.status = patch.status;
  if (patch.grantedSeconds !== undefined) out.grantedSeconds = patch.grantedSeconds;
  if (patch.currentStep !== undefined) out.currentStep = patch.currentStep;
  if (patch.decidedAt !== undefined) out.decidedAt = patch.decidedAt;
  if (patch.decisionReason !== undefined) out.decisionReason = patch.decisionReason;
  if (patch.autoApproveRule !== undefined) out.autoApproveRule = patch.autoApproveRule;
  if (patch.grantId !== undefined) out.grantId = patch.grantId;
  return out;
}

export function toStep(row: StepRow): StepRecord {
  return {
    requestId: row.requestId,
    index: row.index,
    step: row.step,
    label: row.label,
    required: row.required,
    status: row.status,
    approvers: row.approvers,
    fallbackReason: row.fallbackReason,
    notifyChannel: row.notifyChannel,
    startedAt: row.startedAt,
    decidedAt: row.decidedAt,
    escalateAt: row.escalateAt,
    escalatedAt: row.escalatedAt,
    escalationApprovers: row.escalationApprovers,
    nextReminderAt: row.nextReminderAt,
    remindersSent: row.remindersSent,
  };
}

export function fromStep(s: StepRecord): StepRow {
  return { ...s };
}

/** The columns a step update may change (a request's id and a step's index and policy step never change). */
const STEP_PATCH_KEYS = [
  'status',
  'approvers',
  'fallbackReason',
  'label',
  'notifyChannel',
  'startedAt',
  'decidedAt',
  'escalateAt',
  'escalatedAt',
  'escalationApprovers',
  'nextReminderAt',
  'remindersSent',
] as const satisfies readonly (keyof StepRecord & keyof StepRow)[];

export function fromStepPatch(patch: Partial<StepRecord>): Partial<StepRow> {
  const values: Partial<Record<keyof StepRow, unknown>> = {};
  for (const key of STEP_PATCH_KEYS) if (patch[key] !== undefined) values[key] = patch[key];
  return values as Partial<StepRow>;
}

/** The columns a delegation update may change. */
export function fromDelegationPatch(patch: Partial<Delegation>): Partial<DelegationRow> {
  const values: Partial<DelegationRow> = {};
  if (patch.status !== undefined) values.status = patch.status;
  if (patch.endsAt !== undefined) values.endsAt = patch.endsAt;
  if (patch.endedAt !== undefined) values.endedAt = patch.endedAt;
  if (patch.endedReason !== undefined) values.endedReason = patch.endedReason;
  return values;
}

export function toDecision(row: DecisionRow): DecisionRecord {
  return {
    requestId: row.requestId,
    stepIndex: row.stepIndex,
    approver: {
      directoryId: row.approverId,
      email: row.approverEmail,
      name: row.approverName,
      slackId: row.approverSlackId,
    },
    decision: row.decision,
    reason: row.reason,
    shortenedToSeconds: row.shortenedToSeconds,
    at: row.at,
    onBehalfOf: row.onBehalfOfId
      ? {
          directoryId: row.onBehalfOfId,
          email: row.onBehalfOfEmail ?? '',
          name: row.onBehalfOfName ?? '',
          slackId: row.onBehalfOfSlackId,
        }
      : null,
  };
}

export function fromDecision(d: DecisionRecord): Omit<DecisionRow, 'id'> {
  return {
    requestId: d.requestId,
    stepIndex: d.stepIndex,
    approverId: d.approver.directoryId,
    approverEmail: d.approver.email,
    approverName: d.approver.name,
    approverSlackId: d.approver.slackId ?? null,
    decision: d.decision,
    reason: d.reason,
    shortenedToSeconds: d.shortenedToSeconds,
    at: d.at,
    onBehalfOfId: d.onBehalfOf?.directoryId ?? null,
    onBehalfOfEmail: d.onBehalfOf?.email ?? null,
    onBehalfOfName: d.onBehalfOf?.name ?? null,
    onBehalfOfSlackId: d.onBehalfOf?.slackId ?? null,
  };
}

export function toGrant(row: GrantRow): Grant {
  return {
    id: row.id,
    requestId: row.requestId,
    holder: { directoryId: row.holderId, email: row.holderEmail, name: row.holderName, slackId: row.holderSlackId },
    app: row.app,
    role: row.role,
    policyName: row.policyName,
    policyVersion: row.policyVersion,
    sensitive: row.sensitive,
    breakGlass: row.breakGlass,
    snapshot: row.snapshot,
    alreadyMember: row.alreadyMember,
    status: row.status,
    durationSeconds: row.durationSeconds,
    maxTotalSeconds: row.maxTotalSeconds,
    extensionApproval: row.extensionApproval,
    createdAt: row.createdAt,
    activatedAt: row.activatedAt,
    expiresAt: row.expiresAt,
    revocationReason: row.revocationReason,
    revocationNote: row.revocationNote,
    revokedBy: row.revokedBy,
    revocationStartedAt: row.revocationStartedAt,
    revokedAt: row.revokedAt,
    remindersSent: row.remindersSent,
    failures: row.failures,
    lastError: row.lastError,
  };
}

export function fromGrant(g: Grant): GrantRow {
  return {
    id: g.id,
    requestId: g.requestId,
    holderId: g.holder.directoryId,
    holderEmail: g.holder.email,
    holderName: g.holder.name,
    holderSlackId: g.holder.slackId ?? null,
    app: g.app,
    role: g.role,
    policyName: g.policyName,
    policyVersion: g.policyVersion,
    sensitive: g.sensitive,
    breakGlass: g.breakGlass,
    snapshot: g.snapshot,
    provisionGroup: managedGroup(g.snapshot.provision),
    alreadyMember: g.alreadyMember,
    status: g.status,
    durationSeconds: g.durationSeconds,
    maxTotalSeconds: g.maxTotalSeconds,
    extensionApproval: g.extensionApproval,
    createdAt: g.createdAt,
    activatedAt: g.activatedAt,
    expiresAt: g.expiresAt,
    revocationReason: g.revocationReason,
    revocationNote: g.revocationNote,
    revokedBy: g.revokedBy,
    revocationStartedAt: g.revocationStartedAt,
    revokedAt: g.revokedAt,
    remindersSent: g.remindersSent,
    failures: g.failures,
    lastError: g.lastError,
  };
}

export function fromGrantPatch(patch: Partial<Grant>): Partial<GrantRow> {
  const out: Partial<GrantRow> = {};
  const keys = [
    'alreadyMember',
    'status',
    'durationSeconds',
    'activatedAt',
    'expiresAt',
    'revocationReason',
    'revocationNote',
    'revokedBy',
    'revocationStartedAt',
    'revokedAt',
    'remindersSent',
    'failures',
    'lastError',
  ] as const;
  for (const key of keys) if (patch[key] !== undefined) (out as Record<string, unknown>)[key] = patch[key];
  return out;
}

export function toTask(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    grantId: row.grantId,
    action: row.action,
    assigneeGroup: row.assigneeGroup,
    status: row.status,
    createdAt: row.createdAt,
    completedBy: row.completedById
      ? { directoryId: row.completedById, email: row.completedByEmail ?? '', name: row.completedByName ?? '' }
      : null,
    completedAt: row.completedAt,
  };
}

export function toBreakGlassReview(row: BreakGlassReviewRow): BreakGlassReview {
  return {
    grantId: row.grantId,
    requestId: row.requestId,
    reviewers: row.reviewers,
    incident: row.incident,
    createdAt: row.createdAt,
    dueAt: row.dueAt,
    status: row.status,
    reviewer: row.reviewerId
      ? {
          directoryId: row.reviewerId,
          email: row.reviewerEmail ?? '',
          name: row.reviewerName ?? '',
          slackId: row.reviewerSlackId,
        }
      : null,
    reason: row.reason,
    reviewedAt: row.reviewedAt,
  };
}

export function fromBreakGlassReview(r: BreakGlassReview): BreakGlassReviewRow {
  return {
    grantId: r.grantId,
    requestId: r.requestId,
    reviewers: r.reviewers,
    incident: r.incident,
    createdAt: r.createdAt,
    dueAt: r.dueAt,
    status: r.status,
    reviewerId: r.reviewer?.directoryId ?? null,
    reviewerEmail: r.reviewer?.email ?? null,
    reviewerName: r.reviewer?.name ?? null,
    reviewerSlackId: r.reviewer?.slackId ?? null,
    reason: r.reason,
    reviewedAt: r.reviewedAt,
  };
}

/** The columns a review's outcome changes (what it is about, and when it is due, never change). */
export function fromBreakGlassReviewPatch(r: Partial<BreakGlassReview>): Partial<BreakGlassReviewRow> {
  const out: Partial<BreakGlassReviewRow> = {};
  if (r.status !== undefined) out.status = r.status;
  if (r.reviewer !== undefined) {
    out.reviewerId = r.reviewer?.directoryId ?? null;
    out.reviewerEmail = r.reviewer?.email ?? null;
    out.reviewerName = r.reviewer?.name ?? null;
    out.reviewerSlackId = r.reviewer?.slackId ?? null;
  }
  if (r.reason !== undefined) out.reason = r.reason;
  if (r.reviewedAt !== undefined) out.reviewedAt = r.reviewedAt;
  return out;
}

export function toDelegation(row: DelegationRow): Delegation {
  return {
    id: row.id,
    delegator: {
      directoryId: row.delegatorId,
      email: row.delegatorEmail,
      name: row.delegatorName,
      slackId: row.delegatorSlackId,
    },
    delegate: {
      directoryId: row.delegateId,
      email: row.delegateEmail,
      name: row.delegateName,
      slackId: row.delegateSlackId,
    },
    startsAt: row.startsAt,
    endsAt: row.endsAt,
    status: row.status,
    createdAt: row.createdAt,
    endedAt: row.endedAt,
    endedReason: row.endedReason,
  };
}

export function fromDelegation(d: Delegation): DelegationRow {
  return {
    id: d.id,
    delegatorId: d.delegator.directoryId,
    delegatorEmail: d.delegator.email,
    delegatorName: d.delegator.name,
    delegatorSlackId: d.delegator.slackId ?? null,
    delegateId: d.delegate.directoryId,
    delegateEmail: d.delegate.email,
    delegateName: d.delegate.name,
    delegateSlackId: d.delegate.slackId ?? null,
    startsAt: d.startsAt,
    endsAt: d.endsAt,
    status: d.status,
    createdAt: d.createdAt,
    endedAt: d.endedAt,
    endedReason: d.endedReason,
  };
}

export function toJob(row: JobRow): JobRecord {
  return {
    id: row.id,
    key: row.key,
    payload: row.payload,
    status: row.status,
    attempts: row.attempts,
    runAt: row.runAt,
    lastError: row.lastError,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    subject: row.subject,
  };
}

export function toAudit(row: AuditRow): AuditEvent {
  return {
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    action: row.action as AuditAction,
    requestId: row.requestId,
    grantId: row.grantId,
    details: row.details,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}

/**
 * The stored actor texts of one export, each parsed once: the same people and components act again
 * and again, so nearly every row finds its actor already read (no JSON parsing, no new object per
 * row). Bounded: past `max` distinct texts it starts over. The actors are frozen: rows share them.
 */
export class ActorTexts {
  private readonly known = new Map<string, Actor>();

  constructor(private readonly max = 10_000) {}

  parse(json: string): Actor {
    let actor = this.known.get(json);
    if (actor === undefined) {
      if (this.known.size >= this.max) this.known.clear();
      actor = Object.freeze(JSON.parse(json) as Actor);
      this.known.set(json, actor);
    }
    return actor;
  }
}
