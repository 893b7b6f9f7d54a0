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
  it('reads deactivations and suspensions page by page, advancing the cursor, until a window is empty', async () => {
    const t0 = Date.now() - 60 * 60_000;
    okta
      .appendLogEvent({ published: new Date(t0 + 1_000), eventType: 'user.lifecycle.deactivate', target: user('00ubob') })
      .appendLogEvent({ published: new Date(t0 + 2_000), eventType: 'user.session.start', target: user('00ualice') })
      .appendLogEvent({ published: new Date(t0 + 3_000), eventType: 'user.lifecycle.suspend', target: user('00ucarol') })
      .appendLogEvent({ published: new Date(t0 + 4_000), eventType: 'user.lifecycle.deactivate', target: user('00udan'), outcome: 'FAILURE' })
      .appendLogEvent({ published: new Date(t0 + 5_000), eventType: 'user.lifecycle.deactivate', target: user('00uboss') });
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
    expect(second.cursor).not.toBe(first.cursor);

    // Every request was bounded (since and until): never an open-ended polling request.
    const requests = okta.matching('/api/v1/logs', 'GET');
    expect(requests.every((r) => r.query['since'] && r.query['until'])).toBe(true);
    expect(requests[1]?.query['until']).toBe(requests[0]?.query['until']);

    let cursor = second.cursor;
    let more = second.more;
    while (more) {
      const page = await readDeactivations(directory.client, cursor, now, options);
      expect(page.people).toEqual([]);
      ({ cursor, more } = page);
    }

    // The next run starts where the last window ended and sees only what is new.
    okta.appendLogEvent({ published: new Date(now.getTime() - 30_000), eventType: 'user.lifecycle.suspend', target: user('00ualice') });
    const later = new Date(now.getTime() + 5 * 60_000);
    const next = await readDeactivations(directory.client, cursor, later, options);
    expect(next.people.map((p) => p.oktaId)).toEqual(['00ualice']);
    const window = okta.matching('/api/v1/logs', 'GET').at(-1)!;
    expect(window.query['since']).toBe(JSON.parse(cursor).since);
  });

  it('returns nothing and the same window start when the window is empty', async () => {
    const now = new Date();
    const page = await readDeactivations(directoryFor(url).client, null, now, { limit: 10 });
    expect(page.people).toEqual([]);
    expect(page.more).toBe(false);
    expect(JSON.parse(page.cursor)).toMatchObject({ since: new Date(now.getTime() - 60_000).toISOString(), after: null });
  });

  it('rejects a cursor it did not write', async () => {
    await expect(readDeactivations(directoryFor(url).client, '{"nope":1}', new Date())).rejects.toThrow(/cursor/);
  });
});

describe('checkStatuses', () => {
  it('finds who is suspended, deprovisioned or gone, in batches', async () => {
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
  });
});
