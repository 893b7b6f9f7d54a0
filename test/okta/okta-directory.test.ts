import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessError, PermanentError, TransientError } from '../../src/domain/errors.js';
import { OktaDirectory } from '../../src/adapters/okta/okta-directory.js';
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

describe('OktaDirectory people', () => {
  it('finds a person by email regardless of case, and maps the Okta user to a Person', async () => {
    const directory = directoryFor(url);
    const boss = await directory.findPerson('boss@EXAMPLE.com');
    expect(boss).toEqual({
      id: '00uboss',
      email: 'Boss@Example.com',
      login: 'Boss@Example.com',
      name: 'Barbara Boss',
      status: 'active',
      active: true,
      title: 'VP Engineering',
    });
    expect(okta.matching('/api/v1/users', 'GET')[0]?.query['search']).toBe('profile.email eq "boss@EXAMPLE.com"');
  });

  it('finds a person by a login that is not an email, and returns null for nobody', async () => {
    const directory = directoryFor(url);
    expect((await directory.findPerson('carol.c'))?.id).toBe('00ucarol');
    expect(await directory.findPerson('nobody@example.com')).toBeNull();
  });

  it('refuses to pick when two Okta users share an email: identity_ambiguous', async () => {
    okta.addUser({
      id: '00ualice2',
      email: 'ALICE@example.com',
      login: 'alice.contractor@example.com',
      firstName: 'Alice',
    });
    const directory = directoryFor(url);
    const error = await directory.findPerson('alice@example.com').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessError);
    expect((error as AccessError).code).toBe('identity_ambiguous');
    expect((error as AccessError).details['oktaIds']).toEqual(['00ualice', '00ualice2']);
  });

  it('uses the display name when there is no first or last name', async () => {
    expect((await directoryFor(url).getPerson('00udan'))?.name).toBe('Dan the Man');
  });

  it('ignores a manager attribute of "me", which Okta would resolve to the API token\'s owner (review I1)', async () => {
    okta.setProfile('00ucarol', { managerId: 'me' });
    const directory = directoryFor(url);
    expect(await directory.managerOf('00ucarol')).toBeNull();
    expect(okta.count('/api/v1/users/me')).toBe(0);
  });

  it('returns null for a person Okta does not know', async () => {
    expect(await directoryFor(url).getPerson('00unknown')).toBeNull();
  });

  it('sees a status change on the very next read (no stale cache)', async () => {
    const directory = directoryFor(url);
    expect((await directory.getPerson('00ubob'))?.active).toBe(true);
    okta.setStatus('00ubob', 'SUSPENDED');
    const bob = await directory.getPerson('00ubob');
    expect(bob?.status).toBe('suspended');
    expect(bob?.active).toBe(false);
    expect(okta.count('/api/v1/users/00ubob', 'GET')).toBe(2);
  });

  it('resolves the manager through the manager attribute holding an id, a login or an email', async () => {
    const directory = directoryFor(url);
    expect((await directory.managerOf('00ualice'))?.id).toBe('00uboss'); // an Okta id
    expect((await directory.managerOf('00ubob'))?.id).toBe('00uboss'); // boss's login, in another case
    okta.setProfile('00uboss', { login: 'barbara.boss' });
    expect((await directory.managerOf('00ubob'))?.id).toBe('00uboss'); // now only an email: a search
    expect((await directory.managerOf('00ucarol'))?.id).toBe('00ualice');
    expect(await directory.managerOf('00udan')).toBeNull(); // names nobody
    expect(await directory.managerOf('00uboss')).toBeNull(); // no attribute
  });

  it('lists a person’s groups by name', async () => {
    expect(await directoryFor(url).groupsOf('00ualice')).toEqual(['platform-team']);
    expect(await directoryFor(url).groupsOf('00unknown')).toEqual([]);
  });
});

