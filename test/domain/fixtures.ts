/** Small builders for domain tests: people, roles and directory facts with sensible defaults. */
import type { DirectoryFacts } from '../../src/domain/evaluate.js';
import type { Person } from '../../src/domain/person.js';
import type { AppPolicy, Role } from '../../src/domain/policy.js';

export function person(name: string, overrides: Partial<Person> = {}): Person {
  const status = overrides.status ?? 'active';
  return {
    id: `00u-${name}`,
    email: `${name}@example.com`,
    login: `${name}@example.com`,
    name,
    status,
    active: status === 'active',
    ...overrides,
  };
}

export function role(overrides: Partial<Role> = {}): Role {
  return {
    id: 'owner',
    name: 'Owner',
    policy: 'test-owner',
    sensitive: false,
    eligibleGroups: ['platform-team'],
    duration: { defaultSeconds: 3600, maxSeconds: 4 * 3600 },
    justification: 'optional',
    approval: [{ kind: 'manager' }],
    extension: null,
    provision: { method: 'okta_group', group: 'owners' },
    ...overrides,
  };
}

export function app(...roles: Role[]): AppPolicy {
  return { app: 'github', name: 'GitHub', roles };
}

export function facts(requester: Person, overrides: Partial<DirectoryFacts> = {}): DirectoryFacts {
  return {
    requester,
    requesterGroups: ['platform-team'],
    manager: null,
    groupMembers: {},
    users: {},
    adminGroup: 'access-admins',
    ...overrides,
  };
}

export const NOW = new Date('2025-03-03T10:00:00Z');
