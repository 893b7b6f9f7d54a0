/**
 * The YAML shape of a policy file and of `policies/settings.yml`, as zod schemas that validate the
 * parsed YAML and transform it into the domain types of `policy.ts` (durations in seconds,
 * camelCase keys). Every object is strict: an unknown key is an error, because a misspelt key
 * (`min_aprovals`) silently ignored would weaken a rule.
 *
 * Pure: cron expressions are only checked to be non-empty here; the adapter that loads the files
 * checks them with node-cron (the domain must not import it).
 */
import * as z from 'zod';
import { AuditCheckpointsSchema, AuditSinksSchema } from './audit-sinks.js';
import { formatDuration } from './duration.js';
import type {
  AppPolicy,
  ApprovalStep,
  AutoApproveRule,
  BreakGlassRule,
  ExtensionRule,
  PeopleRule,
  Role,
  Settings,
} from './policy.js';
import { ProvisionSchema } from './provisioning/methods.js';
import {
  ChannelId,
  delegate,
  DurationSchema,
  expected,
  GroupName,
  isRecord,
  MISSING,
  nonEmptyText,
  POLICY_NAME_PATTERN,
  showValue,
  Slug,
} from './schema-primitives.js';

const DEFAULT_SETTINGS = {
  timezone: 'UTC',
  sweepSchedule: '* * * * *',
  digestSchedule: '0 9 * * 1',
  reconcileSchedule: '0 * * * *',
  approvalTimeoutSeconds: 72 * 3600,
  remindersSeconds: [86_400, 3600],
  managerAttribute: 'managerId',
  retentionSeconds: 90 * 86_400,
} as const;

/**
 * The shortest `retention`: a finished job's key is what keeps a day's alert from being queued
 * twice (`revoke-failing:<grant>:day-N`, `channel-unreachable:<channel>:<date>`), so finished jobs
 * must outlive the day they are about by a margin.
 */
const MIN_RETENTION_SECONDS = 7 * 86_400;

/** `{group: name}` or `{user: email}`: the people an escalation adds, or who reviews break-glass access. */
export const PeopleRuleSchema = z.unknown().transform((value, ctx): PeopleRule => {
  if (isRecord(value) && 'group' in value && !('user' in value)) {
    return delegate(
      z.strictObject({ group: GroupName }).transform((v): PeopleRule => ({ kind: 'group', group: v.group })),
      value,
      ctx,
    );
  }
  if (isRecord(value) && 'user' in value && !('group' in value)) {
    return delegate(
      z
        .strictObject({ user: z.email({ error: expected("must be a person's email address") }) })
        .transform((v): PeopleRule => ({ kind: 'user', user: v.user })),
      value,
      ctx,
    );
  }
  ctx.addIssue({
    code: 'custom',
    message:
      value === undefined
        ? `${MISSING} ({group: name} or {user: email})`
        : `must be {group: name} or {user: email}; got ${showValue(value)}`,
  });
  return z.NEVER;
});

/** The keys any step may carry beside its own: an escalation, written as both keys or neither. */
const EscalationKeys = {
  escalate_after: DurationSchema.optional(),
  escalate_to: PeopleRuleSchema.optional(),
};

type EscalationInput = { escalate_after?: number | undefined; escalate_to?: PeopleRule | undefined };

function checkEscalation(s: EscalationInput, ctx: z.RefinementCtx): void {
  if (s.escalate_after !== undefined && s.escalate_to === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['escalate_to'],
      message: `${MISSING}: escalate_after needs escalate_to ({group: name} or {user: email})`,
    });
  }
  if (s.escalate_to !== undefined && s.escalate_after === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['escalate_after'],
      message: `${MISSING}: escalate_to needs escalate_after (a duration such as 4h)`,
    });
  }
}

function withEscalation<T extends ApprovalStep>(step: T, s: EscalationInput): T {
  if (s.escalate_after !== undefined && s.escalate_to !== undefined)
    step.escalation = { afterSeconds: s.escalate_after, to: s.escalate_to };
  return step;
}

/** `- manager:` with keys beside it (YAML reads the empty `manager:` as null). */
const ManagerStepSchema = z
  .strictObject({
    manager: z.null({
      error: expected("must be empty: write '- manager:' and put escalate_after and escalate_to beside it"),
    }),
    ...EscalationKeys,
  })
  .superRefine(checkEscalation)
  .transform((s): ApprovalStep => withEscalation({ kind: 'manager' }, s));

