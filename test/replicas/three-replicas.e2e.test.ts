/**
 * Three replicas of the bot on one PostgreSQL database behind a load balancer that sends each
 * Slack request to any of them: what holds with one process holds with three. Each decision is
 * recorded once and the loser of a race is told why; a quorum step counts both approvals and
 * starts the next step once; a replica killed while its Okta call hangs leaves the provisioning
 * to the others, and the person is added once; each digest slot is posted once.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION } from '../../blocks/ids.js';
import { verifyChain } from '../../src/domain/audit.js';
import { USERS } from '../slack/slack-fixture.js';
import { Cluster, waitUntil } from './cluster.js';

let cluster: Cluster;

beforeAll(async () => {
  cluster = await Cluster.start(3, { lockSeconds: 3 });
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
}, 60_000);

describe('three replicas behind a load balancer', () => {
  it('serve one person across replicas: the form opened on one, submitted on another', async () => {
    const requestId = await cluster.request('ada', 'github', 'owner', 'INC-7 failover', [0, 1]);
    expect((await cluster.store.getRequest(requestId))!.status).toBe('pending_approval');
    // Marcus (the manager) is asked once, whichever replica ran the job.
    await cluster.askOf('marcus', requestId);
    expect(cluster.balancer.served.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
  }, 60_000);

  it('record one decision when one approver clicks twice at once on two replicas, and tell the second click why', async () => {
    const requestId = await cluster.request('alan', 'aws', 'admin', 'rotate keys', [2, 0]);
    const ask = await cluster.askOf('marcus', requestId);
    const [a, b] = await Promise.all([
      cluster.click('marcus', ask, ACTION.approve, 0),
      cluster.click('marcus', ask, ACTION.approve, 1),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    await waitUntil(async () => (await cluster.store.getRequest(requestId))!.status === 'approved');
    // Both clicks handled (the acks come before the work): the loser was told, then count.
    await cluster.slack.waitFor('ephemeral', (m) => m.ephemeralFor === USERS.marcus.id && /already/.test(m.text), {
      timeoutMs: 20_000,
    });
    expect(await cluster.store.getDecisions(requestId)).toHaveLength(1);
    const events = await cluster.store.auditEventsFor({ requestId });
    expect(events.filter((e) => e.action === 'step.approved')).toHaveLength(1);
    expect(events.filter((e) => e.action === 'request.approved')).toHaveLength(1);
  }, 60_000);

  it('count both approvals of a quorum step decided at once on two replicas, and start the next step once', async () => {
    const requestId = await cluster.request('alan', 'github', 'owner', 'INC-8', [1, 2]);
    await cluster.click('marcus', await cluster.askOf('marcus', requestId), ACTION.approve, 2);
    const [samAsk, jordanAsk] = await Promise.all([
      cluster.askOf('sam', requestId),
      cluster.askOf('jordan', requestId),
    ]);
    await Promise.all([
      cluster.click('sam', samAsk, ACTION.approve, 0),
      cluster.click('jordan', jordanAsk, ACTION.approve, 1),
    ]);
    // The third step (the CISO) opens once, and Grace is asked once.
    await cluster.askOf('grace', requestId);
    const steps = await waitUntil(async () => {
      const all = await cluster.store.getSteps(requestId);
      return all[1]?.status === 'approved' ? all : undefined;
    });
    expect(steps.map((s) => s.status)).toEqual(['approved', 'approved', 'open']);
    const decisions = await cluster.store.getDecisions(requestId);
    expect(
      decisions
        .filter((d) => d.stepIndex === 1)
        .map((d) => d.approver.directoryId)
        .sort(),
    ).toEqual(['u-jordan', 'u-sam']);
    const events = await cluster.store.auditEventsFor({ requestId });
    expect(events.filter((e) => e.action === 'step.approved' && e.details.step === 2)).toHaveLength(2);
    expect(events.filter((e) => e.action === 'step.started' && e.details.step === 3)).toHaveLength(1);
    const graceAsks = cluster.slack.workspace
      .messages(cluster.slack.workspace.dmChannelId(USERS.grace.id))
      .filter((m) => JSON.stringify(m.blocks).includes(requestId));
    expect(graceAsks).toHaveLength(1);
    expect(await cluster.store.getRequest(requestId)).toMatchObject({ status: 'pending_approval', currentStep: 2 });
  }, 60_000);

  it('finish a provisioning whose replica was killed while its Okta call hung: the person is added once', async () => {
    // Okta holds the next add to aws-admins: the replica running the job waits on it.
    const hold = cluster.okta.hold('/api/v1/groups/00g-aws-admins/users/', { method: 'PUT' });
    const requestId = await cluster.request('ada', 'aws', 'admin', 'hung add', [0, 2]);
    await cluster.click('marcus', await cluster.askOf('marcus', requestId), ACTION.approve, 1);
    await hold.arrived;
    const grant = await waitUntil(() => cluster.store.grantForRequest(requestId));
    const job = (await cluster.store.getJobByKey(`provision:${grant.id}`))!;
    // The replica whose worker holds the job's lock is the one waiting on Okta.
    const holder = cluster.replicaNamed(await waitUntil(() => lockedBy(job.id).then((w) => w ?? undefined)));
    expect(holder).toBeDefined();
    await cluster.kill(holder!.index);

    // Another replica takes the job over once the dead one's lock expires, and finishes it.
    await waitUntil(
      async () => (await cluster.store.getGrant(grant.id))!.status === 'active',
      30_000,
      'the grant to become active',
    );
    const added = cluster.okta.matching(`/api/v1/groups/00g-aws-admins/users/u-ada`, 'PUT');
    // The held call never answered (its replica is gone); exactly one add was answered.
    expect(added.filter((r) => r.status === 204)).toHaveLength(1);
    expect(cluster.okta.memberIds('00g-aws-admins')).toContain('u-ada');
    const events = await cluster.store.auditEventsFor({ grantId: grant.id });
    expect(events.filter((e) => e.action === 'grant.activated')).toHaveLength(1);
    // The runner records the job's outcome after the effect committed: wait for it rather than race it.
    await waitUntil(async () => (await cluster.store.getJob(job.id))!.status !== 'running', 10_000, 'the job outcome');
    expect(await cluster.store.getJob(job.id)).toMatchObject({ status: 'done', attempts: 2 });
    expect((await cluster.store.getGrant(grant.id))!.alreadyMember).toBe(false);
  }, 90_000);

  it('post each digest slot once, however many replicas fire for it, and keep one unbroken audit chain', async () => {
    // The digest schedule fires every 3 s on every live replica: let a few slots pass.
    const posted = () =>
      cluster.store.auditEvents({ limit: 100_000 }).then((all) => all.filter((e) => e.action === 'digest.posted'));
    await waitUntil(async () => (await posted()).length >= 3, 30_000, 'three digests');
    await cluster.stopReplicas();

    const jobs = (await cluster.store.listJobs({ limit: 10_000 })).filter((j) => j.key.startsWith('notify:digest:'));
    const done = jobs.filter((j) => j.status === 'done');
    expect(done.length).toBeGreaterThanOrEqual(3);
    const events = await posted();
    // One post per slot: one digest.posted event per finished digest job, one period each, and
    // one chat.postMessage into the security channel each.
    expect(events).toHaveLength(done.length);
    expect(new Set(events.map((e) => e.details.periodEnd)).size).toBe(events.length);
    const posts = cluster.slack.workspace
      .calls('chat.postMessage')
      .filter((c) => (c.args as { channel?: string }).channel === 'C0SECURITY');
    expect(posts).toHaveLength(done.length);
    // Several replicas fired for the same slots (else nothing raced): for each slot that ran, the
    // others skipped it because the slot was done or its lease held, and none ran it twice.
    const digestPasses = cluster.passes.filter((p) => p.name === 'digest' && p.slot);
    const ran = digestPasses.filter((p) => p.status === 'ran');
    expect(new Set(ran.map((p) => p.slot)).size).toBe(ran.length);
    const contested = ran.filter((r) =>
      digestPasses.some(
        (p) =>
          p.slot === r.slot &&
          p.replica !== r.replica &&
          p.status === 'skipped' &&
          (p.reason === 'slot_done' || p.reason === 'lease_held'),
      ),
    );
    expect(contested.length).toBeGreaterThanOrEqual(2);
    expect(verifyChain(await cluster.store.auditEvents({ limit: 100_000 })).ok).toBe(true);
    // Locks are taken in one order (records, then the audit chain): no race above ever deadlocked.
    expect(
      await sql<{ deadlocks: string }>('SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()'),
    ).toEqual([{ deadlocks: '0' }]);
  }, 90_000);
});

async function lockedBy(jobId: number): Promise<string | null> {
  // The worker holding a job's lock is not part of the port's JobRecord: read it from the table.
  const rows = await sql<{ locked_by: string | null }>('SELECT locked_by FROM jobs WHERE id = $1', [jobId]);
  return rows[0]?.locked_by ?? null;
}

/** One statement on the test database, outside the store (what the port does not show). */
async function sql<T extends object>(text: string, values: unknown[] = []): Promise<T[]> {
  const client = new pg.Client({ connectionString: cluster.database.url });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}
