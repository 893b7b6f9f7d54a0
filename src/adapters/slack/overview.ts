/**
 * Assembles the builders' view models for "what concerns me" from stored state and the live
 * directory: my grants, my pending requests, the approvals waiting for me, the manual tasks for my
 * groups, the roles I may request summarised for me (App Home, `/access list`, `/access pending`),
 * a manual task, and for admins who holds access now. Reads only.
 */
import { stepTitle } from '../../../blocks/format.js';
import { roleSummary, userSteps } from '../../../blocks/role-summary.js';
import type {
  ApprovalLine,
  BreakGlassLine,
  CatalogRoleLine,
  DelegationLine,
  GrantLine,
  HoldingLine,
  HomeModel,
  PersonLabel,
  RequestCard,
  RequestLine,
  TaskLine,
  TaskView,
} from '../../../blocks/view-models.js';
import { checkEligibility } from '../../domain/evaluate.js';
import type { Person } from '../../domain/person.js';
import type { AccessRequest, Grant } from '../../domain/records.js';
import { delegationInForce, inPeopleRule, stepApprovers, usedPeople } from '../../operations/approver-rules.js';
import type { Deps } from '../../operations/context.js';
import { myReviewItems } from '../../operations/reviews/review-views.js';
import { HOME_SHARES } from '../../../blocks/home.js';
import type { MyReviewsView } from '../../../blocks/review-message.js';
import type { DisplayLookups } from './display-lookups.js';
import { personLabel, provisioningView, requestCard } from './request-card.js';

type Reads = Pick<Deps, 'store' | 'catalog' | 'settings' | 'clock'>;

/** The grants a person holds or is being given or losing (ended ones are history, in the export). */
const MY_GRANT_STATUSES = ['active', 'provisioning', 'revoking', 'provisioning_failed'] as const;
/** Open tasks a Home shows at most (the DMs have every one). */
const HOME_TASKS = 20;
/** Grants the admins' overview reads at most; the export has them all. */
const HOLDINGS_READ = 500;
/** Pending break-glass reviews a Home reads at most (the alerts channel has every one). */
const HOME_REVIEWS_READ = 200;

export function grantLine(deps: Pick<Deps, 'catalog'>, grant: Grant): GrantLine {
  const entry = deps.catalog.find(grant.app, grant.role);
  const provision = grant.snapshot.provision;
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
    removal: provisioningView(provision),
  };
}

export async function myGrants(deps: Reads, holderId: string): Promise<GrantLine[]> {
  return (
    (await deps.store.listGrants({ holderId, status: [...MY_GRANT_STATUSES] }))
      // Soonest expiry first: that is the one to act on.
      .sort((a, b) => (a.expiresAt ?? '9999').localeCompare(b.expiresAt ?? '9999'))
      .map((g) => grantLine(deps, g))
  );
}

export async function myRequests(deps: Reads, requesterId: string): Promise<RequestLine[]> {
  const requests = await deps.store.listRequests({ requesterId, status: ['pending_approval'] });
  const cards = await Promise.all(requests.map((r) => requestCard(deps, r)));
  const waiting = await Promise.all(requests.map((r) => waitingOn(deps, r)));
  return requests.map((r, i) => {
    const card = cards[i]!;
    const step = card.steps.find((s) => s.index === card.currentStep);
    return {
      ...waiting[i]!,
      requestId: r.id,
      kind: r.kind,
      appName: card.appName,
      roleName: card.roleName,
      requestedSeconds: r.requestedSeconds,
      grantedSeconds: r.grantedSeconds,
      createdAt: r.createdAt,
      stepTitle: step ? stepTitle(step, card.steps.length, 'requester') : null,
    };
  });
}

/**
 * Who a pending request waits on now: the open step's approvers who have not decided (each with
 * their delegate in force, "Kim Nguyen for Marcus Chen"), and since when the step is open.
 */
async function waitingOn(
  deps: Reads,
  request: AccessRequest,
): Promise<{ waitingOn: string[]; waitingSince: string | null }> {
  const step = (await deps.store.getSteps(request.id)).find(
    (s) => s.index === request.currentStep && s.status === 'open',
  );
  if (!step) return { waitingOn: [], waitingSince: null };
  const used = usedPeople(await deps.store.getDecisions(request.id));
  const now = deps.clock.now().toISOString();
  const waiting = stepApprovers(step).filter((approver) => !used.has(approver.directoryId));
  const delegations = await deps.store.activeDelegationsBy(waiting.map((a) => a.directoryId));
  const names: string[] = [];
  for (const approver of waiting) {
    const delegation = delegations.find((d) => d.delegator.directoryId === approver.directoryId);
    const delegate =
      delegation &&
      delegationInForce(delegation, now) &&
      delegation.delegate.directoryId !== request.requester.directoryId
        ? delegation.delegate
        : null;
    names.push(delegate ? `${approver.name} (or ${delegate.name} for them)` : approver.name);
  }
  return { waitingOn: names, waitingSince: step.startedAt };
}

