/**
 * A group's member listing answers, within one operation, the reads of each member it returned
 * (`primeSharedRead`): an access review's manager lookups cost no read per member. Nothing is kept
 * past the operation, and a membership change within it is read anew.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withReadScope } from '../../src/operations/read-scope.js';
import { OktaStandIn } from './okta-stand-in.js';
import { directoryFor, seedOrg } from './fixtures.js';

let okta: OktaStandIn;
let url: string;

beforeEach(async () => {
  okta = new OktaStandIn();
  seedOrg(okta);
  ({ url } = await okta.start());
});

afterEach(async () => {
  await okta.stop();
});

/** GETs of one user's record (not their groups). */
const userReads = (id: string) => okta.count(new RegExp(`^/api/v1/users/${id}$`), 'GET');
const memberListings = () => okta.count('/api/v1/groups/00gplatform/users', 'GET');

describe('the member listing answers the reads of its members, within one operation', () => {
  it("saves a read of each member: their record and their manager attribute come from the listing", async () => {
    const directory = directoryFor(url);
    await withReadScope(async () => {
      const members = await directory.membersOf('platform-team');
      expect(members.map((m) => m.id)).toEqual(['00ualice', '00ubob']);
      expect((await directory.getPerson('00ualice'))?.email).toBe('alice@example.com');
      expect((await directory.getPerson('00ubob'))?.name).toBe('Bob Baker');
      // Alice's manager attribute names Barbara, who is not a member: she is read; Alice is not.
      expect((await directory.managerOf('00ualice'))?.id).toBe('00uboss');
    });
    expect(memberListings()).toBe(1);
    expect(userReads('00ualice')).toBe(0);
    expect(userReads('00ubob')).toBe(0);
    expect(userReads('00uboss')).toBe(1);

    // Without the listing, the same reads cost one request each.
    okta.clearRequests();
    await withReadScope(async () => {
      await directory.getPerson('00ualice');
      await directory.getPerson('00ubob');
    });
    expect([userReads('00ualice'), userReads('00ubob')]).toEqual([1, 1]);
  });

  it('never answers the next operation from it: a member suspended since is seen at once', async () => {
    const directory = directoryFor(url);
    await withReadScope(async () => {
      await directory.membersOf('platform-team');
      expect((await directory.getPerson('00ubob'))?.active).toBe(true);
    });
    okta.setStatus('00ubob', 'SUSPENDED');
    const bob = await withReadScope(() => directory.getPerson('00ubob'));
    expect(bob).toMatchObject({ status: 'suspended', active: false });
    expect(userReads('00ubob')).toBe(1);
    // Outside any operation nothing is shared at all.
    await directory.membersOf('platform-team');
    expect((await directory.getPerson('00ualice'))?.active).toBe(true);
    expect(userReads('00ualice')).toBe(1);
  });

  it('reads the members anew after the operation changes the membership', async () => {
    const directory = directoryFor(url);
    await withReadScope(async () => {
      expect((await directory.membersOf('platform-team')).map((m) => m.id)).toEqual(['00ualice', '00ubob']);
      await directory.removeFromGroup('00ubob', 'platform-team');
      expect((await directory.membersOf('platform-team')).map((m) => m.id)).toEqual(['00ualice']);
      expect(await directory.isMember('00ubob', 'platform-team')).toBe(false);
    });
    expect(memberListings()).toBe(2);
  });
});