const UserStepSchema = z
  .strictObject({
    user: z.email({ error: expected("must be the approver's email address") }),
    ...EscalationKeys,
  })
  .superRefine(checkEscalation)
  .transform((s): ApprovalStep => withEscalation({ kind: 'user', user: s.user }, s));

const GroupStepSchema = z
  .strictObject({
    group: GroupName,
    min_approvals: z
      .int({ error: expected('must be a whole number of approvals') })
      .min(1, {
        error: expected('must be at least 1'),
      })
      .default(1),
    notify: ChannelId.optional(),
    ...EscalationKeys,
  })
  .superRefine(checkEscalation)
  .transform((s): ApprovalStep => {
    const step: ApprovalStep = { kind: 'group', group: s.group, minApprovals: s.min_approvals };
    if (s.notify !== undefined) step.notify = s.notify;
    return withEscalation(step, s);
  });

const STEP_FORMS = "'manager', {user: email} or {group: name}";

/**
 * One approval step: `manager`, `{manager: null, escalate_…}`, `{user: email, …}` or `{group: name, min_approvals?,
 * notify?, …}`.
 */
const ApprovalStepSchema = z.unknown().transform((value, ctx): ApprovalStep => {
  if (value === 'manager') return { kind: 'manager' };
  if (isRecord(value)) {
    const kinds = (['manager', 'user', 'group'] as const).filter((k) => k in value);
    if (kinds.length > 1) {
      const message = kinds.includes('manager')
        ? `a '- manager:' step names no ${kinds.filter((k) => k !== 'manager').join(' or ')}: make it a step of its own`
        : 'a step names either a user or a group, not both';
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    }
    if (kinds[0] === 'manager') return delegate(ManagerStepSchema, value, ctx);
    if (kinds[0] === 'user') return delegate(UserStepSchema, value, ctx);
    if (kinds[0] === 'group') return delegate(GroupStepSchema, value, ctx);
  }
  ctx.addIssue({ code: 'custom', message: `an approval step must be ${STEP_FORMS}; got ${showValue(value)}` });
  return z.NEVER;
});

/** `auto`, or a non-empty list of sequential steps. */
const ApprovalSchema = z.unknown().transform((value, ctx): 'auto' | ApprovalStep[] => {
  if (value === 'auto') return 'auto';
  if (Array.isArray(value)) {
    if (value.length === 0) {
      ctx.addIssue({ code: 'custom', message: "must list at least one approval step (or be 'auto')" });
      return z.NEVER;
    }
    return delegate(z.array(ApprovalStepSchema), value, ctx);
  }
  ctx.addIssue({
    code: 'custom',
    message:
      value === undefined
        ? `${MISSING} ('auto' or a list of steps)`
        : `must be 'auto' or a list of steps (${STEP_FORMS}); got ${showValue(value)}`,
  });
  return z.NEVER;
});

const AutoApproveSchema = z
  .strictObject({
    when: z
      .strictObject({
        requester_groups: z.array(GroupName).min(1, 'must list at least one group (or leave the key out)').optional(),
        max_duration: DurationSchema.optional(),
      })
      .refine((w) => w.requester_groups !== undefined || w.max_duration !== undefined, {
        message: 'needs at least one condition: requester_groups or max_duration',
      }),
  })
  .transform((a): AutoApproveRule => {
    const rule: AutoApproveRule = {};
    if (a.when.requester_groups !== undefined) rule.requesterGroups = a.when.requester_groups;
    if (a.when.max_duration !== undefined) rule.maxDurationSeconds = a.when.max_duration;
    return rule;
  });

const ExtensionObjectSchema = z
  .strictObject({
    max_total: DurationSchema,
    approval: z.enum(['same', 'auto'], { error: expected("must be 'same' or 'auto'") }),
  })
  .transform((e): ExtensionRule => ({ maxTotalSeconds: e.max_total, approval: e.approval }));

/** `none`, or `{max_total, approval: same|auto}`. */
const ExtensionSchema = z.unknown().transform((value, ctx): ExtensionRule | null => {
  if (value === 'none') return null;
  if (isRecord(value)) return delegate(ExtensionObjectSchema, value, ctx);
  ctx.addIssue({
    code: 'custom',
    message: `must be 'none' or {max_total: duration, approval: same|auto}; got ${showValue(value)}`,
  });
  return z.NEVER;
});