describe('OktaDirectory groups', () => {
  it('reads a group of 450 whole, 200 per page: three requests', async () => {
    okta.addGroup({ id: '00gbig', name: 'everyone-eng' });
    for (let i = 0; i < 450; i++) {
      const id = `00um${String(i).padStart(4, '0')}`;
      okta.addUser({ id, email: `m${i}@example.com`, firstName: 'M', lastName: String(i) }).addMember('00gbig', id);
    }
    const directory = directoryFor(url);
    const members = await directory.membersOf('everyone-eng');
    expect(members).toHaveLength(450);
    expect(new Set(members.map((m) => m.id)).size).toBe(450);
    const pages = okta.matching('/api/v1/groups/00gbig/users', 'GET');
    expect(pages).toHaveLength(3);
    expect(pages.map((p) => p.query['limit'])).toEqual(['200', '200', '200']);
  });

  it('finds a group by exact name with its type, and caches only its id and type', async () => {
    const directory = directoryFor(url);
    expect(await directory.findGroup('ad-engineering')).toEqual({
      id: '00gad',
      name: 'ad-engineering',
      type: 'APP_GROUP',
      manageable: false,
    });
    await directory.findGroup('ad-engineering');
    expect(okta.count(/^\/api\/v1\/groups$/, 'GET')).toBe(1);
    expect(await directory.findGroup('platform')).toBeNull(); // a prefix is not a match
  });

  it('re-reads a cached group after the TTL', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const directory = directoryFor(url, { clock: { now: () => new Date(now) }, groupCacheTtlMs: 60_000 });
    await directory.findGroup('platform-team');
    now += 61_000;
    await directory.findGroup('platform-team');
    expect(okta.count(/^\/api\/v1\/groups$/, 'GET')).toBe(2);
  });

  it('reads membership live', async () => {
    const directory = directoryFor(url);
    expect(await directory.isMember('00ualice', 'platform-team')).toBe(true);
    okta.removeMember('00gplatform', '00ualice');
    expect(await directory.isMember('00ualice', 'platform-team')).toBe(false);
  });

  it('adds and removes a member, confirming each change by reading it back', async () => {
    const directory = directoryFor(url);
    await directory.addToGroup('00ucarol', 'github-owners');
    expect(okta.isMember('00gghowners', '00ucarol')).toBe(true);
    await directory.removeFromGroup('00ucarol', 'github-owners');
    expect(okta.isMember('00gghowners', '00ucarol')).toBe(false);
    expect(okta.count('/api/v1/users/00ucarol/groups', 'GET')).toBe(2);
  });

  it('answers a change on an unknown group with a PermanentError naming the group', async () => {
    const error = await directoryFor(url)
      .addToGroup('00ualice', 'no-such-group')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain('"no-such-group"');
  });

  it('answers a group deleted since it was cached with a PermanentError naming the group', async () => {
    const directory = directoryFor(url);
    await directory.findGroup('github-owners');
    okta.removeGroup('00gghowners');
    const error = await directory.addToGroup('00ualice', 'github-owners').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain('"github-owners" does not exist');
  });

  it('refuses to change an app-sourced group, and Okta would refuse too', async () => {
    const error = await directoryFor(url)
      .addToGroup('00ualice', 'ad-engineering')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain('APP_GROUP');
    expect(okta.count('/api/v1/groups/00gad/users/', 'PUT')).toBe(0);
  });

  it('reports a change Okta accepted but the read-back does not show as transient', async () => {
    const directory = directoryFor(url);
    await directory.findGroup('github-owners');
    // Okta answers 204, but someone removes the member again before the read-back.
    okta.on('request', function undo(r) {
      if (r.method === 'PUT') {
        okta.removeMember('00gghowners', '00ucarol');
        okta.off('request', undo);
      }
    });
    await expect(directory.addToGroup('00ucarol', 'github-owners')).rejects.toBeInstanceOf(TransientError);
  });
});

