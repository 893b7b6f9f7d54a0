import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransientError } from '../../src/domain/errors.js';
import type { Store } from '../../src/operations/ports.js';
import { runDueJobs } from '../../src/operations/run-jobs.js';
import { reviewRequest } from '../../src/operations/review-request.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { createHarness, type Harness } from '../support/lifecycle-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(() => h.close());

/** A request whose messages (the requester's "submitted" DM, the manager's approval DM) are queued. */
async function queueMessages(): Promise<string[]> {
  await submitRequest(h.deps, {
    requester: await h.as('ada@example.com'),
    app: 'aws',
    role: 'admin',
    durationSeconds: 3600,
    justification: 'deploy',
  });
  return (await h.store.listJobs({ status: ['pending'] })).map((j) => j.key);
}

describe('the job runner and rate limits', () => {
  it('waits out a 429 as often as it comes without spending an attempt, then delivers', async () => {
    const keys = await queueMessages();
    expect(keys).toHaveLength(2);
    h.notifier.failNext(40, new TransientError('Slack rate limit (retry after 30 s)', 30_000, { rateLimited: true }));
    for (let i = 0; i < 20; i++) {
      const summary = await h.runJobs();
      expect(summary).toMatchObject({ deferred: 2, dead: 0 });
      for (const key of keys) {
        const job = (await h.store.getJobByKey(key))!;
        expect(job).toMatchObject({ status: 'pending', attempts: 0 });
        // Not before its Retry-After.
        expect(Date.parse(job.runAt) - h.clock.now().getTime()).toBe(30_000);
      }
      expect((await h.runJobs()).ran).toBe(0);
      h.clock.advance(30);
    }
    await h.runJobs();
    for (const key of keys) expect(await h.store.getJobByKey(key)).toMatchObject({ status: 'done', attempts: 1 });
    expect(h.notifier.of('approval.requested', 'u-marcus')).toHaveLength(1);
    expect((await h.store.auditEvents()).filter((e) => e.action === 'job.abandoned')).toEqual([]);
  });

  it('still gives up a message that keeps failing for other reasons after 8 attempts', async () => {
    const [key] = await queueMessages();
    h.notifier.failNext(16);
    for (let i = 0; i < 8; i++) {
      await h.runJobs();
      h.clock.advance(3600);
    }
    expect(await h.store.getJobByKey(key!)).toMatchObject({ status: 'dead', attempts: 8 });
  });
});

/** Requests from Ada and Alan, each with its messages queued: four jobs. */
async function queueTwoRequests(): Promise<string[]> {
  for (const email of ['ada@example.com', 'alan@example.com'])
    await submitRequest(h.deps, {
      requester: await h.as(email),
      app: 'aws',
      role: 'admin',
      durationSeconds: 3600,
      justification: 'deploy',
    });
  return (await h.store.listJobs({ status: ['pending'] })).map((j) => j.key);
}

type Method = (...args: unknown[]) => unknown;

/**
 * The harness's store, counting write transactions, with the transaction methods `replace` returns
 * a replacement for (given the method, bound) replaced inside every transaction.
 */
function storeReplacing(replace: (name: string, method: Method) => Method | undefined): {
  store: Store;
  transactions: () => number;
} {
  let transactions = 0;
  const store: Store = Object.create(h.store) as Store;
  store.transaction = (fn) => {
    transactions++;
    return h.store.transaction((tx) =>
      fn(
        new Proxy(tx, {
          get(target, name) {
            const value = Reflect.get(target, name, target) as unknown;
            if (typeof name !== 'string' || typeof value !== 'function') return value;
            return replace(name, (...args) => (value as Method).apply(target, args)) ?? value;
          },
        }),
      ),
    );
  };
  return { store, transactions: () => transactions };
}

/** The harness's store, counting write transactions, with finishing one job failing (a write the disk refuses). */
function storeFailingToFinish(jobId: () => number | undefined): { store: Store; transactions: () => number } {
  return storeReplacing((name, finish) =>
    name === 'finishJob' || name === 'finishJobs'
      ? (id, ...rest) => {
          if ([id].flat().includes(jobId()!)) throw new Error('disk I/O error');
          return finish(id, ...rest);
        }
      : undefined,
  );
}

