/**
 * The foundation lifecycle with OktaDirectory in place of the YAML directory: the same
 * operations, against the Okta stand-in over real HTTP through the real SDK.
 */
import { afterAll, beforeAll, beforeEach, afterEach, describe, expect, it } from 'vitest';
import { checkStatuses } from '../../src/adapters/okta/system-log-offboarding.js';
import type { OktaDirectory } from '../../src/adapters/okta/okta-directory.js';
import { reviewRequest } from '../../src/operations/review-request.js';
import { offboardPerson, relinquishGrant } from '../../src/operations/revoke-grant.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { sweep } from '../../src/operations/sweep.js';
import { reconcile } from '../../src/operations/reconcile.js';
import {
  oktaSystemLogSource,
  oktaStatusCheck,
  SYSTEM_LOG_CURSOR_KEY,
} from '../../src/adapters/okta/okta-offboarding.js';
import { identifySlackUser } from '../../src/operations/identify-person.js';
import { forOperation } from '../../src/operations/operation-scope.js';
import { COMPANY, createHarness, type Harness } from '../support/lifecycle-harness.js';
import { directoryFor } from './fixtures.js';
import { OktaStandIn } from './okta-stand-in.js';

let okta: OktaStandIn;
let url: string;
/** Okta's clock runs ahead by this much: a test lets its search index catch up by moving it. */
let oktaAhead = 0;
const SEARCH_LAG_MS = 5_000;
let directory: OktaDirectory;
let h: Harness;
const groupId = (name: string) => `00g-${name}`;

beforeAll(async () => {
  okta = new OktaStandIn({ now: () => Date.now() + oktaAhead, searchLagMs: SEARCH_LAG_MS });
  url = (await okta.start()).url;
});
afterAll(() => okta.stop());

beforeEach(() => {
  // The harness's example company, as an Okta org.
  for (const person of COMPANY.people) {
    const [firstName, ...rest] = person.name.split(' ');
    okta.addUser({
      id: person.id,
      email: person.email,
      firstName,
      lastName: rest.join(' '),
      title: person.title,
      status: (person as { status?: string }).status === 'deprovisioned' ? 'DEPROVISIONED' : 'ACTIVE',
      profile: { managerId: (person as { manager?: string }).manager ?? null },
    });
  }
  for (const [name, group] of Object.entries(COMPANY.groups)) {
    okta.addGroup({ id: groupId(name), name });
    for (const email of group.members) okta.addMember(groupId(name), COMPANY.people.find((p) => p.email === email)!.id);
  }
  directory = directoryFor(url);
  h = createHarness({ directory });
});
afterEach(async () => {
  await h.close();
  for (const person of COMPANY.people) okta.removeUser(person.id);
  for (const name of Object.keys(COMPANY.groups)) okta.removeGroup(groupId(name));
});

const sweepNow = () => sweep(h.deps, { worker: 'test', baseDelaySeconds: 1, random: () => 0.999999 });

