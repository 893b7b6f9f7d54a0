/**
 * The request modal's content for one person: the applications they may request something of,
 * the roles of the chosen one they may request (each summarised for them: "automatic for you up to
 * 1 day…"), and the chosen role's duration choices and justification rule. Display only: the
 * submission is evaluated again by the core.
 */
import { roleSummary, roleSummaryShort, userSteps } from '../../../blocks/role-summary.js';
import type { AppChoice, RequestCard, RequestModalModel, RoleChoice } from '../../../blocks/view-models.js';
import { checkBreakGlass } from '../../domain/break-glass.js';
import { checkEligibility, durationChoices } from '../../domain/evaluate.js';
import type { Person } from '../../domain/person.js';
import type { LoadedPolicy, Role } from '../../domain/policy.js';
import type { Deps } from '../../operations/context.js';
import { escapeMrkdwn } from '../../../blocks/escape.js';
import { LIMITS } from '../../../blocks/limits.js';

/** The roles of an application this person may request now (their live groups). */
export function eligibleRoles(app: LoadedPolicy, person: Person, groups: readonly string[]): Role[] {
  return app.roles.filter((r) => checkEligibility(r, person, [...groups]).eligible);
}

/** Applications with at least one role the person may request; every application when nobody is known yet. */
export function appChoices(
  deps: Pick<Deps, 'catalog'>,
  who?: { person: Person; groups: readonly string[] },
): AppChoice[] {
  return deps.catalog.policies
    .filter((p) => !who || eligibleRoles(p, who.person, who.groups).length > 0)
    .map((p) => ({ app: p.app, name: p.name }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Applications whose name or slug contains the query, at most a select's worth. */
export function searchApps(
  deps: Pick<Deps, 'catalog'>,
  query: string,
  who?: { person: Person; groups: readonly string[] },
): AppChoice[] {
  const q = query.trim().toLowerCase();
  return appChoices(deps, who)
    .filter((a) => !q || a.name.toLowerCase().includes(q) || a.app.includes(q))
    .slice(0, LIMITS.selectOptions);
}

export interface FormState {
  app?: string;
  role?: string;
}

/** What the form knows beyond the person: a request already waiting for the role, names, a prefill. */
export interface FormExtras {
  pending?: RequestCard;
  /** `user:` approvers by lower-cased email -> "Grace Hopper (CISO)". */
  approverNames?: Record<string, string>;
  justification?: string;
}

/** The form for a person whose groups are known (read live just before). */
export function requestFormModel(
  deps: Pick<Deps, 'catalog'>,
  person: Person,
  groups: readonly string[],
  state: FormState,
  extras: FormExtras = {},
): RequestModalModel {
  const apps = appChoices(deps, { person, groups });
  const app = state.app ? deps.catalog.app(state.app) : undefined;
  const model: RequestModalModel = {
    apps,
    appsExternal: apps.length > LIMITS.selectOptions,
    selectedApp: app ? { app: app.app, name: app.name } : null,
    roles: null,
    selectedRole: null,
    privateMetadata: '',
    ...(extras.justification ? { justification: extras.justification } : {}),
  };
  if (!app) return model;

  const roles: RoleChoice[] = eligibleRoles(app, person, groups).map((r) => ({
    app: app.app,
    role: r.id,
    name: r.name,
    summary: roleSummaryShort(r, groups),
  }));
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
      approvalSummary: roleSummary(role, groups, extras.approverNames),
      ...breakGlassButtonFor(role, person, groups),
    };
    if (extras.pending) model.pending = extras.pending;
  }
  return model;
}

/**
 * Whether the form shows "Emergency access…" (display only, from what the form already read): the
 * break-glass form and its submission decide through the core's `breakGlassOfferFor`.
 */
function breakGlassButtonFor(role: Role, person: Person, groups: readonly string[]): { breakGlassMaxSeconds?: number } {
  if (!role.breakGlass) return {};
  const check = checkBreakGlass(role, person, groups, {});
  return check.outcome === 'not_allowed' || check.outcome === 'not_eligible'
    ? {}
    : { breakGlassMaxSeconds: check.maxSeconds };
}

/** The emails of the people the catalog's `user:` steps name (for their display names). */
export function namedApprovers(deps: Pick<Deps, 'catalog'>, app?: string): string[] {
  return deps.catalog
    .entries()
    .filter((e) => !app || e.app.app === app)
    .flatMap((e) => userSteps(e.role));
}

/**
 * The answer to a command that names an application or a role the policies do not have, the same
 * for `/access request` and `/access explain`; null when both exist (or no role was named).
 */
export function unknownAppOrRole(deps: Pick<Deps, 'catalog'>, app: string, role?: string): string | null {
  const policy = deps.catalog.app(app);
  const slug = (s: string) => `\`${escapeMrkdwn(s)}\``;
  if (!policy) {
    const known = [...deps.catalog.policies]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((p) => `${slug(p.app)} (${escapeMrkdwn(p.name)})`)
      .join(', ');
    return `There is no application ${slug(app)}. Applications: ${known}.`;
  }
  if (role && !deps.catalog.find(policy.app, role)) {
    return `${escapeMrkdwn(policy.name)} has no role ${slug(role)}. Its roles: ${policy.roles.map((r) => `${slug(r.id)} (${escapeMrkdwn(r.name)})`).join(', ')}.`;
  }
  return null;
}