describe('the job runner runs jobs in batches', () => {
  it('claims the due jobs in one transaction and records all their outcomes in one more', async () => {
    const keys = await queueTwoRequests();
    expect(keys).toHaveLength(4);
    const counted = storeFailingToFinish(() => undefined);
    const summary = await runDueJobs({ ...h.deps, store: counted.store }, { worker: 'test' });
    expect(summary).toMatchObject({ ran: 4, done: 4 });
    expect(counted.transactions()).toBe(2);
    for (const key of keys) expect(await h.store.getJobByKey(key)).toMatchObject({ status: 'done', attempts: 1 });
    expect(h.notifier.of('approval.requested', 'u-marcus')).toHaveLength(2);
  });

  it('records the others when one outcome cannot be recorded; that job runs again once its lock expires', async () => {
    const keys = await queueTwoRequests();
    const failing = (await h.store.getJobByKey(keys[1]!))!;
    let broken = true;
    const { store } = storeFailingToFinish(() => (broken ? failing.id : undefined));
    await expect(runDueJobs({ ...h.deps, store }, { worker: 'test' })).rejects.toThrow('disk I/O error');
    for (const key of keys.filter((k) => k !== failing.key))
      expect(await h.store.getJobByKey(key)).toMatchObject({ status: 'done' });
    // Its message went out; the job is still claimed, so nobody sends it again before the lock runs out.
    expect(await h.store.getJobByKey(failing.key)).toMatchObject({ status: 'running', attempts: 1 });
    expect((await h.runJobs()).ran).toBe(0);
    broken = false;
    h.clock.advance(301);
    expect(await h.runJobs()).toMatchObject({ ran: 1, done: 1 });
    expect(await h.store.getJobByKey(failing.key)).toMatchObject({ status: 'done', attempts: 2 });
    // Delivered twice under the same key: the notifier updates the message it posted under that key.
    expect(h.notifier.delivered.filter((d) => d.key === failing.key)).toHaveLength(2);
  });

  it('on shutdown, finishes the job in flight and gives back the jobs claimed but not started', async () => {
    const keys = await queueTwoRequests();
    const shutdown = new AbortController();
    const deliver = h.notifier.deliver.bind(h.notifier);
    h.notifier.deliver = async (notification, key) => {
      shutdown.abort();
      return deliver(notification, key);
    };
    const summary = await runDueJobs(h.deps, { worker: 'test', signal: shutdown.signal });
    expect(summary).toMatchObject({ ran: 1, done: 1 });
    expect(await h.store.getJobByKey(keys[0]!)).toMatchObject({ status: 'done', attempts: 1 });
    for (const key of keys.slice(1))
      expect(await h.store.getJobByKey(key)).toMatchObject({ status: 'pending', attempts: 0 });
    // Due at once for the next run, this process's or another's.
    expect(await h.runJobs()).toMatchObject({ ran: 3, done: 3 });
  });

  it('renews its locks beside its own transactions: the heartbeat has a transaction of its own', async () => {
    const keys = await queueTwoRequests();
    // The store as the runner sees it: the first lock renewal waits, inside its transaction, until
    // the run's next transaction reaches the store (which then waits its turn), as a renewal on
    // PostgreSQL may still be under way when the run records its batch.
    let heartbeat!: () => void;
    const renewing = new Promise<void>((resolve) => (heartbeat = resolve));
    let first = true;
    const counted = storeReplacing((name, renew) =>
      name === 'renewJob'
        ? async (...args) => {
            if (first) {
              first = false;
              const before = counted.transactions();
              heartbeat();
              await waitFor(() => counted.transactions() > before);
            }
            return renew(...args);
          }
        : undefined,
    );
    const { store } = counted;
    // The first message goes out once the heartbeat is renewing the locks.
    const deliver = h.notifier.deliver.bind(h.notifier);
    h.notifier.deliver = async (notification, key) => {
      await renewing;
      return deliver(notification, key);
    };
    const summary = await runDueJobs({ ...h.deps, store }, { worker: 'test', lockSeconds: 0.03 });
    expect(summary).toMatchObject({ ran: 4, done: 4 });
    for (const key of keys) expect(await h.store.getJobByKey(key)).toMatchObject({ status: 'done', attempts: 1 });
  });

  it('records the outcomes waiting once the first has waited `recordWithinMs`', async () => {
    await queueTwoRequests();
    const counted = storeFailingToFinish(() => undefined);
    const summary = await runDueJobs({ ...h.deps, store: counted.store }, { worker: 'test', recordWithinMs: 0 });
    expect(summary).toMatchObject({ ran: 4, done: 4 });
    // The claim, then each outcome as soon as its effect ends; the due list read again: empty.
    expect(counted.transactions()).toBe(5);
  });

  it('records a batch after at most `claimBatch` jobs: a larger backlog takes more batches, none run twice', async () => {
    const keys = await queueTwoRequests();
    const counted = storeFailingToFinish(() => undefined);
    const summary = await runDueJobs({ ...h.deps, store: counted.store }, { worker: 'test', claimBatch: 3 });
    expect(summary).toMatchObject({ ran: 4, done: 4 });
    // Claim 3; record 3 and claim 1; record 1 and find nothing more to claim; the due list read again: empty.
    expect(counted.transactions()).toBe(3);
    expect(h.notifier.delivered.map((d) => d.key).sort()).toEqual([...keys].sort());
  });
});