/** `break_glass`: emergency access, capped and reviewed afterwards. */
const BreakGlassSchema = z
  .strictObject({
    max: DurationSchema,
    eligible_groups: z
      .array(GroupName)
      .min(1, "must list at least one group (or leave the key out: the role's eligible_groups)")
      .optional(),
    review_within: DurationSchema,
    reviewers: PeopleRuleSchema,
  })
  .transform((b): BreakGlassRule => ({
    maxSeconds: b.max,
    eligibleGroups: b.eligible_groups ?? null,
    reviewWithinSeconds: b.review_within,
    reviewers: b.reviewers,
  }));

const RoleSchema = z
  .strictObject({
    id: Slug,
    name: nonEmptyText,
    policy: z.string().regex(POLICY_NAME_PATTERN, {
      error: expected("must be a policy name (letters, digits, '.', '_' and '-')"),
    }),
    sensitive: z.boolean().default(false),
    eligible_groups: z.array(GroupName).min(1, 'must list at least one group'),
    duration: z.strictObject({ default: DurationSchema, max: DurationSchema }),
    justification: z
      .enum(['required', 'optional'], { error: expected("must be 'required' or 'optional'") })
      .default('optional'),
    approval: ApprovalSchema,
    auto_approve: AutoApproveSchema.optional(),
    extension: ExtensionSchema.optional(),
    provision: ProvisionSchema,
    break_glass: BreakGlassSchema.optional(),
  })
  .superRefine((r, ctx) => {
    // Emergency access is at most as long as the role's own maximum: a break-glass grant longer
    // than any approved one would make the approval chain the slower way to more access.
    if (r.break_glass && r.break_glass.maxSeconds > r.duration.max) {
      ctx.addIssue({
        code: 'custom',
        path: ['break_glass', 'max'],
        message: `break_glass.max (${formatDuration(r.break_glass.maxSeconds)}) is longer than duration.max (${formatDuration(r.duration.max)})`,
      });
    }
    if (r.duration.default > r.duration.max) {
      ctx.addIssue({
        code: 'custom',
        path: ['duration', 'default'],
        message: `duration.default (${formatDuration(r.duration.default)}) is longer than duration.max (${formatDuration(r.duration.max)})`,
      });
    }
    // max_total is the grant's whole lifetime: below the maximum, a grant taken at the maximum
    // could never be extended and the two limits would contradict each other.
    if (r.extension && r.extension.maxTotalSeconds < r.duration.max) {
      ctx.addIssue({
        code: 'custom',
        path: ['extension', 'max_total'],
        message: `extension.max_total (${formatDuration(r.extension.maxTotalSeconds)}, the grant's whole lifetime) is shorter than duration.max (${formatDuration(r.duration.max)})`,
      });
    }
  })
  .transform((r): Role => {
    const role: Role = {
      id: r.id,
      name: r.name,
      policy: r.policy,
      sensitive: r.sensitive,
      eligibleGroups: r.eligible_groups,
      duration: { defaultSeconds: r.duration.default, maxSeconds: r.duration.max },
      justification: r.justification,
      approval: r.approval,
      extension: r.extension ?? null,
      provision: r.provision,
    };
    if (r.auto_approve !== undefined) role.autoApprove = r.auto_approve;
    if (r.break_glass !== undefined) role.breakGlass = r.break_glass;
    return role;
  });

export const PolicyFileSchema = z
  .strictObject({
    app: Slug,
    name: nonEmptyText,
    description: z.string().optional(),
    roles: z.array(RoleSchema).min(1, 'must list at least one role'),
  })
  .transform((p): AppPolicy => {
    const policy: AppPolicy = { app: p.app, name: p.name, roles: p.roles };
    if (p.description !== undefined) policy.description = p.description;
    return policy;
  });

function isValidTimeZone(timeZone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone });
    return true;
  } catch {
    return false;
  }
}

const CronText = z.string().trim().min(1, 'must be a cron expression');

