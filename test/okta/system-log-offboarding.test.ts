import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkStatuses, readDeactivations } from '../../src/adapters/okta/system-log-offboarding.js';
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

const user = (id: string) => [{ id, type: 'User', alternateId: `${id}@example.com` }];

describe('readDeactivations from the System Log', () => {
  it('polls the way Okta documents it: since once, then only the next links, a page at a time', async () => {
    const t0 = Date.now() - 60 * 60_000;
    okta
      .appendLogEvent({
        published: new Date(t0 + 1_000),
        eventType: 'user.lifecycle.deactivate',
        target: user('00ubob'),
      })
      .appendLogEvent({ published: new Date(t0 + 2_000), eventType: 'user.session.start', target: user('00ualice') })
      .appendLogEvent({
        published: new Date(t0 + 3_000),
        eventType: 'user.lifecycle.suspend',
        target: user('00ucarol'),
      })
      .appendLogEvent({
        published: new Date(t0 + 4_000),
        eventType: 'user.lifecycle.deactivate',
        target: user('00udan'),
        outcome: 'FAILURE',
      })
      .appendLogEvent({
        published: new Date(t0 + 5_000),
        eventType: 'user.lifecycle.deactivate',
        target: user('00uboss'),
      });
    const directory = directoryFor(url);
    const now = new Date();
    const options = { limit: 2, initialLookbackMs: 2 * 60 * 60_000 };

    const first = await readDeactivations(directory.client, null, now, options);
    expect(first.people).toEqual([
      { oktaId: '00ubob', eventType: 'user.lifecycle.deactivate', published: new Date(t0 + 1_000).toISOString() },
      { oktaId: '00ucarol', eventType: 'user.lifecycle.suspend', published: new Date(t0 + 3_000).toISOString() },
    ]);
    expect(first.more).toBe(true);

    const second = await readDeactivations(directory.client, first.cursor, now, options);
    expect(second.people.map((p) => p.oktaId)).toEqual(['00uboss']); // the failed deactivation is not one
    const third = await readDeactivations(directory.client, second.cursor, now, options);
    expect(third).toMatchObject({ people: [], more: false });

    // The first request was a polling request (since, no until); every later one was Okta's next
    // link as given: after, never with since (the stand-in refuses both, and crafted afters).
    const requests = okta.matching('/api/v1/logs', 'GET');
    expect(requests.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(requests[0]!.query).toMatchObject({ sortOrder: 'ASCENDING' });
    expect(requests[0]!.query['since']).toBeDefined();
    expect(requests[0]!.query['until']).toBeUndefined();
    for (const later of requests.slice(1)) {
      expect(later.query['since']).toBeUndefined();
      expect(later.query['after']).toBeDefined();
    }
    // The cursor is Okta's link without its origin.
    expect(JSON.parse(third.cursor)).toMatchObject({ v: 2, next: expect.stringMatching(/^\/api\/v1\/logs\?.*after=/) });
  });

  it('never skips a late event: one published before events already read, persisted after', async () => {
    const directory = directoryFor(url);
    const now = new Date();
    okta.appendLogEvent({
      published: new Date(now.getTime() - 5 * 60_000),
      eventType: 'user.lifecycle.deactivate',
      target: user('00ubob'),
    });
    const first = await readDeactivations(directory.client, null, now, { limit: 10 });
    expect(first.people.map((p) => p.oktaId)).toEqual(['00ubob']);
    const caughtUp = await readDeactivations(directory.client, first.cursor, now, { limit: 10 });
    expect(caughtUp.people).toEqual([]);

    // Published ten minutes ago, before Bob's event, but committed to the log only now.
    okta.appendLogEvent({
      published: new Date(now.getTime() - 10 * 60_000),
      eventType: 'user.lifecycle.suspend',
      target: user('00ucarol'),
    });
    const minuteLater = new Date(now.getTime() + 60_000);
    const later = await readDeactivations(directory.client, caughtUp.cursor, minuteLater, { limit: 10 });
    expect(later.people.map((p) => p.oktaId)).toEqual(['00ucarol']);
  });

  it('returns nothing and keeps the link when there is nothing new', async () => {
    const now = new Date();
    const page = await readDeactivations(directoryFor(url).client, null, now, { limit: 10 });
    expect(page.people).toEqual([]);
    expect(page.more).toBe(false);
    expect(JSON.parse(page.cursor)).toMatchObject({ v: 2, next: expect.stringContaining('after=') });
  });

  it('starts polling where a bounded-window cursor of an older version ended', async () => {
    const now = new Date();
    const since = new Date(now.getTime() - 3_600_000).toISOString();
    const v1 = JSON.stringify({ v: 1, since, until: null, after: null });
    await readDeactivations(directoryFor(url).client, v1, now, { limit: 10 });
    expect(okta.matching('/api/v1/logs', 'GET')[0]!.query).toMatchObject({ since, sortOrder: 'ASCENDING' });
  });

  it('rejects a cursor it did not write', async () => {
    await expect(readDeactivations(directoryFor(url).client, '{"nope":1}', new Date())).rejects.toThrow(/cursor/);
  });
});

describe('checkStatuses', () => {
  it('finds who is suspended, deprovisioned or gone, in batches', async () => {
    await okta.stop();
    // The changes were made long enough ago for the search index to show them.
    okta = new OktaStandIn({ searchLagMs: 0 });
    seedOrg(okta);
    ({ url } = await okta.start());
    okta.setStatus('00ubob', 'SUSPENDED').setStatus('00ucarol', 'DEPROVISIONED').setStatus('00udan', 'LOCKED_OUT');
    const directory = directoryFor(url);
    const result = await checkStatuses(directory, ['00ualice', '00ubob', '00ucarol', '00udan', '00ugone'], 2);
    expect(result).toEqual([
      { id: '00ubob', status: 'suspended' },
      { id: '00ucarol', status: 'deprovisioned' },
      { id: '00ugone', status: 'gone' },
    ]);
    const searches = okta.matching(/^\/api\/v1\/users$/, 'GET');
    expect(searches).toHaveLength(3);
    expect(searches[0]?.query['search']).toBe('id eq "00ualice" or id eq "00ubob"');
    // Every candidate confirmed by id; the active ones found by search were not read again.
    expect(
      okta
        .matching(/^\/api\/v1\/users\/00u/, 'GET')
        .map((r) => r.path)
        .sort(),
    ).toEqual(['/api/v1/users/00ubob', '/api/v1/users/00ucarol', '/api/v1/users/00ugone']);
  });

  it('does not offboard someone reactivated a moment ago whom search still shows suspended', async () => {
    let clock = Date.now();
    await okta.stop();
    okta = new OktaStandIn({ searchLagMs: 60_000, now: () => clock });
    seedOrg(okta);
    ({ url } = await okta.start());
    okta.setStatus('00ubob', 'SUSPENDED');
    clock += 120_000; // the index shows the suspension now
    okta.setStatus('00ubob', 'ACTIVE'); // and he is back, which the index does not show yet
    const directory = directoryFor(url);
    expect((await directory.searchPeople('id eq "00ubob"'))[0]?.status).toBe('suspended');
    expect(await checkStatuses(directory, ['00ubob', '00ualice'])).toEqual([]);
  });
});
