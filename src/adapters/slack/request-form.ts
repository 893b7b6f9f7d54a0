/**
 * The request modal's content for one person: the applications, the roles of the chosen one the
 * person may request (each with a one-line policy summary), and the chosen role's duration choices
 * and justification rule. Display only: the submission is evaluated again by the core.
 */
import { duration, policySummary } from '../../../blocks/format.js';
import type { AppChoice, RequestModalModel, RoleChoice } from '../../../blocks/view-models.js';
import { checkEligibility, durationChoices } from '../../domain/evaluate.js';
import type { Person } from '../../domain/person.js';
import type { ApprovalStep, Role } from '../../domain/policy.js';
import type { Deps } from '../../operations/context.js';
import { LIMITS } from '../../../blocks/limits.js';

export function appChoices(deps: Pick<Deps, 'catalog'>): AppChoice[] {
  return deps.catalog.policies.map((p) => ({ app: p.app, name: p.name })).sort((a, b) => a.name.localeCompare(b.name));
}

/** Applications whose name or slug contains the query, at most a select's worth. */
export function searchApps(deps: Pick<Deps, 'catalog'>, query: string): AppChoice[] {
  const q = query.trim().toLowerCase();
  return appChoices(deps).filter((a) => !q || a.name.toLowerCase().includes(q) || a.app.includes(q)).slice(0, LIMITS.selectOptions);
}

function stepPhrase(step: ApprovalStep): string {
  if (step.kind === 'manager') return 'manager';
  if (step.kind === 'user') return step.user;
  return step.minApprovals > 1 ? `${step.group} (${step.minApprovals})` : step.group;
}

function roleChoice(app: string, role: Role): RoleChoice {
  return {
    app,
    role: role.id,
    name: role.name,
    summary: policySummary(role.approval === 'auto' ? 'auto' : role.approval.length, role.duration.maxSeconds, role.autoApprove !== undefined),
  };
}

export interface FormState {
  app?: string;
  role?: string;
}

/**
 * `person` null: the person is still being looked up (the modal opens at once with the trigger id
 * and is updated when the directory has answered).
 */
export async function requestFormModel(deps: Pick<Deps, 'catalog' | 'directory'>, person: Person | null, state: FormState): Promise<RequestModalModel> {
  const apps = appChoices(deps);
  const app = state.app ? deps.catalog.app(state.app) : undefined;
  const model: RequestModalModel = {
    apps,
    appsExternal: apps.length > LIMITS.selectOptions,
    selectedApp: app ? { app: app.app, name: app.name } : null,
    roles: null,
    selectedRole: null,
    privateMetadata: '',
  };
  if (!app || !person) return model;

  const groups = await deps.directory.groupsOf(person.id);
  const roles = app.roles.filter((r) => checkEligibility(r, person, groups).eligible).map((r) => roleChoice(app.app, r));
  model.roles = roles;
  if (roles.length === 0) {
    model.noRolesReason = person.active
      ? `You are not in a group that may request a ${app.name} role. Ask your manager or the access team if you need one.`
      : 'Your directory account is not active, so you cannot request access.';
    return model;
  }
  const chosen = roles.length === 1 && !state.role ? roles[0] : roles.find((r) => r.role === state.role);
  const entry = chosen ? deps.catalog.find(app.app, chosen.role) : undefined;
  if (chosen && entry) {
    const role = entry.role;
    model.selectedRole = {
      ...chosen,
      durationChoices: durationChoices(role),
      defaultSeconds: role.duration.defaultSeconds,
      maxSeconds: role.duration.maxSeconds,
      justificationRequired: role.justification === 'required',
      policyName: role.policy,
      policyVersion: entry.version,
      approvalSummary: role.approval === 'auto'
        ? `approved automatically · up to ${duration(role.duration.maxSeconds)}`
        : `${role.approval.map(stepPhrase).join(' → ')}${role.autoApprove ? ' (skipped when auto_approve applies)' : ''} · up to ${duration(role.duration.maxSeconds)}`,
    };
  }
  return model;
}