export const SettingsFileSchema = z
  .strictObject({
    admin_group: GroupName,
    security_channel: ChannelId,
    alerts_channel: ChannelId.optional(),
    timezone: z
      .string()
      .refine(isValidTimeZone, { error: expected('must be an IANA time zone such as Europe/Berlin or UTC') })
      .default(DEFAULT_SETTINGS.timezone),
    sweep_schedule: CronText.default(DEFAULT_SETTINGS.sweepSchedule),
    digest_schedule: CronText.default(DEFAULT_SETTINGS.digestSchedule),
    reconcile_schedule: CronText.default(DEFAULT_SETTINGS.reconcileSchedule),
    approval_timeout: DurationSchema.optional(),
    reminders: z.array(DurationSchema).optional(),
    approver_reminders: z.array(DurationSchema).optional(),
    manager_attribute: nonEmptyText.default(DEFAULT_SETTINGS.managerAttribute),
    audit_sinks: AuditSinksSchema.optional(),
    audit_checkpoints: AuditCheckpointsSchema.optional(),
    retention: DurationSchema.refine((seconds) => seconds >= MIN_RETENTION_SECONDS, {
      error: (issue) =>
        `must be at least ${formatDuration(MIN_RETENTION_SECONDS)} (a finished job keeps a day's alert from being sent twice), ` +
        `got '${formatDuration(issue.input as number)}'`,
    }).optional(),
  })
  .transform((s): Settings => ({
    adminGroup: s.admin_group,
    securityChannel: s.security_channel,
    alertsChannel: s.alerts_channel ?? s.security_channel,
    timezone: s.timezone,
    sweepSchedule: s.sweep_schedule,
    digestSchedule: s.digest_schedule,
    reconcileSchedule: s.reconcile_schedule,
    approvalTimeoutSeconds: s.approval_timeout ?? DEFAULT_SETTINGS.approvalTimeoutSeconds,
    remindersSeconds: [...new Set(s.reminders ?? DEFAULT_SETTINGS.remindersSeconds)].sort((a, b) => b - a),
    approverRemindersSeconds: [...new Set(s.approver_reminders ?? [])].sort((a, b) => a - b),
    managerAttribute: s.manager_attribute,
    auditSinks: s.audit_sinks ?? [],
    auditCheckpoints: s.audit_checkpoints
      ? { everySeconds: s.audit_checkpoints.every, channel: s.audit_checkpoints.channel ?? s.security_channel }
      : null,
    retentionSeconds: s.retention ?? DEFAULT_SETTINGS.retentionSeconds,
  }));

/** The keys a cron check applies to (done by the loading adapter). */
export const SCHEDULE_KEYS = ['sweep_schedule', 'digest_schedule', 'reconcile_schedule'] as const;

const KIND_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
};

/** Reads the raw value at a path, to word a message ("got 'abc'") or tell a missing key from a bad one. */
function valueAt(root: unknown, path: readonly PropertyKey[]): { found: boolean; value: unknown } {
  let node: unknown = root;
  for (const segment of path) {
    if (Array.isArray(node) && typeof segment === 'number' && segment < node.length) node = node[segment];
    else if (isRecord(node) && typeof segment === 'string' && Object.hasOwn(node, segment)) node = node[segment];
    else return { found: false, value: undefined };
  }
  return { found: true, value: node };
}

/**
 * A zod issue in words a policy author reads. `unrecognized_keys` issues are split per key by the
 * caller (each key is its own problem, pointing at the key); this handles the rest.
 */
export function describeIssue(issue: z.core.$ZodIssue, root: unknown): string {
  const at = valueAt(root, issue.path);
  const missing = !at.found || at.value === undefined;
  // Our schemas word their own messages; only zod's generic defaults are rephrased here.
  if (!ZOD_DEFAULT_MESSAGE.test(issue.message)) return issue.message;
  switch (issue.code) {
    case 'invalid_type':
      return missing ? MISSING : `must be ${KIND_NAMES[issue.expected] ?? issue.expected}, got ${showValue(at.value)}`;
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => `'${k}'`).join(', ')}`;
    case 'invalid_value':
      return missing
        ? MISSING
        : `must be one of ${issue.values.map((v) => `'${String(v)}'`).join(', ')}; got ${showValue(at.value)}`;
    case 'too_small':
      if (issue.origin === 'array' || issue.origin === 'string')
        return Number(issue.minimum) <= 1 ? 'must not be empty' : `must have at least ${String(issue.minimum)} items`;
      return `must be at least ${String(issue.minimum)}, got ${showValue(at.value)}`;
    default:
      return issue.message;
  }
}

const ZOD_DEFAULT_MESSAGE = /^(Invalid input|Invalid option|Too small|Too big|Unrecognized key|Invalid )/;
