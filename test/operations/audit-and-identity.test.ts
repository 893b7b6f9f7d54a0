import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Catalog } from '../../src/domain/catalog.js';
import { ReviewCatalog, type LoadedReview } from '../../src/domain/reviews/review-definition.js';
import { reviewVersion } from '../../src/domain/reviews/review-version.js';
import { verifyChain, type AuditEvent } from '../../src/domain/audit.js';
import { AccessError } from '../../src/domain/errors.js';
import { identifySlackUser, unbindIdentity } from '../../src/operations/identify-person.js';
import { recordPolicyVersions } from '../../src/operations/record-policy-versions.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { reviewRequest } from '../../src/operations/review-request.js';
import { createHarness, examplePolicies, HELPDESK_REVIEW, type Harness } from '../support/lifecycle-harness.js';
import { withRawSqlite } from '../support/raw-sqlite.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => await h.close());

async function someHistory() {
  await recordPolicyVersions(h.deps);
  const result = await submitRequest(h.deps, {
    requester: await h.as('ada@example.com'),
    app: 'aws',
    role: 'admin',
    justification: 'incident',
  });
  if (result.kind !== 'submitted') throw new Error(result.kind);
  await reviewRequest(h.deps, {
    actor: await h.as('marcus@example.com'),
    requestId: result.request.id,
    decision: 'approve',
  });
  await h.runJobs();
}

const chain = async () => verifyChain(await h.store.auditEvents({ limit: 100_000 }));
const raw = (sql: string) => withRawSqlite(h.dbPath, (db) => db.prepare(sql).run());

describe('the audit chain', () => {
  it('verifies an untouched log and reports its head', async () => {
    await someHistory();
    const result = await chain();
    expect(result.ok).toBe(true);
    expect(result.count).toBeGreaterThan(8);
    expect(result.head).toBe((await h.store.auditHead()).hash);
    expect(verifyChain(await h.store.auditEvents({ limit: 100_000 }), result.head).ok).toBe(true);
  });

  it('names an event whose content was changed', async () => {
    await someHistory();
    raw(`update audit_events set details = json_set(details, '$.justification', 'nothing to see') where seq = 3`);
    const result = await chain();
    expect(result.ok).toBe(false);
    expect(result.problem).toMatchObject({ kind: 'changed', seq: 3 });
  });

  it('names a removed event', async () => {
    await someHistory();
    raw('delete from audit_events where seq = 4');
    expect((await chain()).problem).toMatchObject({ kind: 'removed', seq: 4 });
  });

  it('names reordered events', async () => {
    await someHistory();
    // Swap the stored positions of events 4 and 5, content and hashes intact.
    raw('update audit_events set id = -1 where seq = 4');
    raw('update audit_events set id = (select id from audit_events where seq = 5) - 0 where seq = 4 and 0');
    const five = withRawSqlite(
      h.dbPath,
      (db) => db.prepare('select id from audit_events where seq = 5').get() as { id: number },
    );
    raw(`update audit_events set id = -2 where seq = 5`);
    raw(`update audit_events set id = ${five.id} where seq = 4`);
    raw(`update audit_events set id = ${five.id - 1} where seq = 5`);
    expect((await chain()).problem).toMatchObject({ kind: 'reordered', seq: 4 });
  });

  it('catches a truncated log against a head printed earlier', async () => {
    await someHistory();
    const head = (await chain()).head;
    const last = (await h.store.auditHead()).seq;
    raw(`delete from audit_events where seq = ${last}`);
    expect((await chain()).ok).toBe(true); // nothing inside the chain is wrong...
    expect(verifyChain(await h.store.auditEvents({ limit: 100_000 }), head).problem?.kind).toBe('head_mismatch'); // ...but the head is gone
  });

  it('commits each state change and its audit event together, or neither', async () => {
    const before = await h.store.auditHead();
    await expect(
      h.store.transaction(async (tx) => {
        await tx.appendAudit({
          at: h.clock.now().toISOString(),
          actor: { kind: 'system', component: 'test' },
          action: 'request.refused',
          details: {},
        });
        throw new Error('boom after the audit write');
      }),
    ).rejects.toThrow('boom');
    expect(await h.store.auditHead()).toEqual(before);
  });

  it('hashes every field into the chain (a changed actor breaks it)', async () => {
    await someHistory();
    raw(`update audit_events set actor = json_set(actor, '$.email', 'someone@example.com') where seq = 5`);
    expect((await chain()).problem).toMatchObject({ kind: 'changed', seq: 5 });
    const events: AuditEvent[] = await h.store.auditEvents({ limit: 10 });
    expect(events[0]!.prevHash).toBe('0'.repeat(64));
  });
});

