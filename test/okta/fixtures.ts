/** Shared set-up for the Okta tests: a small org in the stand-in and a directory pointed at it. */
import { OktaDirectory, type OktaDirectoryOptions } from '../../src/adapters/okta/okta-directory.js';
import type { OktaStandIn } from './okta-stand-in.js';

export function seedOrg(okta: OktaStandIn): void {
  okta
    .addUser({ id: '00uboss', email: 'Boss@Example.com', firstName: 'Barbara', lastName: 'Boss', title: 'VP Engineering' })
    .addUser({ id: '00ualice', email: 'alice@example.com', firstName: 'Alice', lastName: 'Archer', profile: { managerId: '00uboss' } })
    .addUser({ id: '00ubob', email: 'bob@example.com', firstName: 'Bob', lastName: 'Baker', profile: { managerId: 'boss@example.com' } })
    .addUser({
      id: '00ucarol',
      email: 'carol@example.com',
      login: 'carol.c',
      firstName: 'Carol',
      lastName: 'Cook',
      profile: { managerId: 'alice@example.com' },
    })
    .addUser({ id: '00udan', email: 'dan@example.com', displayName: 'Dan the Man', profile: { managerId: 'ghost@example.com' } })
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
