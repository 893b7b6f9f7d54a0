/**
 * The YAML shape of a review file (`policies/reviews/*.yml`), as a zod schema that validates the
 * parsed YAML and transforms it into `ReviewDefinition`. Strict like the policy schema: an unknown
 * key is an error. The cron expression is only checked to be non-empty here (the loading adapter
 * checks it with node-cron); roles and groups are checked against the policies and the directory
 * by the adapter, which knows them.
 */
import * as z from 'zod';
import { formatDuration } from '../duration.js';
import { PeopleRuleSchema } from '../policy-schema.js';
import {
  delegate,
  DurationSchema,
  expected,
  GroupName,
  isRecord,
  nonEmptyText,
  showValue,
  Slug,
} from '../schema-primitives.js';
import type { FallbackReviewer, ReviewDefinition, ReviewerRule } from './review-definition.js';

const RULE_FORMS = "'manager', {user: email} or {group: name}";

/** 'manager' (not as the fallback), or the people rule policies use: `{user: email}` or `{group: name}`. */
function ruleSchema(allowManager: boolean) {
  return z.unknown().transform((value, ctx): ReviewerRule => {
    if (value === 'manager' && allowManager) return { kind: 'manager' };
    if (isRecord(value)) {
      if ('user' in value && 'group' in value) {
        ctx.addIssue({ code: 'custom', message: 'a reviewer names either a user or a group, not both' });
        return z.NEVER;
      }
      if ('user' in value || 'group' in value) return delegate(PeopleRuleSchema, value, ctx);
    }
    const forms = allowManager ? RULE_FORMS : '{user: email} or {group: name} (the manager cannot be the fallback)';
    const message =
      value === undefined ? `required key is missing (${forms})` : `must be ${forms}; got ${showValue(value)}`;
    ctx.addIssue({ code: 'custom', message });
    return z.NEVER;
  });
}

/** `app/role`, both slugs. */
const RoleRef = z.string().regex(/^[a-z0-9][a-z0-9-]*\/[a-z0-9][a-z0-9-]*$/, {
  error: expected("must be an app and a role as 'app/role' (for example github/owner)"),
});

const ScopeSchema = z
  .strictObject({
    roles: z.array(RoleRef).default([]),
    groups: z.array(GroupName).default([]),
  })
  .superRefine((s, ctx) => {
    if (s.roles.length === 0 && s.groups.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: 'must name at least one role (roles: [app/role]) or group (groups: [name])',
      });
    }
    for (const [key, list] of [
      ['roles', s.roles],
      ['groups', s.groups],
    ] as const) {
      list.forEach((item, i) => {
        if (list.indexOf(item) !== i)
          ctx.addIssue({ code: 'custom', path: [key, i], message: `'${item}' is listed twice` });
      });
    }
  });

export const ReviewFileSchema = z
  .strictObject({
    review: Slug,
    name: nonEmptyText,
    description: z.string().optional(),
    schedule: z.string().trim().min(1, 'must be a cron expression').optional(),
    scope: ScopeSchema,
    reviewer: ruleSchema(true),
    fallback_reviewer: ruleSchema(false).optional(),
    due: DurationSchema,
    reminders: z.array(DurationSchema).default([]),
    undecided: z.enum(['keep', 'revoke'], { error: expected("must be 'keep' or 'revoke'") }).default('keep'),
    remediate: z.enum(['remove', 'report'], { error: expected("must be 'remove' or 'report'") }).default('report'),
  })
  .superRefine((r, ctx) => {
    // A reminder as early as the due time, or earlier, would go out the moment the review starts.
    r.reminders.forEach((lead, i) => {
      if (lead >= r.due) {
        ctx.addIssue({
          code: 'custom',
          path: ['reminders', i],
          message: `a reminder ${formatDuration(lead)} before the due time is not after the start (due: ${formatDuration(r.due)})`,
        });
      }
    });
  })
  .transform((r): ReviewFile => {
    const roles = r.scope.roles.map((ref) => {
      const [app, role] = ref.split('/') as [string, string];
      return { app, role };
    });
    const review: ReviewFile = {
      id: r.review,
      name: r.name,
      schedule: r.schedule ?? null,
      scope: { roles, groups: r.scope.groups },
      reviewer: r.reviewer,
      fallbackReviewer: (r.fallback_reviewer as FallbackReviewer | undefined) ?? null,
      dueSeconds: r.due,
      remindersSeconds: [...new Set(r.reminders)].sort((a, b) => b - a),
      undecided: r.undecided,
      remediate: r.remediate,
    };
    if (r.description !== undefined) review.description = r.description;
    return review;
  });

/** A review as its file says it: without `fallback_reviewer`, the loader puts the admin group there. */
export type ReviewFile = Omit<ReviewDefinition, 'fallbackReviewer'> & { fallbackReviewer: FallbackReviewer | null };
