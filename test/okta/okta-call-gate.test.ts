import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bucketOf } from '../../src/adapters/okta/okta-call-gate.js';
import { OktaStandIn } from './okta-stand-in.js';
import { directoryFor } from './fixtures.js';

let okta: OktaStandIn;
let url: string;

beforeEach(async () => {
  // 20 membership changes per 2-second window, aligned like Okta's per-minute windows.
  okta = new OktaStandIn({ rateLimits: { membership: { limit: 20, windowMs: 2_000 } } });
  okta.addGroup({ id: '00gteam', name: 'team' });
  for (let i = 0; i < 30; i++)
    okta.addUser({ id: `00u${i}`, email: `u${i}@example.com` }).addMember('00gteam', `00u${i}`);
  ({ url } = await okta.start());
});

afterEach(async () => {
  await okta.stop();
});

describe('OktaCallGate', () => {
  it('spreads membership changes over the rate-limit windows instead of running into 429s', async () => {
    const directory = directoryFor(url);
    await Promise.all(Array.from({ length: 30 }, (_, i) => directory.removeFromGroup(`00u${i}`, 'team')));
    const deletes = okta.matching('/api/v1/groups/00gteam/users/', 'DELETE');
    expect(deletes.filter((r) => r.status === 429)).toEqual([]);
    expect(deletes).toHaveLength(30);
    expect(okta.memberIds('00gteam')).toEqual([]);
    // Never more than the budget in one window.
    const perWindow = new Map<number, number>();
    for (const r of deletes)
      perWindow.set(Math.floor(r.at / 2_000), (perWindow.get(Math.floor(r.at / 2_000)) ?? 0) + 1);
    expect(Math.max(...perWindow.values())).toBeLessThanOrEqual(20);
  });

  it('reads a concurrency 429 as such: waits a moment, not the minute, and keeps the bucket it knew', async () => {
    const crowded = new OktaStandIn({ concurrencyLimit: 2, answerDelayMs: 40 });
    crowded.addGroup({ id: '00gteam', name: 'team' });
    for (let i = 0; i < 6; i++) crowded.addUser({ id: `00u${i}`, email: `u${i}@example.com` });
    const { url: crowdedUrl } = await crowded.start();
    try {
      const sleeps: number[] = [];
      // The gate allows 5 in flight; the org only 2 (other integrations use the rest).
      const sleep = async (ms: number) => {
        sleeps.push(ms);
        await new Promise((r) => setTimeout(r, ms));
      };
      const directory = directoryFor(crowdedUrl, { sleep });
      const people = await Promise.all(Array.from({ length: 6 }, (_, i) => directory.getPerson(`00u${i}`)));
      expect(people.map((p) => p?.id)).toEqual(['00u0', '00u1', '00u2', '00u3', '00u4', '00u5']);
      expect(crowded.requests.filter((r) => r.concurrency).length).toBeGreaterThan(0);
      // Short backoffs (base 20 ms, doubling), never the estimated reset a second away.
      expect(Math.max(...sleeps)).toBeLessThan(1_000);
      // The per-minute bucket still shows what the successful answers reported, not "0 of 0".
      expect(directory.gateStats().gaveUp).toBe(0);
    } finally {
      await crowded.stop();
    }
  });

  it('keys rate-limit buckets by endpoint, with ids taken out', () => {
    expect(bucketOf('https://x.okta.com/api/v1/groups/00g1/users/00u2')).toBe('/api/v1/groups/{id}/users/{id}');
    expect(bucketOf('https://x.okta.com/api/v1/users?search=x')).toBe('/api/v1/users');
    expect(bucketOf('https://x.okta.com/api/v1/users/alice%40example.com')).toBe('/api/v1/users/{id}');
    expect(bucketOf('https://x.okta.com/oauth2/v1/token')).toBe('/oauth2/v1/token');
  });
});
