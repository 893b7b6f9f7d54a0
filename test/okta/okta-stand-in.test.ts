/**
 * The Okta stand-in itself, where Okta refuses or lags (see the rules and sources in
 * okta-stand-in.ts): the System Log's `since`/`after` and polling semantics, late events, the
 * eventually consistent `search`, unpaged `q`, and concurrency 429s.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OktaStandIn, type OktaStandInOptions } from './okta-stand-in.js';

let okta: OktaStandIn;
let clock: number;

async function start(options: OktaStandInOptions = {}): Promise<void> {
  okta = new OktaStandIn({ now: () => clock, ...options });
  await okta.start();
}

beforeEach(() => {
  clock = Date.parse('2026-03-02T09:00:00Z');
});
afterEach(async () => {
  await okta.stop();
});

async function get(path: string): Promise<{ status: number; body: unknown; headers: Headers; next: string | null }> {
  const url = path.startsWith('http') ? path : `${okta.url}${path}`;
  const response = await fetch(url, { headers: { authorization: `SSWS ${okta.token}`, accept: 'application/json' } });
  const link = response.headers.get('link') ?? '';
  const next = /<([^>]+)>;\s*rel="next"/.exec(link)?.[1] ?? null;
  const body = await response.json().catch(() => undefined);
  return { status: response.status, body, headers: response.headers, next };
}

const iso = (ms: number) => new Date(ms).toISOString();
const deactivation = (published: number, id: string) => ({
  published: iso(published),
  eventType: 'user.lifecycle.deactivate',
  target: [{ id, type: 'User' }],
});
const search = (kind: 'users' | 'groups', expression: string, more = '') =>
  get(`/api/v1/${kind}?search=${encodeURIComponent(expression)}${more}`);
const uuids = (body: unknown) => (body as { uuid: string }[]).map((e) => e.uuid);

describe('the Okta stand-in: System Log', () => {
  beforeEach(() => start());

  it('refuses since together with after, and an after it did not hand out', async () => {
    okta.appendLogEvent({ ...deactivation(clock - 60_000, 'u1'), uuid: 'e1' });
    const first = await get(`/api/v1/logs?since=${iso(clock - 3_600_000)}&sortOrder=ASCENDING&limit=1`);
    expect(first.status).toBe(200);
    const after = new URL(first.next!).searchParams.get('after');
    expect(new URL(first.next!).searchParams.has('since')).toBe(false);

    const both = await get(`/api/v1/logs?since=${iso(clock - 3_600_000)}&after=${after}&sortOrder=ASCENDING`);
    expect(both).toMatchObject({ status: 400, body: { errorCode: 'E0000001' } });
    const crafted = await get('/api/v1/logs?after=e1&sortOrder=ASCENDING');
    expect(crafted).toMatchObject({ status: 400, body: { errorCode: 'E0000001' } });
  });

  it('answers E0000053 for a since more than 180 days back', async () => {
    const old = await get(`/api/v1/logs?since=${iso(clock - 181 * 86_400_000)}&until=${iso(clock)}`);
    expect(old).toMatchObject({
      status: 400,
      body: {
        errorCode: 'E0000053',
        errorSummary: 'Invalid parameter: The since parameter is over 180 days prior to the current day.',
      },
    });
  });

  it('serves a late event to the poller that follows its next links, not to a bounded window read', async () => {
    okta.appendLogEvent({ ...deactivation(clock - 120_000, 'u1'), uuid: 'e1' });
    const window = `since=${iso(clock - 3_600_000)}&until=${iso(clock - 60_000)}`;
    expect(uuids((await get(`/api/v1/logs?${window}`)).body)).toEqual(['e1']);
    const poll = await get(`/api/v1/logs?since=${iso(clock - 3_600_000)}&sortOrder=ASCENDING`);
    expect(uuids(poll.body)).toEqual(['e1']);
    expect(poll.next).toBeTruthy(); // polling requests always link a next page
    const empty = await get(poll.next!);
    expect(uuids(empty.body)).toEqual([]);
    expect(empty.next).toBeTruthy();

    // Persisted now, published inside the window read above and before e1.
    clock += 30_000;
    okta.appendLogEvent({ ...deactivation(clock - 600_000, 'u2'), uuid: 'late' });
    const polled = await get(empty.next!);
    expect(uuids(polled.body)).toEqual(['late']);
    // The bounded reader moved on to the next window: the late event is not in it.
    const nextWindow = await get(`/api/v1/logs?since=${iso(clock - 90_000)}&until=${iso(clock - 60_000)}`);
    expect(uuids(nextWindow.body)).toEqual([]);
  });

  it('pages a bounded query by published time and ends it', async () => {
    for (let i = 0; i < 3; i++) {
      okta.appendLogEvent({ ...deactivation(clock - (10 - i) * 60_000, `u${i}`), uuid: `e${i}` });
    }
    const page1 = await get(`/api/v1/logs?since=${iso(clock - 3_600_000)}&until=${iso(clock)}&limit=2`);
    expect(uuids(page1.body)).toEqual(['e0', 'e1']);
    const page2 = await get(page1.next!);
    expect(uuids(page2.body)).toEqual(['e2']);
    expect(page2.next).toBeNull();
  });
});

describe('the Okta stand-in: eventually consistent search', () => {
  beforeEach(() => start({ searchLagMs: 30_000 }));

  it('shows a status change in search only after the lag, and at once by id', async () => {
    okta.addUser({ id: '00ua', email: 'a@example.com' });
    okta.setStatus('00ua', 'SUSPENDED');
    expect(((await get('/api/v1/users/00ua')).body as { status: string }).status).toBe('SUSPENDED');
    const search = `/api/v1/users?search=${encodeURIComponent('id eq "00ua"')}`;
    expect(((await get(search)).body as { status: string }[])[0]?.status).toBe('ACTIVE');
    clock += 30_000;
    expect(((await get(search)).body as { status: string }[])[0]?.status).toBe('SUSPENDED');
  });

  it('finds a person or group created during the test only after the lag', async () => {
    okta.addUser({ id: '00unew', email: 'new@example.com' }, { justCreated: true });
    okta.addGroup({ id: '00gnew', name: 'new-team' }, { justCreated: true });
    expect((await search('users', 'profile.email eq "new@example.com"')).body).toEqual([]);
    expect((await search('groups', 'profile.name eq "new-team"')).body).toEqual([]);
    expect((await get('/api/v1/users/new%40example.com')).status).toBe(200);
    clock += 30_000;
    expect((await search('groups', 'profile.name eq "new-team"')).body).toHaveLength(1);
  });
});

describe('the Okta stand-in: q, user groups, concurrency', () => {
  it('never pages a q query: at most the limit (300 by default for groups), no next link', async () => {
    await start({ maxPageSize: 200 });
    for (let i = 0; i < 320; i++) okta.addGroup({ id: `00g${i}`, name: `team-${String(i).padStart(3, '0')}` });
    const limited = await get('/api/v1/groups?q=team&limit=200');
    expect(limited.body).toHaveLength(200);
    expect(limited.next).toBeNull();
    const byDefault = await get('/api/v1/groups?q=team');
    expect(byDefault.body).toHaveLength(300);
    expect(byDefault.next).toBeNull();
    // search pages as usual
    expect((await search('groups', 'profile.name sw "team"', '&limit=200')).next).toBeTruthy();
  });

  it("answers a person's groups in one page, without paging parameters", async () => {
    await start({ maxPageSize: 2 });
    okta.addUser({ id: '00ua', email: 'a@example.com' });
    for (let i = 0; i < 5; i++) okta.addGroup({ id: `00g${i}`, name: `g${i}` }).addMember(`00g${i}`, '00ua');
    const groups = await get('/api/v1/users/00ua/groups');
    expect(groups.body).toHaveLength(5);
    expect(groups.next).toBeNull();
  });

  it('answers a concurrency 429 with limit and remaining 0 when too many requests are in flight', async () => {
    await start({ concurrencyLimit: 2, answerDelayMs: 100 });
    okta.addUser({ id: '00ua', email: 'a@example.com' });
    const answers = await Promise.all([1, 2, 3].map(() => get('/api/v1/users/00ua')));
    const refused = answers.filter((a) => a.status === 429);
    expect(refused).toHaveLength(1);
    expect(refused[0]!.headers.get('x-rate-limit-limit')).toBe('0');
    expect(refused[0]!.headers.get('x-rate-limit-remaining')).toBe('0');
    expect(Number(refused[0]!.headers.get('x-rate-limit-reset'))).toBeGreaterThan(clock / 1000);
    expect(okta.requests.filter((r) => r.concurrency)).toHaveLength(1);
    // Per-minute answers report the bucket as before.
    expect(answers.find((a) => a.status === 200)!.headers.get('x-rate-limit-limit')).toBe('2000');
  });
});
