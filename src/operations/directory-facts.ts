/**
 * Reads, from the live directory, everything `evaluate()` needs to decide a request for one role:
 * the requester's groups and manager, the members of every group a step names and of the admin
 * group, and the person behind each `user:` step.
 */
import { PermanentError } from '../domain/errors.js';
import type { DirectoryFacts } from '../domain/evaluate.js';
import type { Person } from '../domain/person.js';
import type { Role } from '../domain/policy.js';
import type { Directory } from './ports.js';

export async function gatherDirectoryFacts(directory: Directory, requester: Person, role: Role, adminGroup: string): Promise<DirectoryFacts> {
  const steps = role.approval === 'auto' ? [] : role.approval;
  const groupNames = unique([...steps.flatMap((s) => (s.kind === 'group' ? [s.group] : [])), adminGroup]);
  const userKeys = unique(steps.flatMap((s) => (s.kind === 'user' ? [s.user.toLowerCase()] : [])));

  // Independent reads: one round trip's worth of latency instead of one per read.
  const [requesterGroups, manager, members, users] = await Promise.all([
    directory.groupsOf(requester.id),
    directory.managerOf(requester.id),
    Promise.all(groupNames.map(async (name) => [name, await membersOrNull(directory, name)] as const)),
    Promise.all(userKeys.map(async (key) => [key, await directory.findPerson(key)] as const)),
  ]);

  const groupMembers: Record<string, Person[]> = {};
  // A group that no longer exists is left out, so the evaluation says so and falls back to the admins.
  for (const [name, people] of members) if (people) groupMembers[name] = people;
  return { requester, requesterGroups, manager, groupMembers, users: Object.fromEntries(users), adminGroup };
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