/**
 * Pending requests whose open step this person may decide and has not decided yet, as cards: as
 * an approver, and as the delegate of one (`forPerson`), never their own request nor one where
 * they or the person they stand in for already decided a step.
 */
export async function approvalsAwaiting(
  deps: Reads,
  approverId: string,
  timezone?: string,
): Promise<{ card: RequestCard; stepIndex: number; forPerson?: PersonLabel }[]> {
  const own = await deps.store.requestsAwaiting(approverId);
  const asks: { request: AccessRequest; forPerson?: PersonLabel }[] = own.map((request) => ({ request }));
  const seen = new Set(own.map((r) => r.id));
  const now = deps.clock.now().toISOString();
  for (const delegation of await deps.store.activeDelegationsTo(approverId)) {
    if (!delegationInForce(delegation, now)) continue;
    for (const request of await deps.store.requestsAwaiting(delegation.delegator.directoryId)) {
      if (seen.has(request.id) || request.requester.directoryId === approverId) continue;
      const used = usedPeople(await deps.store.getDecisions(request.id));
      if (used.has(approverId)) continue;
      seen.add(request.id);
      asks.push({ request, forPerson: personLabel(delegation.delegator) });
    }
  }
  const cards = await Promise.all(asks.map(({ request }) => requestCard(deps, request, timezone)));
  return asks.flatMap(({ forPerson }, i) => {
    const card = cards[i];
    return card ? [{ card, stepIndex: card.currentStep, ...(forPerson ? { forPerson } : {}) }] : [];
  });
}

function approvalLines(asks: { card: RequestCard; stepIndex: number; forPerson?: PersonLabel }[]): ApprovalLine[] {
  return asks.flatMap(({ card, stepIndex, forPerson }) => {
    const step = card.steps.find((s) => s.index === stepIndex);
    if (!step) return [];
    return [
      {
        requestId: card.id,
        stepIndex,
        kind: card.kind,
        requester: card.requester,
        appName: card.appName,
        roleName: card.roleName,
        seconds: card.grantedSeconds ?? card.requestedSeconds,
        requestedSeconds: card.requestedSeconds,
        stepTitle: stepTitle(step, card.steps.length),
        createdAt: card.createdAt,
        justification: card.justification,
        where:
          step.notifyChannel && !forPerson
            ? { kind: 'channel' as const, channel: step.notifyChannel }
            : { kind: 'dm' as const },
        ...(forPerson ? { forPerson } : {}),
      },
    ];
  });
}

/** Every role the person is eligible for now (their live groups), marked held or pending, summarised for them. */
function requestableRoles(
  deps: Reads,
  person: Person,
  groups: string[],
  grants: GrantLine[],
  requests: { app: string; role: string }[],
  approverNames: Record<string, string> = {},
): CatalogRoleLine[] {
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
      summary: roleSummary(e.role, groups, approverNames),
      held: held.has(`${e.app.app}/${e.role.id}`),
      pending: pending.has(`${e.app.app}/${e.role.id}`),
    }))
    .sort((a, b) => a.appName.localeCompare(b.appName) || a.roleName.localeCompare(b.roleName));
}

/** Open manual tasks for the groups this person is in, except their own access (they may not do it). */
async function myTasks(deps: Reads, personId: string, groups: string[]): Promise<TaskLine[]> {
  // Tasks are assigned to groups; the person's groups are where theirs would be.
  const tasks = await deps.store.openTasks(groups, HOME_TASKS);
  const grants = new Map((await deps.store.getGrants(tasks.map((t) => t.grantId))).map((g) => [g.id, g]));
  return tasks.flatMap((task) => {
    const grant = grants.get(task.grantId);
    if (!grant || grant.holder.directoryId === personId) return [];
    const entry = deps.catalog.find(grant.app, grant.role);
    return [
      {
        taskId: task.id,
        action: task.action,
        holder: personLabel(grant.holder),
        appName: entry?.app.name ?? grant.app,
        roleName: entry?.role.name ?? grant.role,
        createdAt: task.createdAt,
      },
    ];
  });
}

/** Admins: who holds access now, sensitive first, soonest to end first within each. */
export async function holdings(deps: Reads): Promise<{ lines: HoldingLine[]; total: number }> {
  const grants = await deps.store.listGrants({ status: ['active'], limit: HOLDINGS_READ });
  const lines = grants
    .sort(
      (a, b) =>
        Number(b.sensitive) - Number(a.sensitive) || (a.expiresAt ?? '9999').localeCompare(b.expiresAt ?? '9999'),
    )
    .map((g) => {
      const entry = deps.catalog.find(g.app, g.role);
      return {
        holder: personLabel(g.holder),
        appName: entry?.app.name ?? g.app,
        roleName: entry?.role.name ?? g.role,
        sensitive: g.sensitive,
        expiresAt: g.expiresAt,
      };
    });
  return { lines, total: lines.length };
}