describe('the lifecycle on Okta', () => {
  it('walks the chain with managers and groups read from Okta, provisions into the Okta group, and revokes on expiry', async () => {
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'github',
      role: 'owner',
      durationSeconds: 3600,
      justification: 'rotate keys',
    });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    expect((await h.store.getSteps(result.request.id))[0]!.approvers.map((a) => a.email)).toEqual([
      'marcus@example.com',
    ]); // managerId from the Okta profile
    for (const email of ['marcus@example.com', 'sam@example.com', 'kim@example.com', 'ciso@example.com']) {
      await reviewRequest(h.deps, { actor: await h.as(email), requestId: result.request.id, decision: 'approve' });
    }
    await h.runJobs();
    const grant = (await h.store.grantForRequest(result.request.id))!;
    expect(grant.status).toBe('active');
    expect(okta.isMember(groupId('github-owners'), 'u-ada')).toBe(true);

    h.clock.advance(3600);
    await sweepNow();
    expect(await h.store.getGrant(grant.id)).toMatchObject({ status: 'revoked', revocationReason: 'expired' });
    expect(okta.isMember(groupId('github-owners'), 'u-ada')).toBe(false);
    // Each membership change was read back from Okta before it was recorded.
    expect(okta.count(/\/api\/v1\/users\/u-ada\/groups/, 'GET')).toBeGreaterThanOrEqual(2);
  });

  it('keeps a membership the person had in Okta before the grant', async () => {
    const result = await submitRequest(h.deps, {
      requester: await h.as('alan@example.com'),
      app: 'github',
      role: 'member',
    });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    await h.runJobs();
    const grant = (await h.store.grantForRequest(result.request.id))!;
    expect(grant.alreadyMember).toBe(true);
    await relinquishGrant(h.deps, { actor: await h.as('alan@example.com'), grantId: grant.id });
    await h.runJobs();
    expect((await h.store.getGrant(grant.id))!.status).toBe('revoked');
    expect(okta.isMember(groupId('github-members'), 'u-alan')).toBe(true);
    expect(okta.count(/\/api\/v1\/groups\/[^/]+\/users\/u-alan/, 'DELETE')).toBe(0);
  });

  it('offboards a person Okta reports as deactivated, found by the status check', async () => {
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'github',
      role: 'member',
    });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    await h.runJobs();
    okta.setStatus('u-ada', 'DEPROVISIONED');
    oktaAhead += SEARCH_LAG_MS; // search shows it once its index caught up
    const holders = [...new Set((await h.store.listGrants({ status: ['active'] })).map((g) => g.holder.directoryId))];
    const gone = await checkStatuses(directory, holders);
    expect(gone).toEqual([{ id: 'u-ada', status: 'deprovisioned' }]);
    for (const person of gone)
      await offboardPerson(h.deps, { directoryId: person.id, source: 'okta status check', status: person.status });
    await h.runJobs();
    expect(await h.store.grantForRequest(result.request.id)).toMatchObject({
      status: 'revoked',
      revocationReason: 'offboarded',
    });
    expect(okta.isMember(groupId('github-members'), 'u-ada')).toBe(false);
  });

  it('retries a revocation while Okta answers 503, and records it only once Okta confirms', async () => {
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'github',
      role: 'member',
    });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    await h.runJobs();
    const grant = (await h.store.grantForRequest(result.request.id))!;
    okta.failNext(/\/api\/v1\/groups\/[^/]+\/users\/u-ada/, 6, 503, { method: 'DELETE' }); // 4 attempts in the gate, then the job's retry
    await relinquishGrant(h.deps, { actor: await h.as('ada@example.com'), grantId: grant.id });
    await h.runJobs();
    expect((await h.store.getGrant(grant.id))!.status).toBe('revoking');
    expect(okta.isMember(groupId('github-members'), 'u-ada')).toBe(true);
    h.clock.advance(3600);
    await h.runJobs();
    expect((await h.store.getGrant(grant.id))!.status).toBe('revoked');
    expect(okta.isMember(groupId('github-members'), 'u-ada')).toBe(false);
  });

  it('offboards through the System Log on the reconcile schedule, keeping its cursor', async () => {
    // Okta refuses a `since` more than 180 days old, so this test runs at today's date.
    const now = Date.now();
    h.clock.set(new Date(now).toISOString());
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'github',
      role: 'member',
    });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    await h.runJobs();
    okta.setStatus('u-ada', 'DEPROVISIONED');
    okta.appendLogEvent({
      published: new Date(now - 30 * 60_000).toISOString(),
      eventType: 'user.lifecycle.deactivate',
      target: [{ id: 'u-ada', type: 'User', alternateId: 'ada@example.com' }],
    });
    // Only the log: the status check is switched off to prove the log alone finds her.
    const noStatusCheck = { name: 'none', live: true, collect: async () => [] };
    const summary = await reconcile(h.deps, {
      statusCheck: noStatusCheck,
      offboardingSources: [oktaSystemLogSource(directory)],
    });
    expect(summary.offboarding.offboarded).toBe(1);
    await h.runJobs();
    expect(await h.store.grantForRequest(result.request.id)).toMatchObject({
      status: 'revoked',
      revocationReason: 'offboarded',
    });
    const cursor = await h.store.getMeta(SYSTEM_LOG_CURSOR_KEY);
    expect(cursor).toBeTruthy();
    // Polling as Okta documents it: one request with since, then Okta's next links only.
    const logs = okta.matching('/api/v1/logs');
    expect(logs[0]!.query).toMatchObject({ sortOrder: 'ASCENDING' });
    expect(logs[0]!.query.until).toBeUndefined();
    expect(logs.slice(1).every((r) => r.query.after !== undefined && r.query.since === undefined)).toBe(true);
    expect(logs.every((r) => r.status === 200)).toBe(true);
    okta.appendLogEvent({
      published: new Date(now - 40 * 60_000).toISOString(),
      eventType: 'user.lifecycle.suspend',
      target: [{ id: 'u-alan', type: 'User' }],
    });
    h.clock.advance(3600);
    await reconcile(h.deps, { statusCheck: noStatusCheck, offboardingSources: [oktaSystemLogSource(directory)] });
    expect(await h.store.getMeta(SYSTEM_LOG_CURSOR_KEY)).not.toBe(cursor);
  });

  it("checks holders' status in batches, one search per batch", async () => {
    for (const email of ['ada@example.com', 'alan@example.com', 'sam@example.com']) {
      await submitRequest(h.deps, { requester: await h.as(email), app: 'github', role: 'member' });
    }
    await h.runJobs();
    okta.setStatus('u-sam', 'SUSPENDED');
    oktaAhead += SEARCH_LAG_MS;
    okta.clearRequests();
    const summary = await reconcile(h.deps, { statusCheck: oktaStatusCheck(directory, { batchSize: 20 }) });
    expect(summary.offboarding.offboarded).toBe(1);
    expect(okta.count(/^\/api\/v1\/users$/, 'GET')).toBe(1); // one search for all three holders
    // the one candidate, confirmed by id
    expect(okta.matching(/^\/api\/v1\/users\/u-/, 'GET').map((r) => r.path)).toEqual(['/api/v1/users/u-sam']);
  });
});