describe('OktaDirectory when Okta is slow, limited or failing', () => {
  it('waits out a 429 on a membership add until the reset, then succeeds', async () => {
    const directory = directoryFor(url);
    await directory.findGroup('github-owners');
    okta.failNext('/api/v1/groups/00gghowners/users/00ucarol', 1, 429, { method: 'PUT', resetInSeconds: 2 });
    const first = okta.nextRequest((r) => r.method === 'PUT');
    const retry = okta.nextRequest((r) => r.method === 'PUT' && r.status === 204);
    await directory.addToGroup('00ucarol', 'github-owners');
    const limited = await first;
    const success = await retry;
    expect(limited.status).toBe(429);
    expect(limited.reset * 1000 - limited.at).toBeGreaterThanOrEqual(2_000);
    expect(success.at).toBeGreaterThanOrEqual(limited.reset * 1000); // no retry before the reset
    expect(okta.count('/api/v1/groups/00gghowners/users/00ucarol', 'PUT')).toBe(2);
    expect(okta.isMember('00gghowners', '00ucarol')).toBe(true);
    expect(directory.gateStats().rateLimited).toBe(1);
  });

  it('retries a 503 on a removal and does not lose it', async () => {
    const directory = directoryFor(url);
    okta.failNext('/api/v1/groups/00gplatform/users/00ubob', 1, 503, { method: 'DELETE' });
    await directory.removeFromGroup('00ubob', 'platform-team');
    expect(okta.matching('/api/v1/groups/00gplatform/users/00ubob', 'DELETE').map((r) => r.status)).toEqual([503, 204]);
    expect(okta.isMember('00gplatform', '00ubob')).toBe(false);
  });

  it('retries a dropped connection in the middle of reading a group', async () => {
    okta.failNext('/api/v1/groups/00gplatform/users', 1, 'reset', { method: 'GET' });
    const members = await directoryFor(url).membersOf('platform-team');
    expect(members.map((m) => m.id)).toEqual(['00ualice', '00ubob']);
  });

  it('gives up with a TransientError after the configured attempts', async () => {
    okta.failNext('/api/v1/users/00ualice', 5, 500);
    const directory = directoryFor(url, { maxAttempts: 3 });
    const error = await directory.getPerson('00ualice').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toMatch(/500 .* 3 times/);
    expect(okta.count('/api/v1/users/00ualice')).toBe(3);
  });

  it('reports Okta being down as a TransientError, and works again when it is back', async () => {
    const directory = directoryFor(url, { maxAttempts: 2 });
    await okta.goDown();
    const error = await directory.getPerson('00ualice').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransientError);
    expect((error as Error).message).toContain('ECONNREFUSED');
    await okta.comeBackUp();
    expect((await directory.getPerson('00ualice'))?.id).toBe('00ualice');
  });

  it('keeps no more than the configured number of requests in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const directory = directoryFor(url, { concurrency: 2 });
    const original = directory.client.requestExecutor;
    original.on('request', () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
    });
    original.on('response', () => inFlight--);
    await Promise.all(
      ['00ualice', '00ubob', '00ucarol', '00udan', '00uboss', '00ualice'].map((id) => directory.getPerson(id)),
    );
    expect(peak).toBe(2);
  });
});

describe('OktaDirectory configuration', () => {
  it('names what is missing', () => {
    expect(
      () => new OktaDirectory({ orgUrl: '', auth: { mode: 'token', token: 'x' }, managerAttribute: 'managerId' }),
    ).toThrow(/orgUrl is missing/);
    expect(
      () => new OktaDirectory({ orgUrl: url, auth: { mode: 'token', token: '' }, managerAttribute: 'managerId' }),
    ).toThrow(/API token is missing/);
    expect(
      () =>
        new OktaDirectory({
          orgUrl: url,
          auth: { mode: 'private_key', clientId: '0oa1', privateKey: '', keyId: '' },
          managerAttribute: 'managerId',
        }),
    ).toThrow(/missing privateKey, keyId/);
    expect(() => new OktaDirectory({ orgUrl: url, auth: { mode: 'token', token: 'x' }, managerAttribute: '' })).toThrow(
      /managerAttribute is missing/,
    );
    expect(
      () =>
        new OktaDirectory({
          orgUrl: 'http://example.okta.com',
          auth: { mode: 'token', token: 'x' },
          managerAttribute: 'm',
        }),
    ).toThrow(/must use https/);
    expect(
      () =>
        new OktaDirectory({
          orgUrl: 'https://acme-admin.okta.com',
          auth: { mode: 'token', token: 'x' },
          managerAttribute: 'm',
        }),
    ).toThrow(/acme\.okta\.com/);
  });

  it('is not steered by OKTA_CLIENT_* variables', async () => {
    process.env['OKTA_CLIENT_ORGURL'] = 'http://127.0.0.1:1';
    process.env['OKTA_CLIENT_TOKEN'] = 'wrong';
    process.env['OKTA_CLIENT_AUTHORIZATIONMODE'] = 'PrivateKey';
    try {
      expect((await directoryFor(url).getPerson('00ualice'))?.id).toBe('00ualice');
    } finally {
      delete process.env['OKTA_CLIENT_ORGURL'];
      delete process.env['OKTA_CLIENT_TOKEN'];
      delete process.env['OKTA_CLIENT_AUTHORIZATIONMODE'];
    }
  });

  it('turns a wrong API token into a PermanentError', async () => {
    const error = await directoryFor(url, { auth: { mode: 'token', token: 'nope' } })
      .getPerson('00ualice')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain('401');
  });
});

