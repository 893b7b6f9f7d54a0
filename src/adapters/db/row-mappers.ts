/**
 * Rows to records and back: the tables' shapes (schema.ts) stay in the SQLite adapter, the
 * operations see the domain records only.
 */
import type { AuditAction, AuditEvent } from '../../domain/audit.js';
import { managedGroup } from '../../domain/provisioning/methods.js';
import type { AccessRequest, DecisionRecord, Grant, JobRecord, StepRecord, TaskRecord } from '../../domain/records.js';
import type * as t from './schema.js';

export type RequestRow = typeof t.requests.$inferSelect;
export type StepRow = typeof t.approvalSteps.$inferSelect;
export type DecisionRow = typeof t.decisions.$inferSelect;
export type GrantRow = typeof t.grants.$inferSelect;
export type TaskRow = typeof t.tasks.$inferSelect;
export type JobRow = typeof t.jobs.$inferSelect;
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
  };
}

export function fromStep(s: StepRecord): StepRow {
  return { ...s };
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
