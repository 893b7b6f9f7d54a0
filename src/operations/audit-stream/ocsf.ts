/**
 * Audit events as OCSF 1.3 records (https://schema.ocsf.io/1.3.0/), category Identity & Access
 * Management (3). One event is one record, so `metadata.sequence` (the seq) dedupes either format.
 *
 * - Group membership changes the bot makes through a directory group (`okta_group`): Group
 *   Management (3006), Add User / Remove User, with the group, the user and the privilege.
 * - Grants (access given, extended, taken away): User Access Management (3005), Assign / Revoke
 *   Privileges; the privilege is `app/role`, the resource the application.
 * - Decisions on access requests, and everything else the bot manages (tasks, identities,
 *   policies, exports, checkpoints): Entity Management (3004), the request (or task, policy...)
 *   being the managed entity, its new status in `entity_result`.
 *
 * The json record (records.ts) rides along under `unmapped.access_bot`: every field, the hash
 * chain included. The mapping, action by action, is in the README ("OCSF mapping"); `MAPPING`
 * below is checked exhaustively against the audit actions, so a new action needs a line here.
 */
import type { Actor, AuditAction, AuditEvent } from '../../domain/audit.js';
import type { AccessRequest, Grant } from '../../domain/records.js';
import { auditRecord, type AuditSubjects } from './records.js';

const OCSF_VERSION = '1.3.0';

const CATEGORY = { uid: 3, name: 'Identity & Access Management' } as const;

