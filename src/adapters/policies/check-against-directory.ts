/**
 * The start-up check of the policies against the directory: every group they name exists, groups the
 * bot provisions can be changed through the API, named approvers exist, and every chain can be
 * satisfied for a requester who approves nothing themselves, counting the admin fallback. The
 * access reviews' scope groups and reviewers are checked the same way (reviewers must be active; a
 * group a review removes members from, `remediate: remove`, must be manageable).
 *
 * Only a definite answer is a problem. When the directory is unreachable (TransientError), the
 * check stops and says so, and the caller starts anyway and retries later.
 */
import { AccessError, TransientError } from '../../domain/errors.js';
import { resolveChain, type DirectoryFacts } from '../../domain/evaluate.js';
import type { Person } from '../../domain/person.js';
import type { LoadedReview, ReviewerRule } from '../../domain/reviews/review-definition.js';
import { provisionMethod } from '../../domain/provisioning/methods.js';
import type { Directory, DirectoryGroup } from '../../operations/ports.js';
import type { LoadedPolicies } from './loaded-policies.js';
import { sortProblems, type PolicyProblem } from './policy-problem.js';
import { formatKeyPath, type KeyPath } from './yaml-source.js';

type GroupUse =
  | 'eligibility'
  | 'approval'
  | 'auto_approve'
  | 'provision'
  | 'assignee'
  | 'admin'
  | 'review_scope'
  | 'review_remove'
  | 'reviewer';

interface GroupReference {
  file: string;
  path: KeyPath;
  group: string;
  use: GroupUse;
}

/** A person named by email: an approver, an escalation target, a reviewer. */
interface PersonReference {
  file: string;
  path: KeyPath;
  user: string;
  what: string;
  /** Must be active now (a reviewer: an inactive approver is the chain check's business). */
  active: boolean;
}

class DirectoryUnreachable extends Error {}

/** The requester the chain check imagines: active, in no group, with no manager, approving nothing. */
const CHECK_REQUESTER: Person = {
  id: '__check__',
  email: '__check__@policy-check.invalid',
  login: '__check__',
  name: 'policy check',
  status: 'active',
  active: true,
};

export async function checkPoliciesAgainstDirectory(
  loaded: LoadedPolicies,
  directory: Directory,
): Promise<{ problems: PolicyProblem[]; unreachable?: string }> {
  const problems: PolicyProblem[] = [];
  const problem = (file: string, path: KeyPath, message: string) => {
    problems.push({ file, ...loaded.locate(file, [...path]), path: formatKeyPath(path), message });
  };

  const groups = new Map<string, Promise<DirectoryGroup | null>>();
  const members = new Map<string, Promise<Person[]>>();
  const people = new Map<string, Promise<Person | null>>();
  const findGroup = (name: string) => cached(groups, name, () => guard(() => directory.findGroup(name)));
  const membersOf = (name: string) => cached(members, name, () => guard(() => directory.membersOf(name)));
  const findPerson = (email: string) =>
    cached(people, email.toLowerCase(), () => guard(() => directory.findPerson(email)));

  try {
    // 1. Groups, of the policies and the reviews.
    for (const ref of groupReferences(loaded)) {
      const group = await findGroup(ref.group);
      if (!group) {
        problem(ref.file, ref.path, `group '${ref.group}' does not exist in the directory (${directory.kind})`);
      } else if ((ref.use === 'provision' || ref.use === 'review_remove') && !group.manageable) {
        problem(
          ref.file,
          ref.path,
          ref.use === 'provision'
            ? `group '${ref.group}' is an ${group.type} group, not OKTA_GROUP: Okta's API cannot change an app-sourced group; only OKTA_GROUP groups can be provisioned`
            : `group '${ref.group}' is an ${group.type} group: the directory's API cannot remove its members, so 'remediate: remove' cannot work; use 'remediate: report'`,
        );
      } else if (ref.use === 'reviewer' && !(await membersOf(ref.group)).some((p) => p.active)) {
        problem(ref.file, ref.path, `group '${ref.group}' has no active member, so nobody could review these items`);
      }
    }

    // 2. People named by email, of the policies and the reviews.
    const users = new Map<string, Person | null>();
    for (const { file, path, user, what, active } of personReferences(loaded)) {
      try {
        const person = await findPerson(user);
        users.set(user.toLowerCase(), person);
        if (!person) problem(file, path, `${what} ${user} is not in the directory (${directory.kind})`);
        else if (active && !person.active)
          problem(file, path, `${what} ${user} is not active in the directory (${person.status})`);
      } catch (error) {
        if (!(error instanceof AccessError)) throw error;
        users.set(user.toLowerCase(), null);
        problem(file, path, `${what} ${user}: ${error.message}`);
      }
    }

    // 3. Chains, for a requester who is nobody's approver and has no manager (manager steps fall back to admins).
    const adminGroup = loaded.settings.adminGroup;
    // Without the admin group every fallback is empty, and each chain would repeat that one
    // problem (already reported at admin_group); check the chains once it exists.
    if (!(await findGroup(adminGroup))) return { problems: sortProblems(problems) };
    const knownMembers = async (name: string): Promise<Person[] | undefined> =>
      (await findGroup(name)) ? membersOf(name) : undefined;
    for (const policy of loaded.policies) {
      for (const [roleIndex, role] of policy.roles.entries()) {
        if (role.approval === 'auto') continue;
        const groupMembers: Record<string, Person[]> = {};
        for (const name of new Set([
          adminGroup,
          ...role.approval.flatMap((s) => (s.kind === 'group' ? [s.group] : [])),
        ])) {
          const list = await knownMembers(name);
          if (list) groupMembers[name] = list;
        }
        const facts: DirectoryFacts = {
          requester: CHECK_REQUESTER,
          requesterGroups: [],
          manager: null,
          groupMembers,
          users: Object.fromEntries(users),
          adminGroup,
        };
        const chain = resolveChain(role, facts);
        if (!chain.satisfiable) {
          const file = policy.source.file;
          const path = ['roles', roleIndex, 'approval'];
          problems.push({
            file,
            ...loaded.locate(file, path, 'key'),
            path: formatKeyPath(path),
            message: `the approval chain of ${policy.app}/${role.id} cannot be satisfied even with the admin fallback: ${chain.reason ?? 'not enough approvers'}`,
          });
        }
      }
    }
  } catch (error) {
    if (error instanceof DirectoryUnreachable) return { problems: sortProblems(problems), unreachable: error.message };
    throw error;
  }
  return { problems: sortProblems(problems) };
}