describe('policy versions', () => {
  it('logs new policies once, then a change with what changed', async () => {
    const first = await recordPolicyVersions(h.deps);
    expect(first.added).toContain('github-owner-jit');
    expect((await recordPolicyVersions(h.deps)).added).toEqual([]);
    h.deps.catalog = new Catalog(
      examplePolicies({ owner: { duration: { defaultSeconds: 3600, maxSeconds: 8 * 3600 } } }),
    );
    const third = await recordPolicyVersions(h.deps);
    expect(third.changed).toEqual(['github-owner-jit']);
    const changed = (await h.store.auditEvents({ limit: 1000 })).find((e) => e.action === 'policy.changed')!;
    expect(changed.details.changes).toEqual([{ path: 'role.duration.max', before: '4h', after: '8h' }]);
    const versions = withRawSqlite(
      h.dbPath,
      (db) =>
        db.prepare(`select count(*) as n from policy_versions where policy_name = 'github-owner-jit'`).get() as {
          n: number;
        },
    );
    expect(versions.n).toBe(2);
  });
});

describe('review definition versions', () => {
  const REVIEW: LoadedReview = {
    ...HELPDESK_REVIEW,
    scope: { roles: [{ app: 'github', role: 'owner' }], groups: ['it-helpdesk'] },
  };
  const reviewEvents = async () =>
    (await h.store.auditEvents({ limit: 1000 })).filter((e) => e.action.startsWith('reviewDefinition.'));
  const versionsOf = (name: string) =>
    withRawSqlite(h.dbPath, (db) =>
      db
        .prepare(
          `select version, app, role, first_seen_at, last_seen_at from policy_versions where policy_name = ? order by first_seen_at`,
        )
        .all(name),
    ) as {
      version: string;
      app: string;
      role: string;
      first_seen_at: string;
      last_seen_at: string;
    }[];
  /** A start of the bot an hour after the last, with these review files. */
  const start = async (...reviews: LoadedReview[]) => {
    h.clock.advance(3600);
    h.deps.reviews = new ReviewCatalog(reviews);
    return (await recordPolicyVersions(h.deps)).reviews;
  };

  it('records each version beside the policies and logs a change once, with what changed', async () => {
    expect(await start(REVIEW)).toEqual({ added: ['helpdesk'], changed: [], retired: [], unchanged: [] });
    expect(await start(REVIEW)).toEqual({ added: [], changed: [], retired: [], unchanged: ['helpdesk'] });
    const [added] = await reviewEvents();
    expect(added).toMatchObject({
      action: 'reviewDefinition.added',
      actor: { kind: 'system' },
      details: { review: 'helpdesk', version: reviewVersion(REVIEW) },
    });
    expect(await reviewEvents()).toHaveLength(1);

    const longer = { ...REVIEW, dueSeconds: 10 * 86_400 };
    expect((await start(longer)).changed).toEqual(['helpdesk']);
    expect((await start(longer)).unchanged).toEqual(['helpdesk']);
    const events = await reviewEvents();
    expect(events.map((e) => e.action)).toEqual(['reviewDefinition.added', 'reviewDefinition.changed']);
    expect(events[1]!.details).toMatchObject({
      review: 'helpdesk',
      from: reviewVersion(REVIEW),
      to: reviewVersion(longer),
      changes: [{ path: 'due', before: '1w', after: '10d' }],
    });

    const rows = versionsOf('review:helpdesk');
    expect(rows.map((r) => r.version)).toEqual([reviewVersion(REVIEW), reviewVersion(longer)]);
    expect(rows.every((r) => r.app === '' && r.role === '')).toBe(true);
    expect(rows[1]!.first_seen_at).toBe('2026-03-02T12:00:00.000Z');
    expect(rows[1]!.last_seen_at).toBe('2026-03-02T13:00:00.000Z');
    // The policies are versioned as before, untouched by the reviews beside them.
    expect((await h.store.auditEvents({ limit: 1000 })).filter((e) => e.action === 'policy.changed')).toEqual([]);
  });

  it('logs a review no longer loaded as retired once, and one loaded again as added', async () => {
    await start(REVIEW);
    expect((await start()).retired).toEqual(['helpdesk']);
    expect((await start()).retired).toEqual([]);
    expect((await start(REVIEW)).added).toEqual(['helpdesk']);
    expect((await reviewEvents()).map((e) => [e.action, e.details.review])).toEqual([
      ['reviewDefinition.added', 'helpdesk'],
      ['reviewDefinition.retired', 'helpdesk'],
      ['reviewDefinition.added', 'helpdesk'],
    ]);
    expect(verifyChain(await h.store.auditEvents({ limit: 100_000 })).ok).toBe(true);
  });
});

