/**
 * A role's policy version: the SHA-256 of the canonical JSON of its definition. Key order, YAML
 * formatting and the spelling of durations (`60m` or `1h`) do not change it; any rule change does.
 */
import { canonicalJson, sha256Hex } from './canonical.js';
import { formatDuration } from './duration.js';
import type { ApprovalStep, AppPolicy, PeopleRule, Provision, Role } from './policy.js';
import { provisionMethod } from './provisioning/methods.js';

/** The definition stored with every version: the app it belongs to and the role, durations spelled canonically. */
export function canonicalDefinition(app: AppPolicy, role: Role): Record<string, unknown> {
  return {
    app: app.app,
    role: {
      id: role.id,
      name: role.name,
      policy: role.policy,
      sensitive: role.sensitive,
      eligible_groups: [...role.eligibleGroups],
      duration: {
        default: formatDuration(role.duration.defaultSeconds),
        max: formatDuration(role.duration.maxSeconds),
      },
      justification: role.justification,
      approval: role.approval === 'auto' ? 'auto' : role.approval.map(canonicalStep),
      auto_approve: role.autoApprove
        ? {
            when: {
              requester_groups: role.autoApprove.requesterGroups,
              max_duration:
                role.autoApprove.maxDurationSeconds === undefined
                  ? undefined
                  : formatDuration(role.autoApprove.maxDurationSeconds),
            },
          }
        : undefined,
      extension: role.extension
        ? { max_total: formatDuration(role.extension.maxTotalSeconds), approval: role.extension.approval }
        : 'none',
      provision: canonicalProvision(role.provision),
      // Absent (undefined) keys drop out of the canonical JSON: a role without break_glass keeps
      // the version it had before the key existed.
      break_glass: role.breakGlass
        ? {
            max: formatDuration(role.breakGlass.maxSeconds),
            eligible_groups: role.breakGlass.eligibleGroups ?? undefined,
            review_within: formatDuration(role.breakGlass.reviewWithinSeconds),
            reviewers: canonicalPeople(role.breakGlass.reviewers),
          }
        : undefined,
    },
  };
}

function canonicalStep(step: ApprovalStep): unknown {
  const escalation = step.escalation
    ? { escalate_after: formatDuration(step.escalation.afterSeconds), escalate_to: canonicalPeople(step.escalation.to) }
    : {};
  switch (step.kind) {
    case 'manager':
      // Without escalation keys, `- manager` and `- manager:` are the same rule: the same version.
      return step.escalation ? { manager: null, ...escalation } : 'manager';
    case 'user':
      return { user: step.user.toLowerCase(), ...escalation };
    case 'group':
      return { group: step.group, min_approvals: step.minApprovals, notify: step.notify, ...escalation };
  }
}

function canonicalPeople(people: PeopleRule): unknown {
  return people.kind === 'group' ? { group: people.group } : { user: people.user.toLowerCase() };
}

function canonicalProvision(provision: Provision): unknown {
  return provisionMethod(provision).canonical(provision);
}

export function policyVersion(app: AppPolicy, role: Role): string {
  return sha256Hex(canonicalJson(canonicalDefinition(app, role)));
}
