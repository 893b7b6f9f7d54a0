/**
 * The columns of each export and how a record becomes a row. Pure: records in, cells out. Every
 * column is documented in README.md ("Audit evidence exports"); a change here is a change to the evidence format.
 *
 * Times are the stored ISO 8601 UTC strings; durations and counts are numbers; text is passed as
 * typed and neutralised by the sink (CSV formula injection), never here.
 */
import type { Actor } from '../../domain/audit.js';
import { canonicalJson } from '../../domain/canonical.js';
import { describeProvision } from '../../domain/provisioning/methods.js';
import type { BreakGlassReview, DecisionRecord, PersonRef, StepRecord } from '../../domain/records.js';
import type {
  Cell,
  EventExportRecord,
  GrantExportRecord,
  PolicyExportRecord,
  RequestExportRecord,
} from './export-ports.js';

// ---- requests ------------------------------------------------------------------------------------

const REQUEST_HEAD = [
  'request_id',
  'kind',
  'extends_grant_id',
  'requester_name',
  'requester_email',
  'requester_slack_id',
  'requester_directory_id',
  'app',
  'role',
  'policy_name',
  'policy_version',
  'justification',
  'requested_seconds',
  'granted_seconds',
  'status',
  'request_status',
  'grant_status',
  'created_at',
  'decided_at',
  'decision_reason',
] as const;

const STEP_FIELDS = [
  'label',
  'asked',
  'decided_by',
  'decision',
  'decided_at',
  'fallback',
  'escalated_at',
  'escalation_asked',
] as const;

const REQUEST_TAIL = [
  'approval_summary',
  'auto_approve_rule',
  'grant_id',
  'provisioning_method',
  'provisioning_target',
  'provisioned_by',
  'provisioned_at',
  'expires_at',
  'extension_count',
  'extension_total_seconds',
  'revocation_started_at',
  'revoked_at',
  'revocation_reason',
  'revoked_by',
  'revocation_note',
  'break_glass',
  'break_glass_incident',
  'break_glass_review',
  'break_glass_reviewed_by',
  'break_glass_reviewed_at',
  'break_glass_review_reason',
] as const;

/** The requests columns for an export whose longest approval chain has `steps` steps. */
export function requestColumns(steps: number): string[] {
  const stepColumns: string[] = [];
  for (let n = 1; n <= steps; n++) for (const field of STEP_FIELDS) stepColumns.push(`step_${n}_${field}`);
  return [...REQUEST_HEAD, ...stepColumns, ...REQUEST_TAIL];
}

export function requestRow(record: RequestExportRecord, steps: number): Cell[] {
  const { request: r, grant: g } = record;
  const row: Cell[] = [
    r.id,
    r.kind,
    r.kind === 'extension' ? r.grantId : null,
    r.requester.name,
    r.requester.email,
    r.requester.slackId ?? null,
    r.requester.directoryId,
    r.app,
    r.role,
    r.policyName,
    r.policyVersion,
    r.justification,
    r.requestedSeconds,
    r.grantedSeconds,
    // The lifecycle status: once a grant exists its status is the request's story from then on.
    g ? g.status : r.status,
    r.status,
    g?.status ?? null,
    r.createdAt,
    r.decidedAt,
    r.decisionReason,
  ];
  const byIndex = new Map(record.steps.map((s) => [s.index, s]));
  for (let i = 0; i < steps; i++) {
    const step = byIndex.get(i);
    if (!step) {
      row.push(...STEP_FIELDS.map(() => null));
      continue;
    }
    const deciders = record.decisions.filter((d) => d.stepIndex === i);
    row.push(
      step.label,
      people(step.approvers),
      deciders.length ? deciders.map(decider).join('; ') : null,
      step.status,
      step.decidedAt,
      step.fallbackReason,
      step.escalatedAt,
      step.escalatedAt ? people(step.escalationApprovers) : null,
    );
  }
  const provision = g?.snapshot.provision;
  row.push(
    approvalSummary(record),
    r.autoApproveRule,
    g?.id ?? null,
    provision?.method ?? null,
    provision ? describeProvision(provision).target : null,
    record.provisionedBy ? person(record.provisionedBy) : null,
    g?.activatedAt ?? null,
    g?.expiresAt ?? null,
    g ? record.extensions.count : null,
    g ? record.extensions.totalSeconds : null,
    g?.revocationStartedAt ?? null,
    g?.revokedAt ?? null,
    g?.revocationReason ?? null,
    g?.revokedBy ?? null,
    g?.revocationNote ?? null,
    ...breakGlassCells(r.kind === 'break_glass', record.breakGlassReview, { incident: true, reason: true }),
  );
  return row;
}

/**
 * Emergency access in an export row: `break_glass` (true/false), then the incident (requests
 * only), the review outcome (`pending`, `justified`, `not_justified`), reviewer, review time and
 * reason (requests only).
 */
function breakGlassCells(
  breakGlass: boolean,
  review: BreakGlassReview | null,
  with_: { incident: boolean; reason: boolean },
): Cell[] {
  const cells: Cell[] = [breakGlass];
  if (with_.incident) cells.push(review?.incident ?? null);
  cells.push(review?.status ?? null, review?.reviewer ? person(review.reviewer) : null, review?.reviewedAt ?? null);
  if (with_.reason) cells.push(review?.reason ?? null);
  return cells;
}

/** "Kim Nguyen <kim@example.com> for Marcus Chen <marcus@example.com>" when a delegate decided. */
function decider(d: DecisionRecord): string {
  return d.onBehalfOf ? `${person(d.approver)} for ${person(d.onBehalfOf)}` : person(d.approver);
}

/**
 * One line a person reads: "auto-approved: <rule>" or each step in order,
 * "1. Manager: approved by Marcus Chen <marcus@example.com> at ... | 2. ...".
 */