describe('Okta calls: live for every decision, never twice within one', () => {
  const reads = (pattern: RegExp) => okta.matching(pattern, 'GET').length;

  it('shares the reads of one operation, and reads again in the next', async () => {
    const submitted = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'aws',
      role: 'admin',
      durationSeconds: 3600,
      justification: 'deploy',
    });
    if (submitted.kind !== 'submitted') throw new Error(submitted.kind);
    await identifySlackUser(h.deps, { slackUserId: 'U0MARCUS', email: 'marcus@example.com' }); // he used the bot before
    okta.clearRequests();
    // One click: identifying Marcus, then the decision that checks he is active.
    const click = forOperation(h.deps);
    const marcus = await identifySlackUser(click, { slackUserId: 'U0MARCUS', email: 'marcus@example.com' });
    await reviewRequest(click, { actor: marcus, requestId: submitted.request.id, decision: 'approve' });
    expect(reads(/^\/api\/v1\/users\/u-marcus$/)).toBe(1);
    expect(reads(/^\/api\/v1\/users\/u-ada$/)).toBe(1);
    expect(reads(/^\/api\/v1\/users\/u-ada\/groups$/)).toBe(1);
    // The next operation reads live again.
    await forOperation(h.deps).directory.getPerson('u-marcus');
    expect(reads(/^\/api\/v1\/users\/u-marcus$/)).toBe(2);
  });

  it('reads the admin group only when a step must fall back to it', async () => {
    const adminsRead = () => okta.matching(`/api/v1/groups/${groupId('access-admins')}/users`, 'GET').length;
    await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'aws',
      role: 'admin',
      durationSeconds: 3600,
      justification: 'deploy',
    });
    expect(adminsRead()).toBe(0); // Marcus approves: nobody falls back
    // Alan's manager is gone from his profile: his manager step falls back to the admins, read then.
    okta.setProfile('u-alan', { managerId: null });
    const fallback = await submitRequest(h.deps, {
      requester: await h.as('alan@example.com'),
      app: 'aws',
      role: 'admin',
      durationSeconds: 3600,
      justification: 'x',
    });
    if (fallback.kind !== 'submitted') throw new Error(fallback.kind);
    expect(adminsRead()).toBe(1);
    expect((await h.store.getSteps(fallback.request.id))[0]!.approvers.map((a) => a.email).sort()).toEqual([
      'ciso@example.com',
      'priya@example.com',
    ]);
  });

  it('reuses the groups the request form read a moment ago only when the submission decides nothing', async () => {
    const ada = await h.as('ada@example.com');
    okta.clearRequests();
    await h.deps.directory.groupsOf('u-ada'); // the form
    // a chain: each step re-checks
    await submitRequest(h.deps, {
      requester: ada,
      app: 'aws',
      role: 'admin',
      durationSeconds: 3600,
      justification: 'deploy',
    });
    expect(reads(/^\/api\/v1\/users\/u-ada\/groups$/)).toBe(1);
    await submitRequest(h.deps, { requester: ada, app: 'github', role: 'member' }); // approved at once: live
    expect(reads(/^\/api\/v1\/users\/u-ada\/groups$/)).toBe(2);
  });
});
