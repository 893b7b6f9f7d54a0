/** Shared set-up for the Okta tests: a small org in the stand-in and a directory pointed at it. */
import { OktaDirectory, type OktaDirectoryOptions } from '../../src/adapters/okta/okta-directory.js';
import type { OktaStandIn } from './okta-stand-in.js';

export function seedOrg(okta: OktaStandIn): void {
  okta
    .addUser({
      id: '00uboss',
      email: 'Boss@Example.com',
      firstName: 'Barbara',
      lastName: 'Boss',
      title: 'VP Engineering',
    })
    .addUser({
      id: '00ualice',
      email: 'alice@example.com',
      firstName: 'Alice',
      lastName: 'Archer',
      profile: { managerId: '00uboss' },
    })
    .addUser({
      id: '00ubob',
      email: 'bob@example.com',
      firstName: 'Bob',
      lastName: 'Baker',
      profile: { managerId: 'boss@example.com' },
    })
    .addUser({
      id: '00ucarol',
      email: 'carol@example.com',
      login: 'carol.c',
      firstName: 'Carol',
      lastName: 'Cook',
      profile: { managerId: 'alice@example.com' },
    })
    .addUser({
      id: '00udan',
      email: 'dan@example.com',
      displayName: 'Dan the Man',
      profile: { managerId: 'ghost@example.com' },
    })
    .addGroup({ id: '00gplatform', name: 'platform-team' })
    .addGroup({ id: '00gghowners', name: 'github-owners' })
    .addGroup({ id: '00gad', name: 'ad-engineering', type: 'APP_GROUP' })
    .addGroup({ id: '00geveryone', name: 'Everyone', type: 'BUILT_IN' })
    .addMember('00gplatform', '00ualice')
    .addMember('00gplatform', '00ubob');
}

export function directoryFor(url: string, overrides: Partial<OktaDirectoryOptions> = {}): OktaDirectory {
  return new OktaDirectory({
    orgUrl: url,
    auth: { mode: 'token', token: 'test-token' },
    managerAttribute: 'managerId',
    baseDelayMs: 20,
    ...overrides,
  });
}

/** The lifecycle harness's example company (COMPANY), as an Okta org in the stand-in; group ids are `00g-<name>`. */
export function seedCompanyOrg(
  okta: OktaStandIn,
  company: {
    people: { id: string; email: string; name: string; title?: string; status?: string; manager?: string }[];
    groups: Record<string, { members: string[] }>;
  },
): void {
  for (const person of company.people) {
    const [firstName, ...rest] = person.name.split(' ');
    okta.addUser({
      id: person.id,
      email: person.email,
      firstName,
      lastName: rest.join(' '),
      title: person.title,
      status: person.status === 'deprovisioned' ? 'DEPROVISIONED' : 'ACTIVE',
      profile: { managerId: person.manager ?? null },
    });
  }
  for (const [name, group] of Object.entries(company.groups)) {
    okta.addGroup({ id: `00g-${name}`, name });
    for (const email of group.members) okta.addMember(`00g-${name}`, company.people.find((p) => p.email === email)!.id);
  }
}
