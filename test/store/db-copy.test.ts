/**
 * `access-bot db copy --to <DATABASE_URL>`: a SQLite deployment with a real history (requests
 * approved through a whole chain, denied, auto-approved, a manual task, extensions, expiry and
 * revocation, emergency access and its review, delegations, an access review) moves into an empty
 * PostgreSQL database with the same audit head, the same evidence, and nothing lost; a database
 * that already holds data is refused.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgStore } from '../../src/adapters/db/postgres/pg-store.js';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import { invokeBreakGlass, reviewBreakGlass } from '../../src/operations/break-glass.js';
import { completeTask } from '../../src/operations/complete-task.js';
import { delegateApprovals } from '../../src/operations/delegations.js';
import { decideReviewItem } from '../../src/operations/reviews/decide-review-item.js';
import { startReview } from '../../src/operations/reviews/start-review.js';
import { extendGrant } from '../../src/operations/extend-grant.js';
import { identifySlackUser } from '../../src/operations/identify-person.js';
import { recordPolicyVersions } from '../../src/operations/record-policy-versions.js';
import { reviewRequest } from '../../src/operations/review-request.js';
import { relinquishGrant } from '../../src/operations/revoke-grant.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { sweep } from '../../src/operations/sweep.js';
import { cli, EXAMPLE_ENV } from '../cli/helpers.js';
import { createHarness, examplePolicies, HELPDESK_REVIEW, ONCALL_BREAK_GLASS } from '../support/lifecycle-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-test-db.js';

let dir: string;
let env: Record<string, string>;
let target: TestDatabase;

const headOf = (stdout: string): string => /head ([0-9a-f]{64})/.exec(stdout)?.[1] ?? 'no head printed';

/** A week of the bot's life on a SQLite file, through the operations. */
async function writeHistory(dbPath: string): Promise<void> {
  const h = createHarness({
    dbPath,
    policies: examplePolicies({ owner: { breakGlass: ONCALL_BREAK_GLASS } }),
    reviews: [HELPDESK_REVIEW],
  });
  try {
    const { deps } = h;
    await recordPolicyVersions(deps);
    const ada = await h.as('ada@example.com');
    const member = await submitRequest(deps, { requester: ada, app: 'github', role: 'member' });
    const owner = await submitRequest(deps, {
      requester: ada,
      app: 'github',
      role: 'owner',
      justification: 'INC-7 "failover" 🙂',
      durationSeconds: 3600,
    });
    if (member.kind !== 'submitted' || owner.kind !== 'submitted') throw new Error('not submitted');
    for (const [email, shorten] of [
      ['marcus@example.com', 1800],
      ['sam@example.com', undefined],
      ['jordan@example.com', undefined],
      ['ciso@example.com', undefined],
    ] as const) {
      await reviewRequest(deps, {
        actor: await h.as(email),
        requestId: owner.request.id,
        decision: 'approve',
        ...(shorten ? { shortenToSeconds: shorten } : {}),
      });
    }
    const alan = await h.as('alan@example.com');
    const denied = await submitRequest(deps, { requester: alan, app: 'aws', role: 'admin', justification: 'curious' });
    if (denied.kind === 'submitted' && denied.request.status === 'pending_approval') {
      await reviewRequest(deps, {
        actor: await h.as('marcus@example.com'),
        requestId: denied.request.id,
        decision: 'deny',
        reason: 'not on call',
      });
    }
    const laptop = await submitRequest(deps, {
      requester: ada,
      app: 'laptop',
      role: 'local-admin',
      justification: 'driver',
    });
    await h.runJobs();
    if (laptop.kind === 'submitted' && laptop.grant) {
      const task = await h.store.getTaskFor(laptop.grant.id, 'grant');
      if (task) await completeTask(deps, { actor: await h.as('ian@example.com'), taskId: task.id });
    }
    const memberGrant = (await h.store.grantForRequest(member.request.id))!;
    await extendGrant(deps, { actor: ada, grantId: memberGrant.id, addSeconds: 86400 });
    h.clock.advance(2 * 3600);
    await sweep(deps, { worker: 'history' });
    await relinquishGrant(deps, { actor: ada, grantId: memberGrant.id });
    await h.runJobs();
    // Emergency access, reviewed; a delegation replaced by another; an access review, decided in part.
    const { grant: emergency } = await invokeBreakGlass(deps, {
      requester: alan,
      app: 'github',
      role: 'owner',
      justification: 'Deploys are stuck',
      incident: 'INC-9',
    });
    await reviewBreakGlass(deps, {
      actor: await h.as('sam@example.com'),
      grantId: emergency.id,
      outcome: 'justified',
    });
    const marcus = await h.as('marcus@example.com');
    const until = (days: number) => new Date(h.clock.now().getTime() + days * 86_400_000).toISOString();
    await delegateApprovals(deps, { actor: marcus, delegateId: 'u-kim', until: until(3) });
    await delegateApprovals(deps, { actor: marcus, delegateId: 'u-sam', until: until(5) });
    const { campaign } = await startReview(deps, {
      reviewId: HELPDESK_REVIEW.id,
      by: { kind: 'system', component: 'history' },
      trigger: 'command_line',
    });
    const items = await h.store.reviewItems(campaign.id, { after: -1, limit: 100 });
    const ians = items.find((i) => i.holder.email === 'ian@example.com')!;
    await decideReviewItem(deps, { actor: await h.as('priya@example.com'), itemId: ians.id, decision: 'keep' });
    await h.runJobs();
    // What the Slack adapter and the schedules keep: a binding, a posted message, a cursor, a lease.
    await identifySlackUser(deps, { slackUserId: 'U0ADA', email: 'ada@example.com' });
    const at = h.clock.now().toISOString();
    await h.store.messages.save({
      slot: `job:approved:${owner.request.id}`,
      channel: 'D0ADA',
      ts: '1700000000.000100',
      requestId: owner.request.id,
      stepIndex: null,
      recipient: 'person:u-ada',
      notificationType: 'request.approved',
      postedAt: at,
      updatedAt: at,
    });
    await h.store.transaction(async (tx) => {
      await tx.setMeta('okta:system-log:cursor', 'https://example.okta.com/api/v1/logs?after=1', at);
      await tx.acquireLease('schedule:reconcile', 'host:1:ab', at, at);
    });
  } finally {
    await h.close();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'access-bot-copy-'));
  env = { ...EXAMPLE_ENV, DATABASE_PATH: join(dir, 'access.db') };
  await writeHistory(env.DATABASE_PATH!);
  target = await createTestDatabase({ empty: true });
});

