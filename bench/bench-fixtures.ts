/** What the lifecycle benches share: one AWS admin role approved by the manager, and a company of N people. */
import { YamlDirectory } from '../src/adapters/directory/yaml-directory.js';
import type { LoadedPolicy } from '../src/domain/policy.js';

/** `aws/admin`, for members of `eligibleGroup`, approved by the manager, provisioned into the Okta group `group`. */
export function awsAdminPolicies(eligibleGroup: string, group: string): LoadedPolicy[] {
  return [
    {
      app: 'aws',
      name: 'AWS',
      source: { file: 'bench' },
      roles: [
        {
          id: 'admin',
          name: 'Administrator',
          policy: 'aws-admin',
          sensitive: true,
          eligibleGroups: [eligibleGroup],
          duration: { defaultSeconds: 3600, maxSeconds: 8 * 3600 },
          justification: 'optional',
          approval: [{ kind: 'manager' }],
          extension: null,
          provision: { method: 'okta_group', group },
        },
      ],
    },
  ];
}

/** A manager (m0), an admin (a0) and N people u0.. in `engineering`, members of `aws-admins` when `everyoneInGroup`. */
export function benchCompany(n: number, everyoneInGroup: boolean): YamlDirectory {
  const people = [
    { id: 'm0', email: 'manager@example.com', name: 'Manager' },
    { id: 'a0', email: 'admin@example.com', name: 'Admin' },
  ];
  const members: string[] = [];
  for (let i = 0; i < n; i++) {
    people.push({
      id: `u${i}`,
      email: `user${i}@example.com`,
      name: `User ${i}`,
      manager: 'm0',
    } as (typeof people)[number]);
    members.push(`u${i}`);
  }
  return YamlDirectory.fromData({
    people,
    groups: {
      engineering: { members },
      'aws-admins': { members: everyoneInGroup ? members : [] },
      'access-admins': { members: ['a0'] },
    },
  });
}