/** Every group the policies, the settings and the reviews name, in file order, with the key that names it. */
function groupReferences(loaded: LoadedPolicies): GroupReference[] {
  const refs: GroupReference[] = [
    { file: loaded.settingsFile, path: ['admin_group'], group: loaded.settings.adminGroup, use: 'admin' },
  ];
  for (const policy of loaded.policies) {
    const file = policy.source.file;
    for (const [r, role] of policy.roles.entries()) {
      const at = (use: GroupUse, group: string, ...rest: (string | number)[]) =>
        refs.push({ file, path: ['roles', r, ...rest], group, use });
      role.eligibleGroups.forEach((g, i) => at('eligibility', g, 'eligible_groups', i));
      if (role.approval !== 'auto') {
        role.approval.forEach((step, i) => {
          if (step.kind === 'group') at('approval', step.group, 'approval', i, 'group');
          if (step.escalation?.to.kind === 'group')
            at('approval', step.escalation.to.group, 'approval', i, 'escalate_to', 'group');
        });
      }
      role.breakGlass?.eligibleGroups?.forEach((g, i) => at('eligibility', g, 'break_glass', 'eligible_groups', i));
      if (role.breakGlass?.reviewers.kind === 'group')
        at('approval', role.breakGlass.reviewers.group, 'break_glass', 'reviewers', 'group');
      role.autoApprove?.requesterGroups?.forEach((g, i) =>
        at('auto_approve', g, 'auto_approve', 'when', 'requester_groups', i),
      );
      const provision = role.provision;
      for (const named of provisionMethod(provision).groups(provision))
        at(named.managed ? 'provision' : 'assignee', named.group, 'provision', provision.method, ...named.key);
    }
  }
  for (const review of loaded.reviews.all()) {
    const file = review.source.file;
    const scopeUse = review.remediate === 'remove' ? 'review_remove' : 'review_scope';
    review.scope.groups.forEach((group, i) => refs.push({ file, path: ['scope', 'groups', i], group, use: scopeUse }));
    for (const [key, rule] of reviewerRules(review)) {
      // The admin group (the default fallback) is checked with the settings, where it is named.
      if (rule.kind === 'group' && rule.group !== loaded.settings.adminGroup)
        refs.push({ file, path: [key, 'group'], group: rule.group, use: 'reviewer' });
    }
  }
  return refs;
}

/** Every person the policies and reviews name by email, in file order, with the key that names them. */
function personReferences(loaded: LoadedPolicies): PersonReference[] {
  const refs: PersonReference[] = [];
  for (const policy of loaded.policies) {
    const file = policy.source.file;
    for (const [r, role] of policy.roles.entries()) {
      const at = (what: string, user: string, ...rest: (string | number)[]) =>
        refs.push({ file, path: ['roles', r, ...rest], user, what, active: false });
      for (const [i, step] of (role.approval === 'auto' ? [] : role.approval).entries()) {
        if (step.kind === 'user') at('approver', step.user, 'approval', i, 'user');
        if (step.escalation?.to.kind === 'user')
          at('escalation target', step.escalation.to.user, 'approval', i, 'escalate_to', 'user');
      }
      if (role.breakGlass?.reviewers.kind === 'user')
        at('break-glass reviewer', role.breakGlass.reviewers.user, 'break_glass', 'reviewers', 'user');
    }
  }
  for (const review of loaded.reviews.all()) {
    for (const [key, rule] of reviewerRules(review)) {
      if (rule.kind === 'user')
        refs.push({ file: review.source.file, path: [key, 'user'], user: rule.user, what: 'reviewer', active: true });
    }
  }
  return refs;
}

function reviewerRules(review: LoadedReview): [string, ReviewerRule][] {
  return [
    ['reviewer', review.reviewer],
    ['fallback_reviewer', review.fallbackReviewer],
  ];
}

function cached<T>(cache: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
  let hit = cache.get(key);
  if (!hit) {
    hit = load();
    cache.set(key, hit);
  }
  return hit;
}

async function guard<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (error instanceof TransientError) throw new DirectoryUnreachable(error.message);
    throw error;
  }
}