afterAll(async () => {
  await target?.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('access-bot db copy', () => {
  it('copies every table into an empty database in one pass, and prints both audit heads, which match', async () => {
    const before = await cli(['audit', 'verify'], env);
    expect(before.code).toBe(0);
    const sqliteHead = headOf(before.stdout);

    const copy = await cli(['db', 'copy', '--to', target.url], env);
    expect(copy.stderr).toBe('');
    expect(copy.code).toBe(0);
    expect(copy.stdout).toContain(`audit chain in SQLite: intact`);
    expect(copy.stdout).toContain(`audit chain in PostgreSQL: intact`);
    expect(copy.stdout.match(new RegExp(`head ${sqliteHead}`, 'g'))).toHaveLength(2);
    expect(copy.stdout).toContain('the heads match');
    // The password never reaches the output.
    expect(copy.stdout).not.toContain(new URL(target.url).password);

    // `audit verify` on the PostgreSQL database gives the same head.
    const after = await cli(['audit', 'verify'], { ...env, DATABASE_URL: target.url });
    expect(after.code).toBe(0);
    expect(headOf(after.stdout)).toBe(sqliteHead);
    expect(after.stdout).toBe(before.stdout);
  });

  it('carries every record over unchanged: the same requests, grants, decisions, tasks and jobs, and the same evidence', async () => {
    const sqlite = SqliteStore.open(env.DATABASE_PATH!);
    const postgres = await PgStore.open(target.url);
    try {
      for (const store of [sqlite, postgres]) expect((await store.listRequests({})).length).toBeGreaterThan(3);
      expect(await postgres.listRequests({})).toEqual(await sqlite.listRequests({}));
      expect(await postgres.listGrants({})).toEqual(await sqlite.listGrants({}));
      for (const request of await sqlite.listRequests({})) {
        expect(await postgres.getSteps(request.id)).toEqual(await sqlite.getSteps(request.id));
        expect(await postgres.getDecisions(request.id)).toEqual(await sqlite.getDecisions(request.id));
      }
      for (const grant of await sqlite.listGrants({})) {
        expect(await postgres.getExtensions(grant.id)).toEqual(await sqlite.getExtensions(grant.id));
        expect(await postgres.getTaskFor(grant.id, 'grant')).toEqual(await sqlite.getTaskFor(grant.id, 'grant'));
      }
      expect(await postgres.listJobs({})).toEqual(await sqlite.listJobs({}));
      expect(await postgres.latestPolicyVersions()).toEqual(await sqlite.latestPolicyVersions());
      expect(await postgres.bindingForPerson('u-ada')).toMatchObject({ slackUserId: 'U0ADA' });
      expect(await postgres.bindingForPerson('u-ada')).toEqual(await sqlite.bindingForPerson('u-ada'));
      // Ada's owner request (Alan's emergency access is the other).
      const ownerRequest = (await sqlite.listRequests({ app: 'github', role: 'owner', requesterId: 'u-ada' }))[0]!.id;
      expect(await postgres.messages.forRequest(ownerRequest)).toHaveLength(1);
      expect(await postgres.messages.forRequest(ownerRequest)).toEqual(await sqlite.messages.forRequest(ownerRequest));
      expect(await postgres.metaWithPrefix('okta:')).toEqual(await sqlite.metaWithPrefix('okta:'));
      expect(await postgres.getLease('schedule:reconcile')).toEqual(await sqlite.getLease('schedule:reconcile'));
      // Emergency access and its review, delegations, and an access review with its items and reviewers.
      const reviews = await sqlite.listBreakGlassReviews({});
      expect(reviews.map((r) => r.status)).toEqual(['justified']);
      expect(await postgres.listBreakGlassReviews({})).toEqual(reviews);
      const delegations = await sqlite.listDelegations({});
      expect(delegations.map((d) => [d.delegate.email, d.status, d.endedReason])).toEqual([
        ['sam@example.com', 'active', null],
        ['kim@example.com', 'ended', 'replaced'],
      ]);
      expect(await postgres.listDelegations({})).toEqual(delegations);
      const campaigns = await sqlite.listReviewCampaigns({});
      expect(campaigns).toHaveLength(1);
      expect(await postgres.listReviewCampaigns({})).toEqual(campaigns);
      const items = await sqlite.reviewItems(campaigns[0]!.id, { after: -1, limit: 100 });
      expect(items.map((i) => [i.holder.email, i.decision])).toEqual([
        ['ada@example.com', 'pending'],
        ['ian@example.com', 'keep'],
        ['priya@example.com', 'pending'],
      ]);
      expect(await postgres.reviewItems(campaigns[0]!.id, { after: -1, limit: 100 })).toEqual(items);
      expect(await postgres.reviewersOf(campaigns[0]!.id)).toEqual(await sqlite.reviewersOf(campaigns[0]!.id));
      expect(await postgres.auditEvents({ limit: 10_000 })).toEqual(await sqlite.auditEvents({ limit: 10_000 }));
    } finally {
      await sqlite.close();
      await postgres.close();
    }
    // The auditor's files are the same bytes (each export then logs itself, in its own database).
    for (const kind of ['requests', 'access', 'events', 'policies']) {
      const fromSqlite = join(dir, `${kind}-sqlite.csv`);
      const fromPostgres = join(dir, `${kind}-postgres.csv`);
      expect((await cli(['export', kind, '--out', fromSqlite, '--to', '2026-04-01'], env)).code).toBe(0);
      expect(
        (await cli(['export', kind, '--out', fromPostgres, '--to', '2026-04-01'], { ...env, DATABASE_URL: target.url }))
          .code,
      ).toBe(0);
      expect(readFileSync(fromPostgres, 'utf8')).toBe(readFileSync(fromSqlite, 'utf8'));
    }
  });

  it('goes on where SQLite stopped: new ids after the copied ones, new events chained onto the copied head', async () => {
    const postgres = await PgStore.open(target.url);
    try {
      const head = await postgres.auditHead();
      const lastJob = (await postgres.listJobs({})).at(-1)!.id;
      await postgres.transaction(async (tx) => {
        await tx.enqueueJob('after-copy', { kind: 'provision', grantId: 'grt_x' }, new Date().toISOString());
        await tx.appendAudit({
          at: new Date().toISOString(),
          actor: { kind: 'system', component: 'test' },
          action: 'request.refused',
          details: {},
        });
      });
      expect((await postgres.getJobByKey('after-copy'))!.id).toBeGreaterThan(lastJob);
      expect((await postgres.auditEvents({ limit: 10_000 })).at(-1)).toMatchObject({
        seq: head.seq + 1,
        prevHash: head.hash,
      });
    } finally {
      await postgres.close();
    }
  });

  it('refuses a target that already holds data, and writes nothing to it', async () => {
    const client = new pg.Client({ connectionString: target.url });
    await client.connect();
    const count = async () => Number((await client.query('SELECT count(*) AS n FROM audit_events')).rows[0].n);
    try {
      const before = await count();
      const again = await cli(['db', 'copy', '--to', target.url], env);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(
        /the target database already holds data \(.*audit_events.*\); db copy only writes into an empty database, so nothing was copied/,
      );
      expect(await count()).toBe(before);
    } finally {
      await client.end();
    }
  });

  it('says what is wrong with the command line, without printing a password', async () => {
    expect((await cli(['db', 'copy'], env)).stderr).toContain('name the target with --to DATABASE_URL');
    const wrong = await cli(['db', 'copy', '--to', 'mysql://root:hunter2@db/x'], env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--to must be a PostgreSQL URL');
    expect(wrong.stderr).not.toContain('hunter2');
  });
});