/**
 * A group's member listing answers, within one operation, the reads of each member it returned
 * (`SharedReads.prime`): an access review's manager lookups cost no read per member. Nothing is kept
 * past the operation, and a membership change within it is read anew.
 */
/** GETs of one user's record (not their groups). */
const userReads = (id: string) => okta.count(new RegExp(`^/api/v1/users/${id}$`), 'GET');
const memberListings = () => okta.count('/api/v1/groups/00gplatform/users', 'GET');

describe('the member listing answers the reads of its members, within one operation', () => {
  it('saves a read of each member: their record and their manager attribute come from the listing', async () => {
    const directory = directoryFor(url);
    const operation = directory.forOperation();
    const members = await operation.membersOf('platform-team');
    expect(members.map((m) => m.id)).toEqual(['00ualice', '00ubob']);
    expect((await operation.getPerson('00ualice'))?.email).toBe('alice@example.com');
    expect((await operation.getPerson('00ubob'))?.name).toBe('Bob Baker');
    // Alice's manager attribute names Barbara, who is not a member: she is read; Alice is not.
    expect((await operation.managerOf('00ualice'))?.id).toBe('00uboss');
    expect(memberListings()).toBe(1);
    expect(userReads('00ualice')).toBe(0);
    expect(userReads('00ubob')).toBe(0);
    expect(userReads('00uboss')).toBe(1);

    // Without the listing, the same reads cost one request each.
    okta.clearRequests();
    const next = directory.forOperation();
    await next.getPerson('00ualice');
    await next.getPerson('00ubob');
    expect([userReads('00ualice'), userReads('00ubob')]).toEqual([1, 1]);
  });

  it('never answers the next operation from it: a member suspended since is seen at once', async () => {
    const directory = directoryFor(url);
    const operation = directory.forOperation();
    await operation.membersOf('platform-team');
    expect((await operation.getPerson('00ubob'))?.active).toBe(true);
    okta.setStatus('00ubob', 'SUSPENDED');
    const bob = await directory.forOperation().getPerson('00ubob');
    expect(bob).toMatchObject({ status: 'suspended', active: false });
    expect(userReads('00ubob')).toBe(1);
    // Outside any operation nothing is shared at all.
    await directory.membersOf('platform-team');
    expect((await directory.getPerson('00ualice'))?.active).toBe(true);
    expect(userReads('00ualice')).toBe(1);
  });

  it('reads the members anew after the operation changes the membership', async () => {
    const directory = directoryFor(url);
    const operation = directory.forOperation();
    expect((await operation.membersOf('platform-team')).map((m) => m.id)).toEqual(['00ualice', '00ubob']);
    await operation.removeFromGroup('00ubob', 'platform-team');
    expect((await operation.membersOf('platform-team')).map((m) => m.id)).toEqual(['00ualice']);
    expect(await operation.isMember('00ubob', 'platform-team')).toBe(false);
    expect(memberListings()).toBe(2);
  });
});
