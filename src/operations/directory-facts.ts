/**
 * Reads, from the live directory, everything `evaluate()` needs to decide a request for one role:
 * the requester's groups, their manager when a step names the manager, the members of every group
 * a step names, the person behind each `user:` step, and the admin group when a step must fall
 * back to it. Nothing the decision does not use is read: Okta's rate limits are per organisation
 * and shared with every other integration.
 */
import { PermanentError } from '../domain/errors.js';
import {
  evaluate,
  resolveChain,
  resolveStep,
  type DirectoryFacts,
  type Evaluation,
  type ResolvedStep,
} from '../domain/evaluate.js';
import type { Person } from '../domain/person.js';
import type { AppPolicy, ApprovalStep, Role } from '../domain/policy.js';
import type { Directory } from './ports.js';

export interface GatherOptions {
  /** Read the admin group's members too (default true). False: only when a step falls back to it (`evaluateLive`). */
  admins?: boolean;
  /**
   * The requester's groups may come from a read this recent (the request form read them a moment
   * ago) when they decide nothing now: see `groupsDecide`.
   */
  recentGroupsMs?: number;
}

/** How recent a request form's read of the groups may be for a submission it does not decide. */
export const RECENT_GROUPS_MS = 60_000;

/**
 * Whether a submission for this role decides access with the requester's groups now: `approval:
 * auto` and `auto_approve` do (the grant follows at once). With an approval chain the submission
 * only asks, and each step checks eligibility again, live, when it is decided.
 */
function groupsDecide(role: Role): boolean {
  return role.approval === 'auto' || role.autoApprove !== undefined;
}

export async function gatherDirectoryFacts(
  directory: Directory,
  requester: Person,
  role: Role,
  adminGroup: string,
  options: GatherOptions = {},
): Promise<DirectoryFacts> {
  const steps = role.approval === 'auto' ? [] : role.approval;
  const stepGroups = steps.flatMap((s) => (s.kind === 'group' ? [s.group] : []));
  const groupNames = unique([...stepGroups, ...(options.admins === false ? [] : [adminGroup])]);
  const userKeys = unique(steps.flatMap((s) => (s.kind === 'user' ? [s.user.toLowerCase()] : [])));
  const needsManager = steps.some((s) => s.kind === 'manager');

  // Independent reads: one round trip's worth of latency instead of one per read.
  const [requesterGroups, manager, members, users] = await Promise.all([
    options.recentGroupsMs !== undefined
      ? directory.groupsOf(requester.id, { maxAgeMs: options.recentGroupsMs })
      : directory.groupsOf(requester.id),
    needsManager ? directory.managerOf(requester.id) : Promise.resolve(null),
    Promise.all(groupNames.map(async (name) => [name, await membersOrNull(directory, name)] as const)),
    Promise.all(userKeys.map(async (key) => [key, await directory.findPerson(key)] as const)),
  ]);

  const groupMembers: Record<string, Person[]> = {};
  // A group that no longer exists is left out, so the evaluation says so and falls back to the admins.
  for (const [name, people] of members) if (people) groupMembers[name] = people;
  return { requester, requesterGroups, manager, groupMembers, users: Object.fromEntries(users), adminGroup };
}

/** Adds the admin group's members to facts gathered without them. */
async function withAdmins(directory: Directory, facts: DirectoryFacts): Promise<DirectoryFacts> {
  if (facts.groupMembers[facts.adminGroup]) return facts;
  const admins = await membersOrNull(directory, facts.adminGroup);
  return admins ? { ...facts, groupMembers: { ...facts.groupMembers, [facts.adminGroup]: admins } } : facts;
}

/**
 * A step needs the admin group only when it falls back to it, or when the chain's people are not
 * enough without it. Without the admins' members such a step shows as a fallback or as
 * unsatisfiable, and the chain is resolved again with them: the same decision, without reading
 * the admin group for every request.
 */
function needsAdmins(steps: readonly ResolvedStep[], satisfiable: boolean): boolean {
  return !satisfiable || steps.some((s) => s.fallback !== undefined);
}

/** `evaluate()` on live facts, reading the admin group only when the chain needs it. */
export async function evaluateLive(
  directory: Directory,
  input: {
    app: AppPolicy;
    role: Role;
    version: string;
    requester: Person;
    adminGroup: string;
    request: Parameters<typeof evaluate>[4];
    now: Date;
  },
): Promise<{ evaluation: Evaluation; facts: DirectoryFacts }> {
  // A request form read the groups a moment ago; unless they decide now, that read serves.
  const recent = groupsDecide(input.role) ? {} : { recentGroupsMs: RECENT_GROUPS_MS };
  const options = { admins: false, ...recent };
  let facts = await gatherDirectoryFacts(directory, input.requester, input.role, input.adminGroup, options);
  let evaluation = evaluate(input.app, input.role, input.version, facts, input.request, input.now);
  if (needsAdmins(evaluation.chain, evaluation.outcome !== 'unsatisfiable')) {
    facts = await withAdmins(directory, facts);
    evaluation = evaluate(input.app, input.role, input.version, facts, input.request, input.now);
  }
  return { evaluation, facts };
}

/** The role's chain as it would start now (an extension asked with `approval: same`). */
export async function resolveChainLive(
  directory: Directory,
  role: Role,
  requester: Person,
  adminGroup: string,
): Promise<ReturnType<typeof resolveChain>> {
  const facts = await gatherDirectoryFacts(directory, requester, role, adminGroup, { admins: false });
  const chain = resolveChain(role, facts);
  return needsAdmins(chain.steps, chain.satisfiable) ? resolveChain(role, await withAdmins(directory, facts)) : chain;
}

/** One step's approvers as they are when it starts (the next step of a chain). */
export async function resolveStepLive(
  directory: Directory,
  input: {
    role: Role;
    step: ApprovalStep;
    index: number;
    requester: Person;
    adminGroup: string;
    decidedEarlier: ReadonlySet<string>;
  },
): Promise<ResolvedStep> {
  const oneStep = { ...input.role, approval: [input.step] };
  const facts = await gatherDirectoryFacts(directory, input.requester, oneStep, input.adminGroup, { admins: false });
  const resolved = resolveStep(input.step, input.index, facts, input.decidedEarlier);
  return needsAdmins([resolved], resolved.satisfiable)
    ? resolveStep(input.step, input.index, await withAdmins(directory, facts), input.decidedEarlier)
    : resolved;
}

async function membersOrNull(directory: Directory, group: string): Promise<Person[] | null> {
  try {
    return await directory.membersOf(group);
  } catch (error) {
    // Only a definite "no such group" is absorbed; outages (TransientError) must reach the caller.
    if (error instanceof PermanentError) return null;
    throw error;
  }
}

function unique<T>(items: T[]): T[] {
  return [...new Set(items)];
}