describe('identity binding', () => {
  it('binds a Slack user to the directory by email once, case-insensitively, and logs it', async () => {
    const first = await identifySlackUser(h.deps, { slackUserId: 'U0ADA', email: 'ADA@Example.com' });
    expect(first.person.id).toBe('u-ada');
    expect(await h.store.bindingForSlackUser('U0ADA')).toMatchObject({ directoryId: 'u-ada' });
    await identifySlackUser(h.deps, { slackUserId: 'U0ADA', email: 'ada@example.com' });
    expect((await h.store.auditEvents()).filter((e) => e.action === 'identity.bound')).toHaveLength(1);
  });

  it('binds a person whose first two clicks arrive at once (two listeners, or two replicas) once, as themselves', async () => {
    const [a, b] = await Promise.all([
      identifySlackUser(h.deps, { slackUserId: 'U0ADA', email: 'ada@example.com' }),
      identifySlackUser(h.deps, { slackUserId: 'U0ADA', email: 'ada@example.com' }),
    ]);
    expect([a.person.id, b.person.id]).toEqual(['u-ada', 'u-ada']);
    const events = (await h.store.auditEvents()).map((e) => e.action);
    expect(events.filter((e) => e === 'identity.bound')).toHaveLength(1);
    expect(events).not.toContain('identity.conflicted');
  });

  it('refuses a second Slack user claiming a bound person, and an email that no longer matches', async () => {
    await identifySlackUser(h.deps, { slackUserId: 'U0ADA', email: 'ada@example.com' });
    const conflict = await identifySlackUser(h.deps, { slackUserId: 'U0EVIL', email: 'ada@example.com' }).catch(
      (e: AccessError) => e,
    );
    expect(conflict).toBeInstanceOf(AccessError);
    expect((conflict as AccessError).code).toBe('identity_conflict');
    expect((await h.store.auditEvents()).some((e) => e.action === 'identity.conflicted')).toBe(true);
    const mismatch = await identifySlackUser(h.deps, { slackUserId: 'U0ADA', email: 'alan@example.com' }).catch(
      (e: AccessError) => e,
    );
    expect((mismatch as AccessError).code).toBe('identity_mismatch');
  });

  it('refuses an email that matches several directory people', async () => {
    await h.close();
    h = createHarness({
      directory: (await import('../../src/adapters/directory/yaml-directory.js')).YamlDirectory.fromData({
        people: [
          { id: 'a1', email: 'twin@example.com', name: 'Twin A' },
          { id: 'a2', email: 'TWIN@example.com', login: 'twin2@example.com', name: 'Twin B' },
        ],
        groups: {},
      }),
    });
    const error = await identifySlackUser(h.deps, { slackUserId: 'U1', email: 'twin@example.com' }).catch(
      (e: AccessError) => e,
    );
    expect((error as AccessError).code).toBe('identity_ambiguous');
    expect(await h.store.bindingForSlackUser('U1')).toBeUndefined();
  });

  it('lets an admin unbind, audited, so the next action matches again', async () => {
    await identifySlackUser(h.deps, { slackUserId: 'U0ADA', email: 'ada@example.com' });
    await expect(
      unbindIdentity(h.deps, { admin: await h.as('alan@example.com'), slackUserId: 'U0ADA', reason: 'x' }),
    ).rejects.toMatchObject({ code: 'not_admin' });
    await unbindIdentity(h.deps, {
      admin: await h.as('priya@example.com'),
      slackUserId: 'U0ADA',
      reason: 'Slack account replaced',
    });
    expect(await h.store.bindingForSlackUser('U0ADA')).toBeUndefined();
    const unbound = (await h.store.auditEvents()).find((e) => e.action === 'identity.unbound')!;
    expect(unbound.details).toMatchObject({ slackUserId: 'U0ADA', reason: 'Slack account replaced' });
    expect((await identifySlackUser(h.deps, { slackUserId: 'U0NEWADA', email: 'ada@example.com' })).person.id).toBe(
      'u-ada',
    );
  });
});