/**
 * Emergency access waiting for a review this person may give (a reviewer by the policy, read live,
 * or an admin), never their own; oldest due first.
 */
async function reviewsToDo(deps: Deps, person: Person, admin: boolean): Promise<BreakGlassLine[]> {
  const pending = await deps.store.listBreakGlassReviews({ status: ['pending'], limit: HOME_REVIEWS_READ });
  const grants = new Map((await deps.store.getGrants(pending.map((r) => r.grantId))).map((g) => [g.id, g]));
  const requests = new Map(
    (await deps.store.getRequests([...grants.values()].map((g) => g.requestId))).map((r) => [r.id, r]),
  );
  const mayReview = new Map<string, Promise<boolean>>();
  const lines: BreakGlassLine[] = [];
  for (const review of pending.sort((a, b) => a.dueAt.localeCompare(b.dueAt))) {
    const grant = grants.get(review.grantId);
    if (!grant || grant.holder.directoryId === person.id) continue;
    const key = JSON.stringify(review.reviewers);
    if (!mayReview.has(key))
      mayReview.set(key, admin ? Promise.resolve(true) : inPeopleRule(deps.directory, review.reviewers, person.id));
    if (!(await mayReview.get(key))) continue;
    const entry = deps.catalog.find(grant.app, grant.role);
    lines.push({
      grantId: grant.id,
      holder: personLabel(grant.holder),
      appName: entry?.app.name ?? grant.app,
      roleName: entry?.role.name ?? grant.role,
      durationSeconds: grant.durationSeconds,
      justification: requests.get(grant.requestId)?.justification ?? '',
      incident: review.incident,
      grantStatus: grant.status,
      takenAt: grant.createdAt,
      expiresAt: grant.expiresAt,
      dueAt: review.dueAt,
    });
  }
  return lines;
}

/** The delegations this person gives or receives, soonest end first. */
async function myDelegations(deps: Reads, personId: string): Promise<DelegationLine[]> {
  return (await deps.store.activeDelegationsInvolving(personId))
    .sort((a, b) => a.endsAt.localeCompare(b.endsAt))
    .map((d) => {
      const mine = d.delegator.directoryId === personId;
      return {
        delegationId: d.id,
        direction: mine ? ('mine' as const) : ('to_me' as const),
        other: personLabel(mine ? d.delegate : d.delegator),
        endsAt: d.endsAt,
      };
    });
}

/** The App Home's model. Directory reads (groups, admin membership) are live. */
export async function homeModel(
  deps: Deps,
  person: Person,
  slackId: string | null,
  display: DisplayLookups,
  timezone: string,
): Promise<HomeModel> {
  const base = { person: { name: person.name, email: person.email, slackId, directoryId: person.id }, timezone };
  if (!person.active) {
    return {
      ...base,
      grants: [],
      requests: [],
      approvals: [],
      catalog: [],
      tasks: [],
      admin: false,
      holdings: null,
      inactive: true,
    };
  }
  const grants = await myGrants(deps, person.id);
  const pendingRequests = await deps.store.listRequests({ requesterId: person.id, status: ['pending_approval'] });
  const [groups, admin] = await Promise.all([
    deps.directory.groupsOf(person.id),
    deps.directory.isMember(person.id, deps.settings.adminGroup),
  ]);
  const names = await display.personNames(deps.catalog.entries().flatMap((e) => userSteps(e.role)));
  return {
    ...base,
    grants,
    requests: await myRequests(deps, person.id),
    approvals: approvalLines(await approvalsAwaiting(deps, person.id, timezone)),
    catalog: requestableRoles(deps, person, groups, grants, pendingRequests, names),
    tasks: await myTasks(deps, person.id, groups),
    breakGlassReviews: await reviewsToDo(deps, person, admin),
    delegations: await myDelegations(deps, person.id),
    reviews: await reviewsFor(deps, person.id, timezone),
    admin,
    holdings: admin ? await holdings(deps) : null,
  };
}

/** The review items waiting for the person, a few per campaign (the DM has them all). */
async function reviewsFor(deps: Reads, personId: string, timezone: string): Promise<MyReviewsView> {
  const mine = await myReviewItems(deps, personId, HOME_SHARES.reviews);
  return {
    viewerId: personId,
    campaigns: mine.campaigns.map((c) => ({
      campaignId: c.campaign.id,
      reviewName: c.campaign.reviewName,
      dueAt: c.campaign.dueAt,
      pending: c.pending,
      total: c.total,
      items: c.items,
    })),
    accessNames: mine.accessNames,
    timezone,
  };
}

export async function taskView(deps: Reads, taskId: string, timezone?: string): Promise<TaskView | undefined> {
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
    justification: (await deps.store.getRequest(grant.requestId))?.justification ?? '',
    createdAt: task.createdAt,
    completedBy: task.completedBy ? personLabel(task.completedBy) : null,
    completedAt: task.completedAt,
    timezone: timezone ?? deps.settings.timezone,
  };
}
