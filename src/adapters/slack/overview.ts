/**
 * Assembles the builders' view models for "what concerns me" from stored state and the live
 * directory: my grants, my pending requests, the approvals waiting for me, the roles I may request
 * (App Home, `/access list`, `/access pending`), and a manual task. Reads only.
 */
import { policySummary, stepTitle } from '../../../blocks/format.js';
import type { ApprovalLine, CatalogRoleLine, GrantLine, HomeModel, RequestCard, RequestLine, TaskView } from '../../../blocks/view-models.js';
import { checkEligibility } from '../../domain/evaluate.js';
import type { Person } from '../../domain/person.js';
import type { Grant } from '../../domain/records.js';
import type { Deps } from '../../operations/context.js';
import { personLabel, requestCard } from './request-card.js';

type Reads = Pick<Deps, 'store' | 'catalog' | 'settings'>;

/** The grants a person holds or is being given or losing (ended ones are history, in the export). */
const MY_GRANT_STATUSES = ['active', 'provisioning', 'revoking', 'provisioning_failed'] as const;

export function grantLine(deps: Pick<Deps, 'catalog'>, grant: Grant): GrantLine {
  const entry = deps.catalog.find(grant.app, grant.role);
  return {
    grantId: grant.id,
    app: grant.app,
    role: grant.role,
    appName: entry?.app.name ?? grant.app,
    roleName: entry?.role.name ?? grant.role,
    status: grant.status,
    activatedAt: grant.activatedAt,
    expiresAt: grant.expiresAt,
    extendable: (entry?.role.extension ?? null) !== null,
  };
}

export async function myGrants(deps: Reads, holderId: string): Promise<GrantLine[]> {
  return (await deps.store.listGrants({ holderId, status: [...MY_GRANT_STATUSES] }))
    // Soonest expiry first: that is the one to act on.
    .sort((a, b) => (a.expiresAt ?? '9999').localeCompare(b.expiresAt ?? '9999'))
    .map((g) => grantLine(deps, g));
}

export async function myRequests(deps: Reads, requesterId: string): Promise<RequestLine[]> {
  const requests = await deps.store.listRequests({ requesterId, status: ['pending_approval'] });
  const cards = await Promise.all(requests.map((r) => requestCard(deps, r)));
  return requests.map((r, i) => {
    const card = cards[i]!;
    const step = card.steps.find((s) => s.index === card.currentStep);
    return {
      requestId: r.id,
      kind: r.kind,
      appName: card.appName,
      roleName: card.roleName,
      requestedSeconds: r.requestedSeconds,
      createdAt: r.createdAt,
      stepTitle: step ? stepTitle(step, card.steps.length) : null,
    };
  });
}

/** Pending requests whose open step this person may decide and has not decided yet, as cards. */
export async function approvalsAwaiting(deps: Reads, approverId: string): Promise<{ card: RequestCard; stepIndex: number }[]> {
  const requests = await deps.store.requestsAwaiting(approverId);
  return (await Promise.all(requests.map((r) => requestCard(deps, r))))
    .filter((card): card is RequestCard => card !== undefined)
    .map((card) => ({ card, stepIndex: card.currentStep }));
}

export function approvalLines(asks: { card: RequestCard; stepIndex: number }[]): ApprovalLine[] {
  return asks.flatMap(({ card, stepIndex }) => {
    const step = card.steps.find((s) => s.index === stepIndex);
    if (!step) return [];
    return [{
      requestId: card.id,
      stepIndex,
      kind: card.kind,
      requester: card.requester,
      appName: card.appName,
      roleName: card.roleName,
      seconds: card.grantedSeconds ?? card.requestedSeconds,
      stepTitle: stepTitle(step, card.steps.length),
      createdAt: card.createdAt,
    }];
  });
}

/** Every role the person is eligible for now (their live groups), marked held or pending. */
export function requestableRoles(deps: Reads, person: Person, groups: string[], grants: GrantLine[], requests: { app: string; role: string }[]): CatalogRoleLine[] {
  const held = new Set(grants.filter((g) => g.status !== 'provisioning_failed').map((g) => `${g.app}/${g.role}`));
  const pending = new Set(requests.map((r) => `${r.app}/${r.role}`));
  return deps.catalog
    .entries()
    .filter((e) => checkEligibility(e.role, person, groups).eligible)
    .map((e) => ({
      app: e.app.app,
      role: e.role.id,
      appName: e.app.name,
      roleName: e.role.name,
      summary: policySummary(e.role.approval === 'auto' ? 'auto' : e.role.approval.length, e.role.duration.maxSeconds, e.role.autoApprove !== undefined),
      held: held.has(`${e.app.app}/${e.role.id}`),
      pending: pending.has(`${e.app.app}/${e.role.id}`),
    }))
    .sort((a, b) => a.appName.localeCompare(b.appName) || a.roleName.localeCompare(b.roleName));
}

/** The App Home's model. Directory reads (groups, admin membership) are live. */
export async function homeModel(deps: Deps, person: Person, slackId: string | null): Promise<HomeModel> {
  const grants = await myGrants(deps, person.id);
  const pendingRequests = await deps.store.listRequests({ requesterId: person.id, status: ['pending_approval'] });
  const [groups, admin] = await Promise.all([deps.directory.groupsOf(person.id), deps.directory.isMember(person.id, deps.settings.adminGroup)]);
  return {
    person: { name: person.name, email: person.email, slackId, directoryId: person.id },
    grants,
    requests: await myRequests(deps, person.id),
    approvals: approvalLines(await approvalsAwaiting(deps, person.id)),
    catalog: requestableRoles(deps, person, groups, grants, pendingRequests),
    admin: admin && person.active,
    timezone: deps.settings.timezone,
  };
}

export async function taskView(deps: Reads, taskId: string): Promise<TaskView | undefined> {
  const task = await deps.store.getTask(taskId);
  const grant = task ? await deps.store.getGrant(task.grantId) : undefined;
  if (!task || !grant) return undefined;
  const entry = deps.catalog.find(grant.app, grant.role);
  return {
    taskId: task.id,
    action: task.action,
    status: task.status,
    assigneeGroup: task.assigneeGroup,
    holder: personLabel(grant.holder),
    appName: entry?.app.name ?? grant.app,
    roleName: entry?.role.name ?? grant.role,
    grantId: grant.id,
    requestId: grant.requestId,
    durationSeconds: grant.durationSeconds,
    revocationReason: grant.revocationReason,
    createdAt: task.createdAt,
    completedBy: task.completedBy ? personLabel(task.completedBy) : null,
    completedAt: task.completedAt,
    timezone: deps.settings.timezone,
  };
}
