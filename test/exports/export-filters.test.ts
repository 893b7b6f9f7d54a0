import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExportFilterError, parseExportFilters, parseExportKind } from '../../src/operations/exports/export-filters.js';
import { allEvents, exportOf } from './helpers.js';
import { seedHistory, type SeededHistory } from './seeded-history.js';

function filterError(fn: () => unknown): ExportFilterError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ExportFilterError) return error;
    throw error;
  }
  throw new Error('expected a filter error');
}

describe('parsing export filters', () => {
  it('reads a date as midnight UTC and a time with its zone, normalised to the stored form', () => {
    expect(parseExportFilters('events', { from: '2026-03-01', to: '2026-03-01T10:30+01:00' })).toEqual({
      from: '2026-03-01T00:00:00.000Z',
      to: '2026-03-01T09:30:00.000Z',
      app: null,
      role: null,
      person: null,
    });
    expect(parseExportFilters('events', { from: '2026-03-01T09:30:00.5z' }).from).toBe('2026-03-01T09:30:00.500Z');
  });

  it('refuses a time without a zone, impossible dates, and other text, naming the option', () => {
    expect(filterError(() => parseExportFilters('events', { from: '2026-03-01T09:30:00' }))).toMatchObject({
      field: 'from',
      message: expect.stringContaining('has no time zone'),
    });
    for (const bad of ['2026-02-30', '2026-13-01', '2026-03-01T24:00Z', 'yesterday', '03/01/2026']) {
      expect(filterError(() => parseExportFilters('events', { to: bad }))).toMatchObject({
        field: 'to',
        message: expect.stringContaining(`--to "${bad}" is not a date`),
      });
    }
  });

  it('refuses an empty period, an empty name, and --user for policies', () => {
    expect(
      filterError(() => parseExportFilters('requests', { from: '2026-03-02', to: '2026-03-02' })).message,
    ).toContain('the period is empty');
    expect(filterError(() => parseExportFilters('requests', { from: '2026-03-03', to: '2026-03-02' })).field).toBe(
      'to',
    );
    expect(filterError(() => parseExportFilters('requests', { app: ' ' })).field).toBe('app');
    expect(filterError(() => parseExportFilters('policies', { user: 'ada@example.com' })).message).toContain(
      '--user applies to requests, access, events and reviews',
    );
    expect(filterError(() => parseExportKind('grants')).message).toBe(
      'unknown export "grants": choose one of requests, access, events, policies, reviews',
    );
    expect(filterError(() => parseExportFilters('events', { campaign: 'rvc_1' })).field).toBe('campaign');
    expect(filterError(() => parseExportFilters('reviews', { campaign: 'grt_1' })).message).toContain(
      'is not a review campaign id',
    );
    expect(parseExportFilters('reviews', { campaign: 'rvc_1' }).campaign).toBe('rvc_1');
  });

  it('matches people by email in any case, or by directory id', () => {
    expect(parseExportFilters('access', { user: 'Ada@Example.COM' }).person).toBe('ada@example.com');
    expect(parseExportFilters('access', { user: '00u1AbC' }).person).toBe('00u1AbC');
  });
});

