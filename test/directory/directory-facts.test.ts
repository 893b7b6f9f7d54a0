import { describe, expect, it } from 'vitest';
import { YamlDirectory } from '../../src/adapters/directory/yaml-directory.js';
import { TransientError } from '../../src/domain/errors.js';
import type { Role } from '../../src/domain/policy.js';
import { gatherDirectoryFacts } from '../../src/operations/directory-facts.js';
import type { Directory } from '../../src/operations/ports.js';
import { role } from '../domain/fixtures.js';

const directory = () =>
  YamlDirectory.fromData({
    people: [
      { id: 'ada', email: 'ada@example.com', name: 'Ada', manager: 'marcus@example.com' },
      { id: 'marcus', email: 'marcus@example.com', name: 'Marcus' },
      { id: 'sam', email: 'sam@example.com', name: 'Sam' },
      { id: 'grace', email: 'ciso@example.com', name: 'Grace' },
      { id: 'jordan', email: 'jordan@example.com', name: 'Jordan' },
    ],
    groups: {
      'platform-team': { members: ['ada@example.com'] },
      'security-team': { members: ['sam@example.com', 'jordan@example.com'] },
      'access-admins': { members: ['jordan@example.com'] },
    },
  });

const chain: Role = role({
  approval: [
    { kind: 'manager' },
    { kind: 'group', group: 'security-team', minApprovals: 1 },
    { kind: 'user', user: 'CISO@example.com' },
    { kind: 'user', user: 'nobody@example.com' },
  ],
});

describe('gatherDirectoryFacts', () => {
  it("collects the requester's groups and manager, every step group, the admin group and each named user", async () => {
    const d = directory();
    const ada = (await d.findPerson('ada@example.com'))!;
    const facts = await gatherDirectoryFacts(d, ada, chain, 'access-admins');
    expect(facts.requester).toBe(ada);
    expect(facts.requesterGroups).toEqual(['platform-team']);
    expect(facts.manager?.id).toBe('marcus');
    expect(
      Object.fromEntries(Object.entries(facts.groupMembers).map(([g, people]) => [g, people.map((p) => p.id)])),
    ).toEqual({
      'security-team': ['sam', 'jordan'],
      'access-admins': ['jordan'],
    });
    // Keyed lower-case, as evaluate() looks them up.
    expect(facts.users['ciso@example.com']?.id).toBe('grace');
    expect(facts.users['nobody@example.com']).toBeNull();
    expect(facts.adminGroup).toBe('access-admins');
  });

  it('leaves out a group the directory no longer has, so the evaluation can say so', async () => {
    const d = directory();
    const ada = (await d.findPerson('ada@example.com'))!;
    const facts = await gatherDirectoryFacts(
      d,
      ada,
      role({ approval: [{ kind: 'group', group: 'gone-team', minApprovals: 1 }] }),
      'access-admins',
    );
    expect(Object.keys(facts.groupMembers)).toEqual(['access-admins']);
  });

  it('asks the directory for independent facts at the same time', async () => {
    const d = directory();
    const ada = (await d.findPerson('ada@example.com'))!;
    let inFlight = 0;
    let maxInFlight = 0;
    const slow = new Proxy(d, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (typeof value !== 'function') return value;
        return async (...args: unknown[]) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          await new Promise((r) => setTimeout(r, 5));
          try {
            return await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          } finally {
            inFlight--;
          }
        };
      },
    }) as Directory;
    await gatherDirectoryFacts(slow, ada, chain, 'access-admins');
    // groupsOf, managerOf, two groups and two users: all six at once.
    expect(maxInFlight).toBe(6);
  });

  it('lets an outage through rather than deciding on partial facts', async () => {
    const d = directory();
    const ada = (await d.findPerson('ada@example.com'))!;
    const failing: Directory = Object.assign(Object.create(d) as Directory, {
      membersOf: async () => {
        throw new TransientError('directory timed out');
      },
    });
    await expect(gatherDirectoryFacts(failing, ada, chain, 'access-admins')).rejects.toBeInstanceOf(TransientError);
  });
});