const CLASSES = {
  entity: {
    uid: 3004,
    name: 'Entity Management',
    activities: { 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' },
  },
  userAccess: {
    uid: 3005,
    name: 'User Access Management',
    activities: { 1: 'Assign Privileges', 2: 'Revoke Privileges', 99: 'Other' },
  },
  group: {
    uid: 3006,
    name: 'Group Management',
    activities: { 1: 'Assign Privileges', 2: 'Revoke Privileges', 3: 'Add User', 4: 'Remove User', 99: 'Other' },
  },
} as const;

type ClassKey = keyof typeof CLASSES;
type ActivityOf<C extends ClassKey> = keyof (typeof CLASSES)[C]['activities'];

const SEVERITY = { 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High' } as const;
const STATUS = { 1: 'Success', 2: 'Failure' } as const;

/** What one action maps to: the class and activity, and the class's own attributes. */
interface Mapped {
  class: ClassKey;
  activity: number;
  attributes: Record<string, unknown>;
  status?: keyof typeof STATUS;
  severity?: keyof typeof SEVERITY;
  message: string;
}

interface Context {
  event: AuditEvent;
  details: Record<string, unknown>;
  request: AccessRequest | undefined;
  grant: Grant | undefined;
}

type Mapper = (ctx: Context) => Mapped;

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

function user(
  person: { directoryId: string; email: string; name?: string } | undefined,
): Record<string, unknown> | undefined {
  if (!person) return undefined;
  return {
    uid: person.directoryId,
    email_addr: person.email,
    ...(person.name ? { name: person.name } : {}),
    type_id: 1,
    type: 'User',
  };
}

/** The privilege a grant or request is about: `app/role`, on the application as the resource. */
function access(ctx: Context): { privileges?: string[]; resource?: Record<string, unknown> } {
  const subject = ctx.grant ?? ctx.request;
  const app = subject?.app ?? str(ctx.details.app);
  const role = subject?.role ?? str(ctx.details.role);
  if (!app) return {};
  return {
    ...(role ? { privileges: [`${app}/${role}`] } : {}),
    resource: { uid: app, name: app, type: 'application' },
  };
}

function holder(ctx: Context): Record<string, unknown> | undefined {
  return user(ctx.grant?.holder ?? ctx.request?.requester);
}

function grantAccess(activity: ActivityOf<'userAccess'>, verb: string, extra: Partial<Mapped> = {}): Mapper {
  return (ctx) => ({
    class: 'userAccess',
    activity: activity as number,
    attributes: { user: holder(ctx), ...access(ctx) },
    message: `${verb}: ${describeAccess(ctx)}`,
    ...extra,
  });
}

/** A membership of a directory group the grant's method manages, when it has one; else the grant. */
function membership(activity: 3 | 4, verb: string, otherwise: Mapper, changed: (ctx: Context) => boolean): Mapper {
  return (ctx) => {
    const group = str(ctx.details.group);
    if (!group || !changed(ctx)) return otherwise(ctx);
    return {
      class: 'group',
      activity,
      attributes: { group: { name: group, type: 'directory group' }, user: holder(ctx), ...access(ctx) },
      message: `${verb} ${group}: ${describeAccess(ctx)}`,
    };
  };
}

function entity(
  type: string,
  activity: ActivityOf<'entity'>,
  verb: string,
  extra: Partial<Mapped> = {},
  uidOf?: (ctx: Context) => string | undefined,
): Mapper {
  return (ctx) => {
    const uid = uidOf ? uidOf(ctx) : type === 'access_request' ? (ctx.event.requestId ?? undefined) : undefined;
    const status = type === 'access_request' ? ctx.request?.status : undefined;
    return {
      class: 'entity',
      activity: activity as number,
      attributes: {
        entity: { type, ...(uid ? { uid } : {}), ...(type === 'access_request' ? requestName(ctx) : {}) },
        ...(status ? { entity_result: { type, ...(uid ? { uid } : {}), data: { status } } } : {}),
        ...(str(ctx.details.reason) ? { comment: str(ctx.details.reason) } : {}),
        ...(type === 'access_request' ? { user: holder(ctx) } : {}),
      },
      message: `${verb}${type === 'access_request' ? `: ${describeAccess(ctx)}` : ''}`,
      ...extra,
    };
  };
}

function requestName(ctx: Context): { name?: string } {
  const a = access(ctx).privileges?.[0];
  return a ? { name: a } : {};
}

function describeAccess(ctx: Context): string {
  const who = (ctx.grant?.holder ?? ctx.request?.requester)?.email;
  const what = access(ctx).privileges?.[0];
  return [what, who && `for ${who}`, ctx.event.grantId && `(grant ${ctx.event.grantId})`].filter(Boolean).join(' ');
}

/** Drift: someone in a group the bot provisions through, without a grant from it (the person is in the details). */
function groupDrift(verb: string, severity: keyof typeof SEVERITY): Mapper {
  return (ctx) => {
    const group = str(ctx.details.group);
    const person = ctx.details.person as { directoryId?: unknown; email?: unknown; name?: unknown } | undefined;
    const who =
      typeof person?.directoryId === 'string' && typeof person.email === 'string'
        ? user({
            directoryId: person.directoryId,
            email: person.email,
            ...(typeof person.name === 'string' ? { name: person.name } : {}),
          })
        : undefined;
    return {
      class: 'group',
      activity: 99,
      severity,
      attributes: { ...(group ? { group: { name: group, type: 'directory group' } } : {}), user: who },
      message: `${verb}: ${group ?? '?'}${typeof person?.email === 'string' ? `, ${person.email}` : ''}`,
    };
  };
}

const failure = { status: 2, severity: 3 } as const;
const detail = (key: string) => (ctx: Context) => str(ctx.details[key]);

/** Every action's record. Checked exhaustively: a new action is a type error until it is mapped here. */
const MAPPING: Record<AuditAction, Mapper> = {
  'request.submitted': entity('access_request', 1, 'Access requested'),
  'request.autoApproved': entity('access_request', 3, 'Access request approved automatically'),
  'request.approved': entity('access_request', 3, 'Access request approved'),
  'request.denied': entity('access_request', 3, 'Access request denied'),
  'request.cancelled': entity('access_request', 3, 'Access request cancelled'),
  'request.expired': entity('access_request', 3, 'Access request expired without a decision'),
  'request.refused': entity('access_request', 1, 'Access request refused', failure),
  'step.started': entity('access_request', 3, 'Approval step started'),
  'step.fallbackUsed': entity('access_request', 3, 'Approval step fell back to the admin group'),
  'step.approved': entity('access_request', 3, 'Approval step approved'),
  'step.denied': entity('access_request', 3, 'Approval step denied'),
  'step.escalated': entity('access_request', 3, 'Approval step escalated'),
  'step.reminded': entity('access_request', 99, 'Approvers reminded of a waiting step'),
  'grant.provisioningStarted': grantAccess(99, 'Provisioning started'),
  'grant.provisioned': membership(3, 'Added to', grantAccess(99, 'Provisioned'), (ctx) => ctx.details.late !== true),
  'grant.activated': grantAccess(1, 'Access granted'),
  'grant.provisioningFailed': grantAccess(1, 'Provisioning failed', failure),
  'grant.extended': grantAccess(1, 'Access extended'),
  'grant.revocationStarted': grantAccess(99, 'Revocation started'),
  'grant.membershipKept': grantAccess(99, 'Access ended; group membership kept'),
  'grant.revoked': membership(
    4,
    'Removed from',
    grantAccess(2, 'Access revoked'),
    (ctx) => ctx.details.removed === true,
  ),
  'grant.revocationFailed': grantAccess(2, 'Revocation failed', failure),
  'grant.provisioningUndone': membership(
    4,
    'Removed from',
    grantAccess(2, 'Late provisioning undone'),
    (ctx) => ctx.details.removed === true,
  ),
  'grant.reminded': grantAccess(99, 'Expiry reminder sent'),
  // Emergency access: the grant's own grant.activated assigns the privilege; these say it was
  // taken without approval, and how its review went (High when taken, not justified, or overdue).
  'breakGlass.invoked': grantAccess(99, 'Emergency access taken without approval (break-glass)', { severity: 4 }),
  'breakGlass.reviewed': (ctx) => ({
    ...grantAccess(
      99,
      ctx.details.outcome === 'not_justified'
        ? 'Emergency access reviewed: not justified'
        : 'Emergency access reviewed: justified',
    )(ctx),
    severity: ctx.details.outcome === 'not_justified' ? 4 : 1,
  }),
  'breakGlass.reviewOverdue': grantAccess(99, 'Emergency access review overdue', { severity: 4 }),
  'delegation.created': entity('approval_delegation', 1, 'Approvals delegated', {}, detail('delegationId')),
  'delegation.ended': entity('approval_delegation', 4, 'Delegation of approvals ended', {}, detail('delegationId')),
  'task.created': entity('provisioning_task', 1, 'Manual task created', {}, detail('taskId')),
  'task.completed': entity('provisioning_task', 3, 'Manual task completed', {}, detail('taskId')),
  'task.cancelled': entity('provisioning_task', 4, 'Manual task cancelled', {}, detail('taskId')),
  'identity.bound': entity(
    'identity_binding',
    1,
    'Slack user matched to a directory person',
    {},
    detail('slackUserId'),
  ),
  'identity.unbound': entity('identity_binding', 4, 'Slack user unmatched', {}, detail('slackUserId')),
  'identity.conflicted': entity('identity_binding', 1, 'Slack user match refused', failure, detail('slackUserId')),
  'policy.added': entity('policy', 1, 'Policy version recorded', {}, detail('policy')),
  'policy.changed': entity('policy', 3, 'Policy changed', {}, detail('policy')),
  'policy.retired': entity('policy', 4, 'Policy retired', {}, detail('policy')),
  'export.created': entity('audit_export', 2, 'Evidence exported'),
  'drift.detected': groupDrift('Found in a group without a grant from the bot', 4),
  'drift.resolved': groupDrift('Drift resolved', 1),
  'digest.posted': entity('security_digest', 1, 'Weekly digest posted'),
  'job.failed': entity('job', 99, 'Job failed', failure, detail('job')),
  'job.abandoned': entity('job', 99, 'Job given up', failure, detail('job')),
  'audit.checkpointed': entity('audit_checkpoint', 1, 'Audit checkpoint signed', {}, (ctx) => String(ctx.details.seq)),
  'reviewDefinition.added': entity(
    'access_review_definition',
    1,
    'Access review definition recorded',
    {},
    detail('review'),
  ),
  'reviewDefinition.changed': entity(
    'access_review_definition',
    3,
    'Access review definition changed',
    {},
    detail('review'),
  ),
  'reviewDefinition.retired': entity(
    'access_review_definition',
    4,
    'Access review definition retired',
    {},
    detail('review'),
  ),
  'review.started': entity('access_review', 1, 'Access review started', {}, detail('campaign')),
  'review.reminded': entity('access_review', 99, 'Access review reminder sent', {}, detail('campaign')),
  'review.closed': entity('access_review', 3, 'Access review closed', {}, detail('campaign')),
  'review.summaryPosted': entity('access_review', 3, 'Access review summary posted', {}, detail('campaign')),
  'reviewItem.kept': entity('access_review_item', 3, 'Access review: access kept', {}, detail('item')),
  'reviewItem.revoked': entity('access_review_item', 3, 'Access review: access to be revoked', {}, detail('item')),
  'reviewItem.leftUndecided': entity('access_review_item', 3, 'Access review: left undecided', {}, detail('item')),
  'reviewItem.reportedForRemoval': entity(
    'access_review_item',
    3,
    'Access review: reported for removal',
    {},
    detail('item'),
  ),
  'reviewItem.remediated': entity('access_review_item', 3, 'Access review: removal verified', {}, detail('item')),
  'reviewItem.remediationFailed': entity(
    'access_review_item',
    3,
    'Access review: removal failed',
    failure,
    detail('item'),
  ),
};

function actorOf(actor: Actor): Record<string, unknown> {
  if (actor.kind === 'system')
    return { app_name: 'access-bot', user: { name: `system:${actor.component}`, type_id: 3, type: 'System' } };
  return {
    app_name: 'access-bot',
    user: {
      uid: actor.directoryId,
      email_addr: actor.email,
      ...(actor.slackId ? { uid_alt: actor.slackId } : {}),
      type_id: 1,
      type: 'User',
    },
  };
}

/** The OCSF record of one event. */
export function ocsfRecord(event: AuditEvent, subjects: AuditSubjects): Record<string, unknown> {
  const grant = event.grantId ? subjects.grants.get(event.grantId) : undefined;
  const request = event.requestId
    ? subjects.requests.get(event.requestId)
    : grant
      ? subjects.requests.get(grant.requestId)
      : undefined;
  const mapped = MAPPING[event.action]({ event, details: event.details, request, grant });
  const cls = CLASSES[mapped.class];
  const activityName = (cls.activities as Record<number, string>)[mapped.activity]!;
  const status = mapped.status ?? 1;
  const severity = mapped.severity ?? 1;
  const attributes = Object.fromEntries(Object.entries(mapped.attributes).filter(([, v]) => v !== undefined));
  return {
    activity_id: mapped.activity,
    activity_name: activityName,
    category_uid: CATEGORY.uid,
    category_name: CATEGORY.name,
    class_uid: cls.uid,
    class_name: cls.name,
    type_uid: cls.uid * 100 + mapped.activity,
    type_name: `${cls.name}: ${activityName}`,
    time: Date.parse(event.at),
    severity_id: severity,
    severity: SEVERITY[severity],
    status_id: status,
    status: STATUS[status],
    message: mapped.message,
    actor: actorOf(event.actor),
    ...attributes,
    metadata: {
      version: OCSF_VERSION,
      product: { name: 'access-bot', vendor_name: 'access-bot' },
      log_name: 'audit',
      uid: String(event.seq),
      sequence: event.seq,
      original_time: event.at,
      event_code: event.action,
      ...((event.requestId ?? grant?.requestId) ? { correlation_uid: event.requestId ?? grant?.requestId } : {}),
    },
    unmapped: { access_bot: auditRecord(event) },
  };
}