/** Ada's and Alan's AWS admin requests, approved by Marcus: two adds and the messages of both queued. */
async function approveTwoRequests(): Promise<string[]> {
  const grantIds: string[] = [];
  for (const email of ['ada@example.com', 'alan@example.com']) {
    const submitted = await submitRequest(h.deps, {
      requester: await h.as(email),
      app: 'aws',
      role: 'admin',
      durationSeconds: 3600,
      justification: 'deploy',
    });
    if (submitted.kind !== 'submitted') throw new Error(submitted.kind);
    const manager = await h.as('marcus@example.com');
    const decided = await reviewRequest(h.deps, {
      actor: manager,
      requestId: submitted.request.id,
      decision: 'approve',
    });
    if (decided.kind !== 'request_approved') throw new Error(decided.kind);
    grantIds.push(decided.grantId!);
  }
  return grantIds;
}

describe('the job runner prepares and records a batch together', () => {
  it('records every membership of a batch before its first add, in one transaction', async () => {
    const grantIds = await approveTwoRequests();
    const recordedAtAdds: (boolean | null)[][] = [];
    h.directory.beforeCall = async (method) => {
      if (method !== 'addToGroup') return;
      recordedAtAdds.push(await Promise.all(grantIds.map(async (id) => (await h.store.getGrant(id))!.alreadyMember)));
    };
    const counted = storeFailingToFinish(() => undefined);
    const summary = await runDueJobs({ ...h.deps, store: counted.store }, { worker: 'test' });
    expect(summary).toMatchObject({ dead: 0, retried: 0 });
    // Both grants' records (neither person was in aws-admins) were committed before the first add.
    expect(recordedAtAdds).toEqual([
      [false, false],
      [false, false],
    ]);
    for (const id of grantIds) expect(await h.store.getGrant(id)).toMatchObject({ status: 'active' });
    // The claim; both memberships; the outcomes; the "access granted" messages, due since, claimed;
    // their outcomes. (One membership per add, each with the outcomes before it, would take six.)
    expect(counted.transactions()).toBe(5);
  });

  it('a message about a grant runs once its activation is committed; the adds and other messages meanwhile', async () => {
    // Ada and Marcus take GitHub member (approved by policy): each add is queued before its "approved" message.
    const requestIds: string[] = [];
    for (const email of ['ada@example.com', 'marcus@example.com']) {
      const submitted = await submitRequest(h.deps, { requester: await h.as(email), app: 'github', role: 'member' });
      if (submitted.kind !== 'submitted') throw new Error(submitted.kind);
      requestIds.push(submitted.request.id);
    }
    const queued = (await h.store.listJobs({ status: ['pending'] })).map((j) => j.key);
    const ran: { key: string; grantStatus?: string }[] = [];
    const deliver = h.notifier.deliver.bind(h.notifier);
    h.notifier.deliver = async (notification, key) => {
      const requestId = 'requestId' in notification ? notification.requestId : undefined;
      ran.push({ key, grantStatus: (await h.store.listGrants({})).find((g) => g.requestId === requestId)?.status });
      return deliver(notification, key);
    };
    h.directory.beforeCall = (method) => void (method === 'addToGroup' && ran.push({ key: 'add' }));
    const counted = storeFailingToFinish(() => undefined);
    await runDueJobs({ ...h.deps, store: counted.store }, { worker: 'test' });
    // Both adds ran before the first "approved" message, which reports its grant active...
    expect(ran.map((r) => r.key).slice(0, 2)).toEqual(['add', 'add']);
    const approvals = ran.filter((r) => r.key.startsWith('notify:approved:'));
    expect(approvals.map((r) => r.grantStatus)).toEqual(['active', 'active']);
    // ...each request's messages kept the order they were queued in...
    const ofRequest = (keys: string[], requestId: string) => keys.filter((k) => k.includes(requestId));
    for (const requestId of requestIds)
      expect(
        ofRequest(
          ran.map((r) => r.key),
          requestId,
        ),
      ).toEqual(ofRequest(queued, requestId));
    // ...and both activations were committed together: the claim, both memberships, the adds'
    // outcomes, the approvals' outcomes, the claim of the "access granted" messages, their outcomes.
    expect(counted.transactions()).toBe(6);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}
