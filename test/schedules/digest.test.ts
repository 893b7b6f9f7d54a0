import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestBlocks } from '../../blocks/digest.js';
import { LIMITS, blockText } from '../../blocks/limits.js';
import { PermanentError, TransientError } from '../../src/domain/errors.js';
import { digestText } from '../../src/cli/commands/digest.js';
import { buildDigest } from '../../src/operations/build-digest.js';
import { extendGrant } from '../../src/operations/extend-grant.js';
import { reconcile } from '../../src/operations/reconcile.js';
import { relinquishGrant, revokeGrantAsAdmin } from '../../src/operations/revoke-grant.js';
import { reviewRequest } from '../../src/operations/review-request.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { sweep } from '../../src/operations/sweep.js';
import { checkMessageBlocks } from '../../src/sandbox/slack-api/block-kit-limits.js';
import { createHarness, type Harness } from '../support/lifecycle-harness.js';
import { person, seedGrants } from './support/seed.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
  let n = 0;
  h.deps.ids = { next: (prefix) => `${prefix}_${String(++n).padStart(4, '0')}` };
});
afterEach(async () => await h.close());

const DAY = 86_400;
const sweepNow = () => sweep(h.deps, { worker: 'test', baseDelaySeconds: 1, random: () => 0.999999 });

async function grantOf(email: string, app: string, role: string, durationSeconds?: number) {
  const result = await submitRequest(h.deps, {
    requester: await h.as(email),
    app,
    role,
    justification: 'work',
    durationSeconds,
  });
  if (result.kind !== 'submitted') throw new Error(result.kind);
  if (result.request.status === 'pending_approval')
    await reviewRequest(h.deps, {
      actor: await h.as('marcus@example.com'),
      requestId: result.request.id,
      decision: 'approve',
    });
  await h.runJobs();
  return (await h.store.grantForRequest(result.request.id))!;
}

/** Mon 2 Mar 2026 09:00 UTC: two days before the digest's week, then the week itself. */
async function seedWeek() {
  // Before the week: granted and revoked, so none of it is "this week".
  const old = await grantOf('ada@example.com', 'aws', 'admin');
  h.clock.advance(3600);
  await sweepNow();
  expect((await h.store.getGrant(old.id))!.status).toBe('revoked');
  h.clock.set('2026-03-04T10:00:00.000Z'); // the week starts Wed 4 Mar 09:00 UTC

  const jordan = await grantOf('jordan@example.com', 'github', 'member', 7 * DAY);
  for (let i = 0; i < 3; i++) {
    h.clock.advance(3600);
    await extendGrant(h.deps, { actor: await h.as('jordan@example.com'), grantId: jordan.id, addSeconds: DAY });
  }
  const kim = await grantOf('kim@example.com', 'billing', 'viewer');
  await relinquishGrant(h.deps, { actor: await h.as('kim@example.com'), grantId: kim.id });
  await h.runJobs();

  h.clock.set('2026-03-05T10:00:00.000Z');
  const ian = await grantOf('ian@example.com', 'github', 'member');
  await revokeGrantAsAdmin(h.deps, {
    actor: await h.as('priya@example.com'),
    grantId: ian.id,
    reason: 'left the <!channel> project',
  });
  await h.runJobs();

  h.clock.set('2026-03-06T10:00:00.000Z');
  h.directory.failNext('addToGroup', new PermanentError('group aws-admins is read-only'));
  await grantOf('alan@example.com', 'aws', 'admin');

  h.clock.set('2026-03-07T10:00:00.000Z');
  const priya = await grantOf('priya@example.com', 'github', 'member');
  await h.yaml.removeFromGroup('u-priya', 'github-members');
  await h.yaml.addToGroup('u-sam', 'github-owners');
  h.clock.advance(60);
  await reconcile(h.deps);

  h.clock.set('2026-03-10T10:00:00.000Z');
  const marcus = await grantOf('marcus@example.com', 'github', 'member');
  h.directory.failNext('removeFromGroup', new TransientError('Okta 503'), 1000);
  await relinquishGrant(h.deps, { actor: await h.as('marcus@example.com'), grantId: marcus.id });
  for (let i = 0; i < 4; i++) {
    await sweepNow();
    h.clock.advance(60);
  }

  // Sensitive access held at digest time.
  h.clock.set('2026-03-11T06:00:00.000Z');
  const ada = await grantOf('ada@example.com', 'aws', 'admin', 4 * 3600);
  const alan = await grantOf('alan@example.com', 'github', 'owner', 3600); // auto-approved: on call
  h.clock.set('2026-03-11T07:30:00.000Z');
  return { jordan, kim, ian, priya, marcus, ada, alan };
}