export function approvalSummary(record: RequestExportRecord): string {
  const r = record.request;
  if (r.autoApproveRule)
    return `auto-approved: ${r.autoApproveRule}${r.decisionReason ? ` (${r.decisionReason})` : ''}`;
  if (r.kind === 'break_glass')
    return `break-glass: emergency access without approval, reviewed afterwards (${record.breakGlassReview?.status ?? 'no review'})`;
  if (record.steps.length === 0)
    return r.status === 'pending_approval'
      ? 'no approval step recorded'
      : `${r.status}${r.decisionReason ? `: ${r.decisionReason}` : ''}`;
  return record.steps
    .map((step) => {
      const decisions = record.decisions.filter((d) => d.stepIndex === step.index);
      const head = `${step.index + 1}. ${step.label}${step.required > 1 ? ` (${step.required} approvals)` : ''}`;
      const fallback = step.fallbackReason ? ` [fallback to admins: ${step.fallbackReason}]` : '';
      const escalated = step.escalatedAt
        ? ` [escalated at ${step.escalatedAt} to ${people(step.escalationApprovers) || 'nobody'}]`
        : '';
      const decided = decisions.map((d) => {
        const verb = d.decision === 'approve' ? 'approved' : 'denied';
        const shortened = d.shortenedToSeconds !== null ? `, shortened to ${d.shortenedToSeconds} s` : '';
        const reason = d.reason ? `: ${d.reason}` : '';
        return `${verb} by ${decider(d)} at ${d.at}${shortened}${reason}`;
      });
      const state = describeStep(step, decided);
      return `${head}: ${state}${fallback}${escalated}`;
    })
    .join(' | ');
}

function describeStep(step: StepRecord, decided: string[]): string {
  const asked = step.approvers.length ? `asked ${people(step.approvers)}` : 'nobody asked yet';
  switch (step.status) {
    case 'waiting':
      return 'not reached';
    case 'open':
      return decided.length ? `${decided.join('; ')}; open, ${asked}` : `open, ${asked}`;
    case 'closed':
      return decided.length
        ? `${decided.join('; ')}; closed undecided at ${step.decidedAt ?? '?'}`
        : `closed undecided at ${step.decidedAt ?? '?'}, ${asked}`;
    default:
      return decided.join('; ') || step.status;
  }
}

function person(p: PersonRef): string {
  return `${p.name} <${p.email}>`;
}

function people(list: readonly PersonRef[]): string {
  return list.map(person).join('; ');
}

// ---- access (role-level) ---------------------------------------------------------------------------

export const ACCESS_COLUMNS = [
  'grant_id',
  'app',
  'role',
  'holder_name',
  'holder_email',
  'holder_slack_id',
  'holder_directory_id',
  'sensitive',
  'status',
  'created_at',
  'start',
  'expires_at',
  'end',
  'granted_seconds',
  'extension_count',
  'extension_total_seconds',
  'revocation_reason',
  'revoked_by',
  'revocation_note',
  'provisioning_method',
  'already_member',
  'request_id',
  'policy_name',
  'policy_version',
  'break_glass',
  'break_glass_review',
  'break_glass_reviewed_by',
  'break_glass_reviewed_at',
] as const;

export function accessRow({ grant: g, extensions, breakGlassReview }: GrantExportRecord): Cell[] {
  return [
    g.id,
    g.app,
    g.role,
    g.holder.name,
    g.holder.email,
    g.holder.slackId ?? null,
    g.holder.directoryId,
    g.sensitive,
    g.status,
    g.createdAt,
    g.activatedAt,
    g.expiresAt,
    g.revokedAt,
    g.durationSeconds,
    extensions.count,
    extensions.totalSeconds,
    g.revocationReason,
    g.revokedBy,
    g.revocationNote,
    g.snapshot.provision.method,
    g.alreadyMember,
    g.requestId,
    g.policyName,
    g.policyVersion,
    ...breakGlassCells(g.breakGlass, breakGlassReview, { incident: false, reason: false }),
  ];
}

// ---- events ----------------------------------------------------------------------------------------

export const EVENT_COLUMNS = [
  'seq',
  'at',
  'actor_kind',
  'actor_email',
  'actor_directory_id',
  'actor_slack_id',
  'actor_component',
  'action',
  'request_id',
  'grant_id',
  'details',
  'prev_hash',
  'hash',
] as const;

export function eventRow(e: EventExportRecord): Cell[] {
  const a: Actor = e.actor;
  return [
    e.seq,
    e.at,
    a.kind,
    a.kind === 'person' ? a.email : null,
    a.kind === 'person' ? a.directoryId : null,
    a.kind === 'person' ? (a.slackId ?? null) : null,
    a.kind === 'system' ? a.component : null,
    e.action,
    e.requestId,
    e.grantId,
    // The store writes details in canonical form (StoreTx.appendAudit): the stored text is the
    // one the hash covers, so the chain can be re-verified from the CSV alone, and passing it
    // through spares parsing and re-sorting every row (a fifth of an export's time).
    e.detailsJson,
    e.prevHash,
    e.hash,
  ];
}

// ---- policies --------------------------------------------------------------------------------------

export const POLICY_COLUMNS = [
  'policy_name',
  'version',
  'app',
  'role',
  'first_seen_at',
  'last_seen_at',
  'in_force_until',
  'current',
  'definition',
] as const;

export function policyRow({ version: v, current, inForceUntil }: PolicyExportRecord): Cell[] {
  return [
    v.policyName,
    v.version,
    v.app,
    v.role,
    v.firstSeenAt,
    v.lastSeenAt,
    inForceUntil,
    current,
    canonicalJson(v.definition),
  ];
}