describe('filters applied to a history', () => {
  let s: SeededHistory;
  beforeAll(async () => {
    s = await seedHistory();
  });
  afterAll(async () => await s.h.close());

  const ids = (rows: Record<string, string>[], column: string) => rows.map((r) => r[column]).sort();
  const sorted = (...values: string[]) => [...values].sort();

  it('selects requests by creation time: from inclusive, to exclusive', async () => {
    // deniedAws was submitted at 09:03 (included), cancelledOwner at 09:05 (excluded).
    const { rows } = await exportOf(s.h, 'requests', { from: '2026-03-02T09:03:00Z', to: '2026-03-02T09:05:00Z' });
    expect(ids(rows, 'request_id')).toEqual([s.req.deniedAws]);
    const day1 = await exportOf(s.h, 'requests', { from: '2026-03-02', to: '2026-03-03' });
    expect(ids(day1.rows, 'request_id')).toEqual(
      sorted(
        s.req.shortenedAws,
        s.req.deniedAws,
        s.req.cancelledOwner,
        s.req.expiredOwner,
        s.req.failedMember,
        s.req.expiredBilling,
        s.req.eveBilling,
      ),
    );
  });

  it('selects requests by app, role and person', async () => {
    expect(ids((await exportOf(s.h, 'requests', { app: 'github', role: 'owner' })).rows, 'request_id')).toEqual(
      sorted(s.req.pendingOwner, s.req.cancelledOwner, s.req.expiredOwner),
    );
    const ada = sorted(s.req.shortenedAws, s.req.pendingOwner, s.req.activeAws);
    expect(ids((await exportOf(s.h, 'requests', { user: 'ADA@example.com' })).rows, 'request_id')).toEqual(ada);
    expect(ids((await exportOf(s.h, 'requests', { user: 'u-ada' })).rows, 'request_id')).toEqual(ada);
    // Eve's email is stored in mixed case.
    expect(ids((await exportOf(s.h, 'requests', { user: 'eve@example.com' })).rows, 'request_id')).toEqual([
      s.req.eveBilling,
    ]);
    expect((await exportOf(s.h, 'requests', { app: 'nope' })).rows).toEqual([]);
  });

  it('selects grants open at any time in the period', async () => {
    const { rows } = await exportOf(s.h, 'access', { from: '2026-03-04', to: '2026-03-05' });
    // Not the laptop grant (revoked on 03-03) nor Ada's second aws grant (created on 03-05); the
    // failed grant was never revoked, so it is still open.
    expect(ids(rows, 'grant_id')).toEqual(
      sorted(
        s.grant.shortenedAws,
        s.grant.failedMember,
        s.grant.expiredBilling,
        s.grant.eveBilling,
        s.grant.relinquishedMember,
        s.grant.offboardedMember,
        s.grant.externalTriage,
      ),
    );
    // A grant revoked exactly at `from` was not open in the period; one created exactly at `to` neither.
    const laptop = (await s.h.store.getGrant(s.grant.revokedLaptop))!;
    expect(ids((await exportOf(s.h, 'access', { from: laptop.revokedAt!, app: 'laptop' })).rows, 'grant_id')).toEqual(
      [],
    );
    expect(
      ids(
        (await exportOf(s.h, 'access', { from: '2026-03-03', to: laptop.createdAt, app: 'laptop' })).rows,
        'grant_id',
      ),
    ).toEqual([]);
    expect(ids((await exportOf(s.h, 'access', { user: 'alan@example.com' })).rows, 'grant_id')).toEqual([
      s.grant.relinquishedMember,
    ]);
    expect(ids((await exportOf(s.h, 'access', { role: 'triage' })).rows, 'grant_id')).toEqual([s.grant.externalTriage]);
  });

  it('selects events by time, by the app of their request or grant, and by person', async () => {
    const stored = await allEvents(s.h);
    const day2 = await exportOf(s.h, 'events', { from: '2026-03-03', to: '2026-03-04' });
    expect(day2.rows.map((r) => Number(r.seq))).toEqual(
      stored.filter((e) => e.at >= '2026-03-03' && e.at < '2026-03-04').map((e) => e.seq),
    );
    expect(day2.rows.length).toBeGreaterThan(10);

    const laptopRequest = s.req.revokedLaptop;
    const laptopGrant = s.grant.revokedLaptop;
    const laptop = await exportOf(s.h, 'events', { app: 'laptop' });
    expect(laptop.rows.map((r) => Number(r.seq))).toEqual(
      stored.filter((e) => e.requestId === laptopRequest || e.grantId === laptopGrant).map((e) => e.seq),
    );
    expect(laptop.rows.map((r) => r.action)).toContain('task.completed');

    const marcusRequests = new Set((await s.h.store.listRequests({ requesterId: 'u-marcus' })).map((r) => r.id));
    const marcus = await exportOf(s.h, 'events', { user: 'Marcus@example.com' });
    const expected = stored.filter(
      (e) =>
        (e.actor.kind === 'person' && e.actor.email === 'marcus@example.com') ||
        (e.requestId !== null && marcusRequests.has(e.requestId)),
    );
    expect(marcus.rows.map((r) => Number(r.seq))).toEqual(expected.map((e) => e.seq));
    expect(marcus.rows.some((r) => r.action === 'step.denied')).toBe(true); // his decision on Alan's request
    expect(marcus.rows.some((r) => r.action === 'request.expired')).toBe(true); // his own request, the sweep's doing
    expect((await exportOf(s.h, 'events', { user: 'u-marcus' })).rows.map((r) => r.seq)).toEqual(
      expected.map((e) => String(e.seq)),
    );
  });

  it('selects the policy versions in force during the period', async () => {
    const now = await exportOf(s.h, 'policies', { from: '2026-03-05' });
    expect(now.rows.map((r) => r.current)).toEqual(Array(6).fill('true'));
    const before = await exportOf(s.h, 'policies', { from: '2026-03-02', to: '2026-03-03' });
    expect(before.rows).toHaveLength(6);
    expect(before.rows.find((r) => r.policy_name === 'github-owner-jit')).toMatchObject({
      in_force_until: '2026-03-04T08:00:00.000Z',
      current: 'false',
    });
    // The change day sees both owner versions.
    const change = await exportOf(s.h, 'policies', {
      from: '2026-03-04',
      to: '2026-03-05',
      app: 'github',
      role: 'owner',
    });
    expect(change.rows.map((r) => r.first_seen_at)).toEqual(['2026-03-01T08:00:00.000Z', '2026-03-04T08:00:00.000Z']);
    expect((await exportOf(s.h, 'policies', { to: '2026-03-01' })).rows).toEqual([]);
  });
});