describe('the weekly digest', () => {
  it('reports a seeded week: sensitive access now, activity, failures, overdue revocations, repeated extensions, drift, audit head', async () => {
    const g = await seedWeek();
    const now = new Date('2026-03-11T08:00:00.000Z'); // Wed 09:00 in Berlin
    const digest = await buildDigest(h.deps, now);

    expect(digest).toMatchObject({
      periodStart: '2026-03-04T08:00:00.000Z',
      periodEnd: '2026-03-11T08:00:00.000Z',
      timezone: 'Europe/Berlin',
    });
    expect(
      digest.sensitiveHolders.map((s) => [s.person.email, s.appName, s.roleName, s.since, s.until, s.approvedBy]),
    ).toEqual([
      [
        'ada@example.com',
        'AWS',
        'Administrator',
        '2026-03-11T06:00:00.000Z',
        '2026-03-11T10:00:00.000Z',
        ['Marcus Chen'],
      ],
      ['alan@example.com', 'GitHub', 'Organization owner', '2026-03-11T06:00:00.000Z', '2026-03-11T07:00:00.000Z', []],
    ]);
    expect(digest.granted.map((l) => l.person.email)).toEqual([
      'jordan@example.com',
      'kim@example.com',
      'ian@example.com',
      'priya@example.com',
      'marcus@example.com',
      'ada@example.com',
      'alan@example.com',
    ]);
    expect(digest.extended.map((l) => [l.grantId, l.detail])).toEqual([
      [g.jordan.id, '+1 day'],
      [g.jordan.id, '+1 day'],
      [g.jordan.id, '+1 day'],
    ]);
    expect(digest.revoked.map((l) => [l.person.email, l.detail])).toEqual([
      ['kim@example.com', 'relinquished'],
      ['ian@example.com', 'revoked'],
      ['priya@example.com', 'removed_externally'],
    ]);
    expect(digest.revokedByReason).toEqual({ relinquished: 1, revoked: 1, removed_externally: 1 });
    expect(digest.failures.provisioningFailed.map((l) => [l.person.email, l.detail])).toEqual([
      ['alan@example.com', 'group aws-admins is read-only'],
    ]);
    const failures = (await h.store.getGrant(g.marcus.id))!.failures; // the sweeps' attempts and the later job runs'
    expect(failures).toBeGreaterThanOrEqual(4);
    expect(digest.failures.revocationFailed.map((l) => [l.grantId, l.attempts, l.detail])).toEqual([
      [g.marcus.id, failures, 'Okta 503'],
    ]);
    expect(digest.overdueRevocations.map((o) => [o.grantId, o.failures, o.detail])).toEqual([
      [g.marcus.id, failures, 'relinquished'],
    ]);
    expect(digest.repeatedExtensions.map((r) => [r.person.email, r.appName, r.roleName, r.count])).toEqual([
      ['jordan@example.com', 'GitHub', 'Member', 3],
    ]);
    expect(digest.drift.detected.map((d) => [d.group, d.person.email])).toEqual(
      expect.arrayContaining([
        ['github-owners', 'sam@example.com'],
        ['github-members', 'alan@example.com'], // a member from before the bot, never granted by it
      ]),
    );
    expect(digest.drift.removedExternally.map((l) => l.person.email)).toEqual(['priya@example.com']);
    expect(digest.drift.openNow).toBe(digest.drift.detected.length);
    expect(digest.auditHead).toEqual(await h.store.auditHead());
    // Nothing from before the week.
    expect(digest.revoked.some((l) => l.detail === 'expired')).toBe(false);

    const message = digestBlocks(digest);
    expect(checkMessageBlocks(message.blocks)).toEqual([]);
    const all = JSON.stringify(message.blocks);
    expect(all).toContain('Revocations overdue (1)');
    expect(all).toContain('Marcus Chen · GitHub Member');
    expect(all).toContain(digest.auditHead.hash);
    expect(all).not.toContain('<!channel>');
    expect(message.text).toContain('2 sensitive grants active');
    await expect(JSON.stringify(message, null, 2)).toMatchFileSnapshot('./__golden__/digest-seeded-week.json');

    const text = digestText(digest);
    expect(text).toContain('Sensitive access now (2)');
    expect(text).toContain(`Audit log head: ${digest.auditHead.hash}`);
  });

  it('fits 5,000 sensitive grants and a busy week in one message of at most 50 blocks', async () => {
    const now = Date.parse('2026-03-09T08:00:00.000Z');
    const iso = (ms: number) => new Date(ms).toISOString();
    await seedGrants(
      h.store,
      Array.from({ length: 5000 }, (_, i) => ({
        id: `grt_s${String(i).padStart(5, '0')}`,
        holder: { ...person(i), name: `Person ${i} with a rather long name <@U123> & co` },
        app: i % 2 ? 'aws' : 'github',
        role: i % 2 ? 'admin' : 'owner',
        group: i % 2 ? 'aws-admins' : 'github-owners',
        activatedAt: iso(now - (i % 6) * DAY * 1000 - 1000),
        expiresAt: iso(now + 3600_000),
      })),
    );
    await h.store.transaction(async (tx) => {
      for (let i = 0; i < 3000; i++) {
        await tx.appendAudit({
          at: iso(now - 3600_000),
          actor: { kind: 'system', component: 'reconcile' },
          action: 'drift.detected',
          details: { group: `group-${i % 40}`, person: { directoryId: `u-d${i}`, email: `d${i}@example.com` } },
        });
      }
    });
    const digest = await buildDigest(h.deps, new Date(now));
    expect(digest.sensitiveHolders).toHaveLength(5000);
    expect(digest.granted).toHaveLength(5000);
    expect(digest.drift.detected).toHaveLength(3000);
    const message = digestBlocks(digest);
    expect(message.blocks.length).toBeLessThanOrEqual(50);
    expect(checkMessageBlocks(message.blocks)).toEqual([]);
    // Within the total Slack refuses above (msg_blocks_too_long), with room to spare.
    expect(blockText(message.blocks)).toBeLessThanOrEqual(LIMITS.messageBlocksTextBudget);
    const all = JSON.stringify(message.blocks);
    expect(all).toContain('Sensitive access now (5000)');
    expect(all).toMatch(/and 4,99\d more in the CSV/);
    expect(all).not.toContain('<@U123>'); // typed names cannot mention anyone
    expect(all).toContain('AWS Administrator 2,500');
  });
});
