/**
 * A role's policy version: the SHA-256 of the canonical JSON of its definition. Key order, YAML
 * formatting and the spelling of durations (`60m` or `1h`) do not change it; any rule change does.
 */
import { canonicalJson, sha256Hex } from './canonical.js';
import { formatDuration } from './duration.js';
import type { ApprovalStep, AppPolicy, Provision, Role } from './policy.js';
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
      duration: { default: formatDuration(role.duration.defaultSeconds), max: formatDuration(role.duration.maxSeconds) },
      justification: role.justification,
      approval: role.approval === 'auto' ? 'auto' : role.approval.map(canonicalStep),
      auto_approve: role.autoApprove
        ? {
            when: {
              requester_groups: role.autoApprove.requesterGroups,
              max_duration: role.autoApprove.maxDurationSeconds === undefined ? undefined : formatDuration(role.autoApprove.maxDurationSeconds),
            },
          }
        : undefined,
      extension: role.extension ? { max_total: formatDuration(role.extension.maxTotalSeconds), approval: role.extension.approval } : 'none',
      provision: canonicalProvision(role.provision),
    },
  };
}

function canonicalStep(step: ApprovalStep): unknown {
  switch (step.kind) {
    case 'manager':
      return 'manager';
    case 'user':
      return { user: step.user.toLowerCase() };
    case 'group':
      return { group: step.group, min_approvals: step.minApprovals, notify: step.notify };
  }
}

function canonicalProvision(provision: Provision): unknown {
  return provisionMethod(provision).canonical(provision);
}

export function policyVersion(app: AppPolicy, role: Role): string {
  return sha256Hex(canonicalJson(canonicalDefinition(app, role)));
}
