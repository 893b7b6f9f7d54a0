/**
 * The store contract: what every implementation of the store port (src/operations/ports.ts) must
 * do, whatever database is behind it. SQLite runs it (sqlite-store.test.ts); PostgreSQL runs the
 * same suite with its own factory.
 *
 * Every test gets an empty database. `connect()` opens another connection (another store) to the
 * same database, as a second process or replica would: races between connections are decided by
 * the database, not by the event loop of one process.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyChain, type Actor, type AuditEventInput } from '../../src/domain/audit.js';
import { AccessError } from '../../src/domain/errors.js';
import type {
  AccessRequest,
  BreakGlassReview,
  Delegation,
  Grant,
  JobPayload,
  StepRecord,
} from '../../src/domain/records.js';
import type { ReviewCampaign, ReviewItem } from '../../src/domain/reviews/review-records.js';
import { NO_FILTERS } from '../../src/operations/exports/export-filters.js';
import { operationStore, StoreMisuseError } from '../../src/operations/operation-scope.js';
import type { Store, StoreTx } from '../../src/operations/ports.js';

export interface StoreDatabase {
  /** A new connection to this database: a store of its own (close it, or `drop` closes it). */
  connect(): Promise<Store>;
  /** Closes what is still open and removes the database. */
  drop(): Promise<void>;
}

/** Makes an empty database for one test. */
export type StoreFactory = () => Promise<StoreDatabase>;

const T0 = '2026-03-02T09:00:00.000Z';
const at = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

export function request(id: string, overrides: Partial<AccessRequest> = {}): AccessRequest {
  return {
    id,
    kind: 'access',
    grantId: null,
    requester: { directoryId: 'u-ada', email: 'ada@example.com', name: 'Ada Lovelace', slackId: 'U0ADA' },
    app: 'github',
    role: 'owner',
    policyName: 'github-owner',
    policyVersion: 'v1',
    justification: 'INC-7',
    requestedSeconds: 3600,
    grantedSeconds: null,
    status: 'pending_approval',
    autoApproveRule: null,
    currentStep: 0,
    stepCount: 1,
    createdAt: T0,
    approvalDeadline: at(72 * 3600),
    decidedAt: null,
    decisionReason: null,
    ...overrides,
  };
}

export function grant(id: string, overrides: Partial<Grant> = {}): Grant {
  return {
    id,
    requestId: `req_${id}`,
    holder: { directoryId: 'u-ada', email: 'ada@example.com', name: 'Ada Lovelace', slackId: null },
    app: 'github',
    role: 'owner',
    policyName: 'github-owner',
    policyVersion: 'v1',
    sensitive: true,
    breakGlass: false,
    snapshot: {
      provision: { method: 'okta_group', group: 'github-owners' },
      policyName: 'github-owner',
      policyVersion: 'v1',
    },
    alreadyMember: null,
    status: 'active',
    durationSeconds: 3600,
    maxTotalSeconds: 8 * 3600,
    extensionApproval: 'same',
    createdAt: T0,
    activatedAt: T0,
    expiresAt: at(3600),
    revocationReason: null,
    revocationNote: null,
    revokedBy: null,
    revocationStartedAt: null,
    revokedAt: null,
    remindersSent: [],
    failures: 0,
    lastError: null,
    ...overrides,
  };
}

function step(requestId: string, index: number, overrides: Partial<StepRecord> = {}): StepRecord {
  return {
    requestId,
    index,
    step: { kind: 'manager' },
    label: 'Manager',
    required: 1,
    status: 'waiting',
    approvers: [],
    fallbackReason: null,
    notifyChannel: null,
    startedAt: null,
    decidedAt: null,
    escalateAt: null,
    escalatedAt: null,
    escalationApprovers: [],
    nextReminderAt: null,
    remindersSent: [],
    ...overrides,
  };
}

const event = (n: number, overrides: Partial<AuditEventInput> = {}): AuditEventInput => ({
  at: at(n),
  actor: { kind: 'system', component: 'test' },
  action: 'request.refused',
  details: { n },
  ...overrides,
});

export function campaign(id: string, overrides: Partial<ReviewCampaign> = {}): ReviewCampaign {
  return {
    id,
    reviewId: 'quarterly',
    reviewName: 'Quarterly review',
    version: 'v1',
    definition: { review: 'quarterly', undecided: 'keep', remediate: 'remove' },
    trigger: 'command_line',
    startedBy: 'priya@example.com',
    slot: null,
    status: 'open',
    startedAt: T0,
    dueAt: at(14 * 86400),
    closedAt: null,
    closedBy: null,
    populationCount: 0,
    populationHash: 'h',
    rules: null,
    ...overrides,
  };
}

export function reviewItem(
  id: string,
  campaignId: string,
  position: number,
  overrides: Partial<ReviewItem> = {},
): ReviewItem {
  return {
    id,
    campaignId,
    position,
    holder: { directoryId: `u-${position}`, email: `p${position}@example.com`, name: `P${position}`, slackId: null },
    access: { kind: 'group', group: 'it-helpdesk' },
    source: { kind: 'standing' },
    reviewer: { rule: { kind: 'manager' }, fallbackReason: null, label: 'Marcus Chen (manager)' },
    decision: 'pending',
    reason: null,
    decidedBy: null,
    decidedAt: null,
    secondsToDecision: null,
    remediation: 'none',
    remediationDetail: null,
    remediatedAt: null,
    remediationEventSeq: null,
    ...overrides,
  };
}

/** A campaign with `n` standing items, given to Marcus (and the even ones to Priya too). */
async function insertCampaign(tx: StoreTx, c: ReviewCampaign, n: number): Promise<ReviewItem[]> {
  const items = Array.from({ length: n }, (_, i) => reviewItem(`${c.id}_i${i}`, c.id, i));
  await tx.insertReviewCampaign({ ...c, populationCount: n });
  await tx.insertReviewItems(items);
  await tx.insertReviewAssignments(
    items.flatMap((item) => [
      { itemId: item.id, campaignId: c.id, reviewerId: 'u-marcus', position: item.position, firstSeenAt: null },
      ...(item.position % 2 === 0
        ? [{ itemId: item.id, campaignId: c.id, reviewerId: 'u-priya', position: item.position, firstSeenAt: null }]
        : []),
    ]),
  );
  await tx.insertReviewers([
    {
      campaignId: c.id,
      reviewer: { directoryId: 'u-marcus', email: 'marcus@example.com', name: 'Marcus Chen', slackId: null },
      items: n,
      remindersSent: [],
    },
    {
      campaignId: c.id,
      reviewer: { directoryId: 'u-priya', email: 'priya@example.com', name: 'Priya Patel', slackId: 'U0PRIYA' },
      items: Math.ceil(n / 2),
      remindersSent: [],
    },
  ]);
  return items;
}

/** A request and its grant: a grant's request must exist first. */
async function insertGrant(tx: StoreTx, g: Grant): Promise<void> {
  if (!(await tx.getRequest(g.requestId))) {
    await tx.insertRequest(
      request(g.requestId, {
        status: 'approved',
        grantId: g.id,
        requester: g.holder,
        app: g.app,
        role: g.role,
        currentStep: -1,
      }),
    );
  }
  await tx.insertGrant(g);
}

/** Rejects if `promise` has not settled within `ms`: a wait that would never end fails the test instead. */
function within<T>(promise: Promise<T>, ms = 3000): Promise<T> {
  let timer: NodeJS.Timeout;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms`)), ms)),
  );
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * A transaction on `handle` that writes meta `key` and is then held open until `release()`:
 * resolves once it is inside (its write made), with its promise as `done`.
 */
async function holdOpen(handle: Store, key: string): Promise<{ done: Promise<void>; release: () => void }> {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const running = new Promise<void>((r) => (entered = r));
  const done = handle.transaction(async (tx) => {
    await tx.setMeta(key, '1', T0);
    entered();
    await held;
  });
  await running;
  return { done, release };
}

export function describeStoreContract(name: string, factory: StoreFactory): void {
  describe(`the store contract: ${name}`, () => {
    let db: StoreDatabase;
    let store: Store;
    beforeEach(async () => {
      db = await factory();
      store = await db.connect();
    });
    afterEach(async () => {
      await store.close();
      await db.drop();
    });

    describe('transactions', () => {
      it('commits what the callback wrote when it resolves, and returns its result', async () => {
        const result = await store.transaction(async (tx) => {
          await tx.insertRequest(request('req_1'));
          await tx.appendAudit(event(1, { requestId: 'req_1' }));
          return 'done';
        });
        expect(result).toBe('done');
        expect((await store.getRequest('req_1'))?.status).toBe('pending_approval');
        expect((await store.auditHead()).seq).toBe(1);
      });

      it('rolls every write back when the callback throws, and rethrows its error', async () => {
        const failure = new Error('boom after the writes');
        await expect(
          store.transaction(async (tx) => {
            await tx.insertRequest(request('req_1'));
            await tx.appendAudit(event(1));
            await tx.enqueueJob('notify:x', { kind: 'provision', grantId: 'grt_x' }, T0);
            await tx.setMeta('k', 'v', T0);
            throw failure;
          }),
        ).rejects.toBe(failure);
        expect(await store.getRequest('req_1')).toBeUndefined();
        expect(await store.auditHead()).toEqual({ seq: 0, hash: '0'.repeat(64) });
        expect(await store.getJobByKey('notify:x')).toBeUndefined();
        expect(await store.getMeta('k')).toBeUndefined();
      });

      it('rolls back when a write refuses (a unique conflict), with the typed error', async () => {
        await store.transaction((tx) => tx.insertRequest(request('req_1')));
        const error = await store
          .transaction(async (tx) => {
            await tx.appendAudit(event(1));
            await tx.insertRequest(request('req_2')); // the same person and role, still pending
          })
          .catch((e: unknown) => e);
        expect(error).toBeInstanceOf(AccessError);
        expect((error as AccessError).code).toBe('already_pending');
        expect(await store.getRequest('req_2')).toBeUndefined();
        expect((await store.auditHead()).seq).toBe(0);
      });

      it("runs the transactions of one store one after the other, so none loses another one's write", async () => {
        const bump = () =>
          store.transaction(async (tx) => {
            const n = Number((await tx.getMeta('counter')) ?? '0');
            await tx.getLease('nothing'); // more awaits between the read and the write
            await tx.listJobs({ limit: 1 });
            await tx.setMeta('counter', String(n + 1), T0);
          });
        await Promise.all(Array.from({ length: 20 }, bump));
        expect(await store.getMeta('counter')).toBe('20');
      });

      // An operation's own handle on the store (operation-scope.ts: the listener router and the job
      // runner give one to each operation) refuses what would go wrong inside its transaction.
      it('refuses a transaction started inside a transaction at once, instead of waiting for itself', async () => {
        const operation = operationStore(store);
        const error = await within(
          operation.transaction(async (tx) => {
            await tx.setMeta('outer', '1', T0);
            await operation.transaction((inner) => inner.setMeta('inner', '1', T0));
          }),
        ).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreMisuseError);
        expect(String(error)).toMatch(/inside another one/);
        expect(await store.getMeta('outer')).toBeUndefined();
        expect(await store.getMeta('inner')).toBeUndefined();
        // The store, and the operation's handle, are still usable.
        await operation.transaction((tx) => tx.setMeta('after', '1', T0));
        expect(await operation.getMeta('after')).toBe('1');
      });

      it("refuses the store's own reads inside a transaction (they would not see its writes)", async () => {
        const operation = operationStore(store);
        const error = await within(
          operation.transaction(async (tx) => {
            await tx.insertRequest(request('req_1'));
            return operation.getRequest('req_1');
          }),
        ).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StoreMisuseError);
        expect(String(error)).toMatch(/store\.getRequest was called inside/);
        const posted = await operation.transaction(() => operation.messages.get('slot')).catch((e: unknown) => e);
        expect(String(posted)).toMatch(/store\.messages\.get was called inside/);
        expect(await operation.getRequest('req_1')).toBeUndefined();
      });

      it('refuses only the operation inside the transaction: another one, interleaved with it, reads and queues', async () => {
        const inside = operationStore(store);
        const other = operationStore(store);
        await other.transaction((tx) => tx.setMeta('before', '1', T0));
        const { done: first, release } = await holdOpen(inside, 'first');
        // While `inside`'s transaction runs, the other operation reads the last commit and queues.
        expect(await other.getMeta('before')).toBe('1');
        expect(await other.getMeta('first')).toBeUndefined();
        expect(await inside.getMeta('before').catch((e: unknown) => e)).toBeInstanceOf(StoreMisuseError);
        const second = other.transaction((tx) => tx.setMeta('second', '1', T0));
        release();
        await within(Promise.all([first, second]));
        expect(await inside.getMeta('first')).toBe('1');
        expect(await inside.getMeta('second')).toBe('1');
      });

      // A command's handle hands its sweep phases, job runner and heartbeat handles made from it.
      it('makes a handle from a handle a sibling on the same store: one inside its transaction refuses only itself', async () => {
        const command = operationStore(store);
        const phase = operationStore(command);
        const heartbeat = operationStore(command);
        await command.transaction((tx) => tx.setMeta('before', '1', T0));
        const { done: first, release } = await holdOpen(phase, 'phase');
        // The phase's own read is refused; the command and the heartbeat read and queue as usual.
        expect(await phase.getMeta('before').catch((e: unknown) => e)).toBeInstanceOf(StoreMisuseError);
        expect(await command.getMeta('before')).toBe('1');
        expect(await heartbeat.getMeta('before')).toBe('1');
        const renewed = heartbeat.transaction((tx) => tx.setMeta('heartbeat', '1', T0));
        release();
        await within(Promise.all([first, renewed]));
        expect(await command.getMeta('phase')).toBe('1');
        expect(await command.getMeta('heartbeat')).toBe('1');
      });

      it('refuses a transaction handle used after its transaction ended', async () => {
        let kept: StoreTx | undefined;
        await store.transaction(async (tx) => {
          kept = tx;
        });
        await expect(kept!.setMeta('late', '1', T0)).rejects.toThrow(/after its transaction ended/);
        expect(await store.getMeta('late')).toBeUndefined();
      });

      it("shows a transaction's writes inside it, and to nobody else until it commits", async () => {
        const other = await db.connect();
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        let written!: () => void;
        const wrote = new Promise<void>((r) => (written = r));
        try {
          const tx = store.transaction(async (t) => {
            await t.insertRequest(request('req_1'));
            expect((await t.getRequest('req_1'))?.id).toBe('req_1');
            written();
            // Held open on purpose (operations never wait on anything but the store inside one).
            await held;
          });
          await wrote;
          expect(await store.getRequest('req_1')).toBeUndefined();
          expect(await other.getRequest('req_1')).toBeUndefined();
          release();
          await tx;
          expect((await store.getRequest('req_1'))?.id).toBe('req_1');
          expect((await other.getRequest('req_1'))?.id).toBe('req_1');
        } finally {
          release();
          await other.close();
        }
      });

      it("makes another connection's transaction wait for the one in progress, without losing either", async () => {
        const other = await db.connect();
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        let started!: () => void;
        const inside = new Promise<void>((r) => (started = r));
        try {
          const first = store.transaction(async (tx) => {
            await tx.setMeta('a', '1', T0);
            started();
            await held;
          });
          await inside;
          const second = other.transaction(async (tx) => {
            await tx.setMeta('b', (await tx.getMeta('a')) ?? 'missing', T0);
          });
          // The other connection's reads are not blocked meanwhile.
          expect(await other.getMeta('a')).toBeUndefined();
          release();
          await Promise.all([first, second]);
          expect(await store.getMeta('b')).toBe('1');
        } finally {
          release();
          await other.close();
        }
      });

      it('keeps a record a transaction read as it read it until it commits: a second reader waits, then sees the change', async () => {
        // Two approvers of one quorum step, on two replicas: each re-reads the request in its
        // transaction and counts on what it read. The second must read after the first committed.
        const other = await db.connect();
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        let started!: () => void;
        const inside = new Promise<void>((r) => (started = r));
        try {
          await store.transaction((tx) => insertGrant(tx, grant('grt_1')));
          const first = store.transaction(async (tx) => {
            const read = (await tx.getRequest('req_grt_1'))!;
            const readGrant = (await tx.getGrant('grt_1'))!;
            started();
            await held;
            await tx.updateRequest(read.id, ['approved'], { decisionReason: 'first' });
            await tx.updateGrant(readGrant.id, ['active'], { failures: readGrant.failures + 1 });
          });
          await inside;
          let secondRead = false;
          const second = other.transaction(async (tx) => {
            const read = (await tx.getRequest('req_grt_1'))!;
            const readGrant = (await tx.getGrant('grt_1'))!;
            secondRead = true;
            await tx.updateGrant(readGrant.id, ['active'], { failures: readGrant.failures + 1 });
            return { reason: read.decisionReason, failures: readGrant.failures };
          });
          await new Promise((resolve) => setTimeout(resolve, 200));
          expect(secondRead).toBe(false);
          release();
          await first;
          expect(await within(second)).toEqual({ reason: 'first', failures: 1 });
          expect((await store.getGrant('grt_1'))!.failures).toBe(2);
        } finally {
          release();
          await other.close();
        }
      });

      it('waits for a transaction in progress when closed', async () => {
        let release!: () => void;
        const held = new Promise<void>((r) => (release = r));
        const tx = store.transaction(async (t) => {
          await t.setMeta('k', 'v', T0);
          await held;
        });
        const closing = store.close();
        release();
        await Promise.all([tx, closing]);
        store = await db.connect();
        expect(await store.getMeta('k')).toBe('v');
      });

      it('names its kind and where its data is', () => {
        expect(store.kind).toMatch(/^\w+$/);
        expect(store.location.length).toBeGreaterThan(0);
      });
    });

    describe('requests, steps and decisions', () => {
      it('stores a request as given, and updates it only from the statuses named', async () => {
        const r = request('req_1', {
          justification: 'a "quoted" <justification> 🙂',
          requester: { directoryId: 'u-ada', email: 'ada@example.com', name: 'Ada', slackId: null },
        });
        await store.transaction((tx) => tx.insertRequest(r));
        expect(await store.getRequest('req_1')).toEqual(r);
        expect(await store.transaction((tx) => tx.updateRequest('req_1', ['approved'], { status: 'denied' }))).toBe(
          false,
        );
        expect(
          await store.transaction((tx) =>
            tx.updateRequest('req_1', ['pending_approval'], {
              status: 'approved',
              grantedSeconds: 1800,
              decidedAt: at(5),
              currentStep: -1,
            }),
          ),
        ).toBe(true);
        expect(await store.getRequest('req_1')).toEqual({
          ...r,
          status: 'approved',
          grantedSeconds: 1800,
          decidedAt: at(5),
          currentStep: -1,
        });
        expect(
          await store.transaction((tx) => tx.updateRequest('missing', ['pending_approval'], { status: 'approved' })),
        ).toBe(false);
        expect(await store.getRequest('missing')).toBeUndefined();
      });

      it('keeps one pending request per person and role', async () => {
        await store.transaction((tx) => tx.insertRequest(request('req_1')));
        expect(await store.findPendingRequest('u-ada', 'github', 'owner')).toMatchObject({ id: 'req_1' });
        expect(await store.findPendingRequest('u-ada', 'github', 'member')).toBeUndefined();
        await store.transaction((tx) => tx.updateRequest('req_1', ['pending_approval'], { status: 'cancelled' }));
        expect(await store.findPendingRequest('u-ada', 'github', 'owner')).toBeUndefined();
        await store.transaction((tx) => tx.insertRequest(request('req_2')));
        expect(await store.findPendingRequest('u-ada', 'github', 'owner')).toMatchObject({ id: 'req_2' });
      });

      it('lists requests newest first by filter, and the overdue ones by deadline', async () => {
        await store.transaction(async (tx) => {
          await tx.insertRequest(request('req_a', { createdAt: at(1), approvalDeadline: at(100) }));
          await tx.insertRequest(request('req_b', { createdAt: at(2), role: 'member', approvalDeadline: at(50) }));
          await tx.insertRequest(
            request('req_c', {
              createdAt: at(3),
              app: 'aws',
              role: 'admin',
              status: 'denied',
              approvalDeadline: at(10),
            }),
          );
          await tx.insertRequest(
            request('req_d', {
              createdAt: at(4),
              requester: { directoryId: 'u-alan', email: 'alan@example.com', name: 'Alan' },
            }),
          );
        });
        expect((await store.listRequests({})).map((r) => r.id)).toEqual(['req_d', 'req_c', 'req_b', 'req_a']);
        expect(
          (await store.listRequests({ requesterId: 'u-ada', status: ['pending_approval'] })).map((r) => r.id),
        ).toEqual(['req_b', 'req_a']);
        expect((await store.listRequests({ app: 'github', role: 'owner' })).map((r) => r.id)).toEqual([
          'req_d',
          'req_a',
        ]);
        expect((await store.listRequests({ limit: 1 })).map((r) => r.id)).toEqual(['req_d']);
        expect((await store.overdueRequests(at(100), 10)).map((r) => r.id)).toEqual(['req_b', 'req_a']);
        expect((await store.overdueRequests(at(100), 1)).map((r) => r.id)).toEqual(['req_b']);
        expect(await store.overdueRequests(at(49), 10)).toEqual([]);
      });

      it('keeps steps in order and updates one only from the statuses named', async () => {
        const approvers = [{ directoryId: 'u-marcus', email: 'marcus@example.com', name: 'Marcus', slackId: null }];
        await store.transaction(async (tx) => {
          await tx.insertRequest(request('req_1', { stepCount: 2 }));
          await tx.insertSteps([
            step('req_1', 1, { step: { kind: 'group', group: 'security-team', minApprovals: 2, notify: 'C0SEC' } }),
            step('req_1', 0),
          ]);
        });
        expect((await store.getSteps('req_1')).map((s) => s.index)).toEqual([0, 1]);
        expect(await store.transaction((tx) => tx.updateStep('req_1', 0, ['open'], { status: 'approved' }))).toBe(
          false,
        );
        expect(
          await store.transaction((tx) =>
            tx.updateStep('req_1', 0, ['waiting'], {
              status: 'open',
              approvers,
              startedAt: at(1),
              fallbackReason: null,
            }),
          ),
        ).toBe(true);
        const [first, second] = await store.getSteps('req_1');
        expect(first).toEqual(step('req_1', 0, { status: 'open', approvers, startedAt: at(1) }));
        expect(second!.step).toEqual({ kind: 'group', group: 'security-team', minApprovals: 2, notify: 'C0SEC' });
      });

      it("records each person's decision on a request once, and finds the requests awaiting an approver", async () => {
        const marcus = { directoryId: 'u-marcus', email: 'marcus@example.com', name: 'Marcus', slackId: 'U0MARCUS' };
        const sam = { directoryId: 'u-sam', email: 'sam@example.com', name: 'Sam', slackId: null };
        await store.transaction(async (tx) => {
          await tx.insertRequest(request('req_1', { stepCount: 2 }));
          await tx.insertSteps([step('req_1', 0, { status: 'open', approvers: [marcus, sam] }), step('req_1', 1)]);
          await tx.insertRequest(request('req_2', { role: 'member', currentStep: 1, stepCount: 2 }));
          await tx.insertSteps([
            step('req_2', 0, { status: 'approved', approvers: [marcus] }),
            step('req_2', 1, { status: 'open', approvers: [sam] }),
          ]);
        });
        expect((await store.requestsAwaiting('u-marcus')).map((r) => r.id)).toEqual(['req_1']);
        expect((await store.requestsAwaiting('u-sam')).map((r) => r.id)).toEqual(['req_1', 'req_2']);
        const decision = {
          requestId: 'req_1',
          stepIndex: 0,
          approver: marcus,
          decision: 'approve' as const,
          reason: null,
          shortenedToSeconds: 1800,
          at: at(1),
          onBehalfOf: null,
        };
        await store.transaction((tx) => tx.insertDecision(decision));
        const again = await store
          .transaction((tx) => tx.insertDecision({ ...decision, stepIndex: 1, at: at(2) }))
          .catch((e: unknown) => e);
        expect((again as AccessError).code).toBe('already_decided_step');
        expect(await store.getDecisions('req_1')).toEqual([decision]);
        expect(await store.requestsAwaiting('u-marcus')).toEqual([]);
        await store.transaction((tx) =>
          tx.insertDecision({
            ...decision,
            approver: sam,
            decision: 'deny',
            reason: 'no',
            shortenedToSeconds: null,
            at: at(3),
          }),
        );
        expect((await store.getDecisions('req_1')).map((d) => d.approver.directoryId)).toEqual(['u-marcus', 'u-sam']);
        const byRequest = await store.decisionsFor(['req_1', 'req_2', 'missing']);
        expect([...byRequest.keys()]).toEqual(['req_1']);
        expect(byRequest.get('req_1')).toHaveLength(2);
      });
    });

    describe('escalations, approver reminders and delegated decisions', () => {
      const marcus = { directoryId: 'u-marcus', email: 'marcus@example.com', name: 'Marcus', slackId: 'U0MARCUS' };
      const kim = { directoryId: 'u-kim', email: 'kim@example.com', name: 'Kim', slackId: null };
      const priya = { directoryId: 'u-priya', email: 'priya@example.com', name: 'Priya', slackId: null };

      it('finds the open steps due to escalate and due for a reminder, earliest first, and keeps what the sweep writes', async () => {
        await store.transaction(async (tx) => {
          for (const [id, role] of [
            ['req_1', 'owner'],
            ['req_2', 'member'],
            ['req_3', 'triage'],
            ['req_4', 'viewer'],
          ] as const) {
            await tx.insertRequest(request(id, { role }));
          }
          await tx.insertSteps([
            step('req_1', 0, { status: 'open', approvers: [marcus], escalateAt: at(200), nextReminderAt: at(300) }),
          ]);
          await tx.insertSteps([
            step('req_2', 0, { status: 'open', approvers: [marcus], escalateAt: at(100), nextReminderAt: at(50) }),
          ]);
          // Decided: never due, whatever its times say.
          await tx.insertSteps([
            step('req_3', 0, { status: 'approved', approvers: [marcus], escalateAt: at(10), nextReminderAt: at(10) }),
          ]);
          // Open, with neither escalation nor reminders (the look-ups' partial indexes leave it out): never due.
          await tx.insertSteps([step('req_4', 0, { status: 'open', approvers: [marcus] })]);
        });
        expect((await store.stepsDueToEscalate(at(99), 10)).map((s) => s.requestId)).toEqual([]);
        expect((await store.stepsDueToEscalate(at(500), 10)).map((s) => s.requestId)).toEqual(['req_2', 'req_1']);
        expect((await store.stepsDueToEscalate(at(500), 1)).map((s) => s.requestId)).toEqual(['req_2']);
        expect((await store.stepsDueForApproverReminder(at(300), 10)).map((s) => s.requestId)).toEqual([
          'req_2',
          'req_1',
        ]);

        // Escalated: no longer due to escalate; the people it added await it too.
        expect(
          await store.transaction((tx) =>
            tx.updateStep('req_2', 0, ['open'], { escalatedAt: at(101), escalationApprovers: [priya] }),
          ),
        ).toBe(true);
        expect((await store.stepsDueToEscalate(at(500), 10)).map((s) => s.requestId)).toEqual(['req_1']);
        expect((await store.getSteps('req_2'))[0]).toMatchObject({
          escalatedAt: at(101),
          escalationApprovers: [priya],
          escalateAt: at(100),
        });
        expect((await store.requestsAwaiting('u-priya')).map((r) => r.id)).toEqual(['req_2']);

        // A reminder sent: the next one moves on; none left, the step drops out.
        await store.transaction((tx) =>
          tx.updateStep('req_2', 0, ['open'], { remindersSent: [3600], nextReminderAt: null }),
        );
        expect((await store.getSteps('req_2'))[0]).toMatchObject({ remindersSent: [3600], nextReminderAt: null });
        expect((await store.stepsDueForApproverReminder(at(1000), 10)).map((s) => s.requestId)).toEqual(['req_1']);
      });

      it('records a decision made for someone, and lets each approver be stood in for once per request', async () => {
        await store.transaction(async (tx) => {
          await tx.insertRequest(request('req_1', { stepCount: 2 }));
          await tx.insertSteps([
            step('req_1', 0, { status: 'open', approvers: [marcus] }),
            step('req_1', 1, { approvers: [marcus, priya] }),
          ]);
        });
        const decision = {
          requestId: 'req_1',
          stepIndex: 0,
          approver: kim,
          decision: 'approve' as const,
          reason: null,
          shortenedToSeconds: null,
          at: at(1),
          onBehalfOf: marcus,
        };
        await store.transaction((tx) => tx.insertDecision(decision));
        expect(await store.getDecisions('req_1')).toEqual([decision]);
        // Marcus was used up by his delegate: the request no longer awaits him.
        expect(await store.requestsAwaiting('u-marcus')).toEqual([]);
        // Someone else standing in for Marcus again on the same request is refused, like a second decision.
        const again = await store
          .transaction((tx) => tx.insertDecision({ ...decision, approver: priya, stepIndex: 1, at: at(2) }))
          .catch((e: unknown) => e);
        expect((again as AccessError).code).toBe('already_decided_step');
        expect(await store.getDecisions('req_1')).toHaveLength(1);
      });
    });

    describe('break-glass reviews and delegations', () => {
      const sam = { directoryId: 'u-sam', email: 'sam@example.com', name: 'Sam', slackId: 'U0SAM' };
      const review = (grantId: string, overrides: Partial<BreakGlassReview> = {}): BreakGlassReview => ({
        grantId,
        requestId: `req_${grantId}`,
        reviewers: { kind: 'group', group: 'security-team' },
        incident: 'INC-42',
        createdAt: at(0),
        dueAt: at(86_400),
        status: 'pending',
        reviewer: null,
        reason: null,
        reviewedAt: null,
        ...overrides,
      });

      it('keeps one review per break-glass grant, lists the pending and overdue ones, and records the outcome once', async () => {
        await store.transaction(async (tx) => {
          await insertGrant(tx, grant('grt_1', { breakGlass: true }));
          await insertGrant(tx, grant('grt_2', { breakGlass: true, role: 'member', createdAt: at(10) }));
          await tx.insertBreakGlassReview(review('grt_1'));
          await tx.insertBreakGlassReview(
            review('grt_2', {
              createdAt: at(10),
              dueAt: at(100),
              reviewers: { kind: 'user', user: 'ciso@example.com' },
              incident: null,
            }),
          );
        });
        expect((await store.getGrant('grt_1'))!.breakGlass).toBe(true);
        expect(await store.getBreakGlassReview('grt_1')).toEqual(review('grt_1'));
        expect(await store.getBreakGlassReview('grt_9')).toBeUndefined();
        expect([...(await store.breakGlassReviewsFor(['grt_2', 'grt_1', 'grt_9'])).keys()].sort()).toEqual([
          'grt_1',
          'grt_2',
        ]);
        expect((await store.listBreakGlassReviews({ status: ['pending'] })).map((r) => r.grantId)).toEqual([
          'grt_2',
          'grt_1',
        ]);
        expect((await store.overdueBreakGlassReviews(at(100), 10)).map((r) => r.grantId)).toEqual(['grt_2']);
        expect((await store.overdueBreakGlassReviews(at(90_000), 10)).map((r) => r.grantId)).toEqual([
          'grt_2',
          'grt_1',
        ]);

        const outcome = { status: 'not_justified' as const, reviewer: sam, reason: 'no incident', reviewedAt: at(200) };
        expect(await store.transaction((tx) => tx.updateBreakGlassReview('grt_2', ['pending'], outcome))).toBe(true);
        expect(
          await store.transaction((tx) => tx.updateBreakGlassReview('grt_2', ['pending'], { status: 'justified' })),
        ).toBe(false);
        expect(await store.getBreakGlassReview('grt_2')).toEqual(
          review('grt_2', {
            createdAt: at(10),
            dueAt: at(100),
            reviewers: { kind: 'user', user: 'ciso@example.com' },
            incident: null,
            ...outcome,
          }),
        );
        expect((await store.overdueBreakGlassReviews(at(90_000), 10)).map((r) => r.grantId)).toEqual(['grt_1']);
        expect(
          (await store.listBreakGlassReviews({ status: ['not_justified', 'justified'] })).map((r) => r.grantId),
        ).toEqual(['grt_2']);
      });

      const delegation = (id: string, overrides: Partial<Delegation> = {}): Delegation => ({
        id,
        delegator: { directoryId: 'u-marcus', email: 'marcus@example.com', name: 'Marcus', slackId: 'U0MARCUS' },
        delegate: { directoryId: 'u-kim', email: 'kim@example.com', name: 'Kim', slackId: null },
        startsAt: at(0),
        endsAt: at(86_400),
        status: 'active',
        createdAt: at(0),
        endedAt: null,
        endedReason: null,
        ...overrides,
      });

      it('keeps one active delegation per person, finds them by either person, and ends them once', async () => {
        await store.transaction((tx) => tx.insertDelegation(delegation('dlg_1')));
        const second = await store
          .transaction((tx) => tx.insertDelegation(delegation('dlg_2', { createdAt: at(5) })))
          .catch((e: unknown) => e);
        expect((second as AccessError).code).toBe('invalid_delegation');
        expect(await store.getDelegation('dlg_1')).toEqual(delegation('dlg_1'));
        expect((await store.activeDelegationBy('u-marcus'))?.id).toBe('dlg_1');
        expect(await store.activeDelegationBy('u-kim')).toBeUndefined();
        expect((await store.activeDelegationsTo('u-kim')).map((d) => d.id)).toEqual(['dlg_1']);
        expect((await store.activeDelegationsInvolving('u-kim')).map((d) => d.id)).toEqual(['dlg_1']);
        expect((await store.activeDelegationsInvolving('u-marcus')).map((d) => d.id)).toEqual(['dlg_1']);
        expect(await store.expiredDelegations(at(86_399), 10)).toEqual([]);
        expect((await store.expiredDelegations(at(86_400), 10)).map((d) => d.id)).toEqual(['dlg_1']);

        // Replaced in one transaction: the old one ends, the new one starts.
        await store.transaction(async (tx) => {
          expect(
            await tx.updateDelegation('dlg_1', ['active'], {
              status: 'ended',
              endedAt: at(5),
              endedReason: 'replaced',
            }),
          ).toBe(true);
          await tx.insertDelegation(delegation('dlg_2', { createdAt: at(5), endsAt: at(172_800), delegate: sam }));
        });
        expect(
          await store.transaction((tx) =>
            tx.updateDelegation('dlg_1', ['active'], { status: 'ended', endedReason: 'off' }),
          ),
        ).toBe(false);
        expect(await store.getDelegation('dlg_1')).toMatchObject({
          status: 'ended',
          endedAt: at(5),
          endedReason: 'replaced',
        });
        expect((await store.activeDelegationBy('u-marcus'))?.delegate.email).toBe('sam@example.com');
        expect(await store.activeDelegationsTo('u-kim')).toEqual([]);
        expect((await store.listDelegations({})).map((d) => d.id)).toEqual(['dlg_2', 'dlg_1']);
        expect((await store.listDelegations({ status: ['ended'] })).map((d) => d.id)).toEqual(['dlg_1']);
      });

      it('reads many delegations in one call: by id (inside a transaction too), and the active ones of many delegators', async () => {
        const person = (id: string) => ({ directoryId: id, email: `${id}@example.com`, name: id, slackId: null });
        await store.transaction(async (tx) => {
          await tx.insertDelegation(delegation('dlg_a', { delegator: person('u-a') }));
          await tx.insertDelegation(delegation('dlg_b', { delegator: person('u-b'), status: 'ended' }));
          await tx.insertDelegation(delegation('dlg_c', { delegator: person('u-c') }));
        });
        const ids = (list: { id: string }[]) => list.map((d) => d.id).sort();
        expect(ids(await store.getDelegations(['dlg_c', 'missing', 'dlg_a', 'dlg_b']))).toEqual([
          'dlg_a',
          'dlg_b',
          'dlg_c',
        ]);
        expect(await store.getDelegations([])).toEqual([]);
        expect(ids(await store.transaction((tx) => tx.getDelegations(['dlg_c', 'dlg_a'])))).toEqual(['dlg_a', 'dlg_c']);
        // The ended one and a person who gives none are left out.
        expect(ids(await store.activeDelegationsBy(['u-a', 'u-b', 'u-c', 'u-nobody']))).toEqual(['dlg_a', 'dlg_c']);
        expect(await store.activeDelegationsBy([])).toEqual([]);
        const many = Array.from({ length: 1200 }, (_, i) => `u-${i}`);
        expect(ids(await store.activeDelegationsBy([...many, 'u-c']))).toEqual(['dlg_c']);
      });
    });

    describe('grants, extensions and tasks', () => {
      it('stores a grant as given (its provisioning snapshot, an unknown prior membership) and updates it only from the statuses named', async () => {
        const g = grant('grt_1', {
          holder: { directoryId: 'u-ada', email: 'ada@example.com', name: 'Ada', slackId: 'U0ADA' },
          remindersSent: [86400],
        });
        await store.transaction((tx) => insertGrant(tx, g));
        expect(await store.getGrant('grt_1')).toEqual(g);
        expect(await store.grantForRequest('req_grt_1')).toEqual(g);
        expect(await store.transaction((tx) => tx.updateGrant('grt_1', ['revoking'], { status: 'revoked' }))).toBe(
          false,
        );
        expect(
          await store.transaction((tx) =>
            tx.updateGrant('grt_1', ['active'], { alreadyMember: false, remindersSent: [86400, 3600], lastError: 'x' }),
          ),
        ).toBe(true);
        expect(await store.getGrant('grt_1')).toEqual({
          ...g,
          alreadyMember: false,
          remindersSent: [86400, 3600],
          lastError: 'x',
        });
        expect(
          await store.transaction((tx) =>
            tx.updateGrant('grt_1', ['active'], { alreadyMember: true, lastError: null }),
          ),
        ).toBe(true);
        expect(await store.getGrant('grt_1')).toMatchObject({ alreadyMember: true, lastError: null });
      });

      it('finds open grants, lists them by filter, and picks the expired and the soon-expiring ones', async () => {
        await store.transaction(async (tx) => {
          await insertGrant(tx, grant('grt_a', { createdAt: at(1), expiresAt: at(100) }));
          await insertGrant(
            tx,
            grant('grt_b', { createdAt: at(2), role: 'member', sensitive: false, expiresAt: at(50) }),
          );
          await insertGrant(tx, grant('grt_c', { createdAt: at(3), status: 'revoked', expiresAt: at(10) }));
          await insertGrant(
            tx,
            grant('grt_d', {
              createdAt: at(4),
              holder: { directoryId: 'u-alan', email: 'alan@example.com', name: 'Alan' },
              status: 'provisioning',
              expiresAt: null,
              activatedAt: null,
            }),
          );
        });
        expect((await store.findOpenGrant('u-ada', 'github', 'owner'))?.id).toBe('grt_a');
        expect((await store.findOpenGrant('u-alan', 'github', 'owner'))?.id).toBe('grt_d');
        expect(await store.findOpenGrant('u-ada', 'aws', 'admin')).toBeUndefined();
        expect((await store.listGrants({})).map((g) => g.id)).toEqual(['grt_d', 'grt_c', 'grt_b', 'grt_a']);
        expect((await store.listGrants({ sensitive: false })).map((g) => g.id)).toEqual(['grt_b']);
        expect((await store.listGrants({ holderId: 'u-ada', status: ['active'] })).map((g) => g.id)).toEqual([
          'grt_b',
          'grt_a',
        ]);
        // A filter of the same shape with other values, and another limit: each run reads its own rows.
        const ids = async (filter: Parameters<typeof store.listGrants>[0]) =>
          (await store.listGrants(filter)).map((g) => g.id);
        expect(await ids({ holderId: 'u-alan', status: ['active'] })).toEqual([]);
        expect(await ids({ holderId: 'u-alan', status: ['active', 'provisioning'] })).toEqual(['grt_d']);
        expect(
          await ids({ holderId: 'u-ada', app: 'github', role: 'owner', status: ['active', 'provisioning'] }),
        ).toEqual(['grt_a']);
        expect(
          await ids({ holderId: 'u-ada', app: 'github', role: 'member', status: ['active', 'provisioning'] }),
        ).toEqual(['grt_b']);
        expect(await ids({ sensitive: true, status: ['active', 'revoked'] })).toEqual(['grt_c', 'grt_a']);
        expect(await ids({ limit: 2 })).toEqual(['grt_d', 'grt_c']);
        expect(await ids({ limit: 3 })).toEqual(['grt_d', 'grt_c', 'grt_b']);
        expect((await store.expiredGrants(at(100), 10)).map((g) => g.id)).toEqual(['grt_b', 'grt_a']);
        expect((await store.expiredGrants(at(100), 1)).map((g) => g.id)).toEqual(['grt_b']);
        expect((await store.grantsExpiringBefore(at(60), 10)).map((g) => g.id)).toEqual(['grt_b']);
        expect((await store.getGrants(['grt_c', 'missing', 'grt_a'])).map((g) => g.id).sort()).toEqual([
          'grt_a',
          'grt_c',
        ]);
        expect(await store.holdersOf(['active', 'provisioning'])).toEqual(['u-ada', 'u-alan']);
      });

      it('reads grants by id in one call however many ids there are', async () => {
        const ids = Array.from({ length: 1200 }, (_, i) => `grt_${String(i).padStart(4, '0')}`);
        await store.transaction(async (tx) => {
          for (const id of ids)
            await insertGrant(
              tx,
              grant(id, { holder: { directoryId: `u-${id}`, email: `${id}@example.com`, name: id } }),
            );
        });
        expect((await store.getGrants(ids)).map((g) => g.id).sort()).toEqual(ids);
        const requestIds = ids.map((id) => `req_${id}`);
        expect((await store.decisionsFor(requestIds)).size).toBe(0);
      });

      it('owes a reminder for each lead time reached, shorter than the grant and not yet sent', async () => {
        await store.transaction(async (tx) => {
          await insertGrant(tx, grant('grt_day', { durationSeconds: 3 * 86400, expiresAt: at(86400 - 10) }));
          await insertGrant(tx, grant('grt_hour', { role: 'member', durationSeconds: 2 * 3600, expiresAt: at(3000) }));
          await insertGrant(tx, grant('grt_short', { role: 'triage', durationSeconds: 1800, expiresAt: at(1000) }));
          await insertGrant(
            tx,
            grant('grt_sent', {
              role: 'viewer',
              durationSeconds: 2 * 3600,
              expiresAt: at(3000),
              remindersSent: [3600],
            }),
          );
          await insertGrant(tx, grant('grt_past', { role: 'admin', durationSeconds: 2 * 3600, expiresAt: at(-1) }));
        });
        expect((await store.grantsDueForReminder(T0, [86400, 3600], 10)).map((g) => g.id)).toEqual([
          'grt_hour',
          'grt_day',
        ]);
        expect((await store.grantsDueForReminder(T0, [86400, 3600], 1)).map((g) => g.id)).toEqual(['grt_hour']);
        expect(await store.grantsDueForReminder(T0, [], 10)).toEqual([]);
      });

      it('knows which grants keep a person in a group, and the groups grants were provisioned through', async () => {
        const viaGroup = (id: string, group: string, overrides: Partial<Grant> = {}) =>
          grant(id, {
            snapshot: { provision: { method: 'okta_group', group }, policyName: 'p', policyVersion: 'v1' },
            ...overrides,
          });
        await store.transaction(async (tx) => {
          await insertGrant(tx, viaGroup('grt_1', 'admins'));
          await insertGrant(tx, viaGroup('grt_2', 'admins', { role: 'member', status: 'provisioning' }));
          await insertGrant(
            tx,
            viaGroup('grt_3', 'admins', { role: 'triage', status: 'revoking', alreadyMember: true }),
          );
          await insertGrant(
            tx,
            viaGroup('grt_4', 'admins', { role: 'viewer', status: 'revoking', alreadyMember: false }),
          );
          await insertGrant(tx, viaGroup('grt_5', 'readers', { role: 'reader', status: 'revoked' }));
          await insertGrant(
            tx,
            viaGroup('grt_7', 'readers', {
              role: 'reader',
              status: 'provisioning',
              holder: { directoryId: 'u-bo', email: 'bo@example.com', name: 'Bo', slackId: 'U0BO' },
            }),
          );
          await insertGrant(
            tx,
            grant('grt_6', {
              role: 'laptop',
              snapshot: { provision: { method: 'manual', assigneeGroup: 'it' }, policyName: 'p', policyVersion: 'v1' },
            }),
          );
        });
        const keeping = async (...memberships: [string, string][]) =>
          (await store.grantsKeepingMemberships(memberships.map(([holderId, group]) => ({ holderId, group }))))
            .map((g) => g.id)
            .sort();
        // grt_4 is being revoked and takes the membership away; grt_3's holder was a member before.
        expect(await keeping(['u-ada', 'admins'])).toEqual(['grt_1', 'grt_2', 'grt_3']);
        expect(await keeping(['u-ada', 'readers'])).toEqual([]); // grt_5 is revoked
        expect(await keeping(['u-alan', 'admins'])).toEqual([]);
        // Several memberships in one read: each holder with each of their groups, never crossed.
        expect(await keeping(['u-alan', 'admins'], ['u-ada', 'admins'], ['u-bo', 'readers'])).toEqual([
          'grt_1',
          'grt_2',
          'grt_3',
          'grt_7',
        ]);
        expect(await keeping(['u-ada', 'readers'], ['u-bo', 'admins'])).toEqual([]);
        expect(await keeping()).toEqual([]);
        expect((await store.grantsThroughGroup('admins')).map((g) => g.id)).toEqual([
          'grt_1',
          'grt_2',
          'grt_3',
          'grt_4',
        ]);
        expect((await store.grantsThroughGroup('admins', { status: ['revoking'] })).map((g) => g.id)).toEqual([
          'grt_3',
          'grt_4',
        ]);
        expect(await store.grantsThroughGroup('admins', { holderId: 'u-alan' })).toEqual([]);
        expect(await store.provisionGroupsOf(['active', 'revoked'])).toEqual(['admins', 'readers']);
        expect(await store.provisionGroupsOf(['active'])).toEqual(['admins']);
      });

      it("keeps a grant's extensions in time order", async () => {
        await store.transaction(async (tx) => {
          await insertGrant(tx, grant('grt_1'));
          await tx.insertRequest(
            request('req_ext2', { kind: 'extension', grantId: 'grt_1', status: 'approved', role: 'x' }),
          );
          await tx.insertRequest(
            request('req_ext1', { kind: 'extension', grantId: 'grt_1', status: 'approved', role: 'y' }),
          );
          await tx.insertExtension({
            id: 'ext_2',
            grantId: 'grt_1',
            requestId: 'req_ext2',
            addedSeconds: 60,
            previousExpiresAt: at(3660),
            newExpiresAt: at(3720),
            at: at(20),
          });
          await tx.insertExtension({
            id: 'ext_1',
            grantId: 'grt_1',
            requestId: 'req_ext1',
            addedSeconds: 60,
            previousExpiresAt: at(3600),
            newExpiresAt: at(3660),
            at: at(10),
          });
        });
        expect((await store.getExtensions('grt_1')).map((e) => e.id)).toEqual(['ext_1', 'ext_2']);
        expect(await store.getExtensions('grt_other')).toEqual([]);
      });

      it('records one task per grant and action, and completes it once', async () => {
        const task = {
          id: 'tsk_1',
          grantId: 'grt_1',
          action: 'grant' as const,
          assigneeGroup: 'it-helpdesk',
          status: 'open' as const,
          createdAt: T0,
          completedBy: null,
          completedAt: null,
        };
        await store.transaction(async (tx) => {
          await insertGrant(tx, grant('grt_1', { status: 'provisioning' }));
          await tx.insertTask(task);
          await tx.insertTask({ ...task, id: 'tsk_2', assigneeGroup: 'someone-else' });
        });
        expect(await store.getTask('tsk_1')).toEqual(task);
        expect(await store.getTask('tsk_2')).toBeUndefined();
        expect(await store.getTaskFor('grt_1', 'grant')).toEqual(task);
        expect(await store.getTaskFor('grt_1', 'revoke')).toBeUndefined();
        const ian = { directoryId: 'u-ian', email: 'ian@example.com', name: 'Ian' };
        expect(
          await store.transaction((tx) =>
            tx.updateTask('tsk_1', ['open'], { status: 'done', completedAt: at(5), completedBy: ian }),
          ),
        ).toBe(true);
        expect(
          await store.transaction((tx) =>
            tx.updateTask('tsk_1', ['open'], { status: 'done', completedAt: at(6), completedBy: ian }),
          ),
        ).toBe(false);
        expect(await store.getTask('tsk_1')).toEqual({ ...task, status: 'done', completedAt: at(5), completedBy: ian });
      });

      it('lists the open tasks of some groups, oldest first', async () => {
        const task = (id: string, grantId: string, group: string, createdAt: string) => ({
          id,
          grantId,
          action: 'grant' as const,
          assigneeGroup: group,
          status: 'open' as const,
          createdAt,
          completedBy: null,
          completedAt: null,
        });
        await store.transaction(async (tx) => {
          for (const id of ['grt_1', 'grt_2', 'grt_3'])
            await insertGrant(tx, grant(id, { role: id, status: 'provisioning' }));
          await tx.insertTask(task('tsk_late', 'grt_1', 'it-helpdesk', at(20)));
          await tx.insertTask(task('tsk_early', 'grt_2', 'it-helpdesk', at(10)));
          await tx.insertTask(task('tsk_other', 'grt_3', 'facilities', at(5)));
          await tx.updateTask('tsk_other', ['open'], { status: 'done', completedAt: at(6) });
        });
        expect((await store.openTasks(['it-helpdesk', 'facilities'], 10)).map((t) => t.id)).toEqual([
          'tsk_early',
          'tsk_late',
        ]);
        expect((await store.openTasks(['it-helpdesk'], 1)).map((t) => t.id)).toEqual(['tsk_early']);
        expect(await store.openTasks([], 10)).toEqual([]);
      });
    });

    describe('identity and policy versions', () => {
      it('binds a Slack user to one directory person, refuses a second claim, and unbinds', async () => {
        const binding = { slackUserId: 'U0ADA', directoryId: 'u-ada', email: 'ada@example.com', boundAt: T0 };
        await store.transaction((tx) => tx.bindIdentity(binding));
        expect(await store.bindingForSlackUser('U0ADA')).toEqual(binding);
        expect(await store.bindingForPerson('u-ada')).toEqual(binding);
        const conflict = await store
          .transaction((tx) => tx.bindIdentity({ ...binding, slackUserId: 'U0OTHER' }))
          .catch((e: unknown) => e);
        expect((conflict as AccessError).code).toBe('identity_conflict');
        expect(await store.transaction((tx) => tx.unbindIdentity('U0ADA'))).toBe(true);
        expect(await store.transaction((tx) => tx.unbindIdentity('U0ADA'))).toBe(false);
        expect(await store.bindingForPerson('u-ada')).toBeUndefined();
      });

      it("reads a Slack user's binding with the bound person's open grant and waiting request of a role, as the reads one by one do", async () => {
        expect(await store.roleStateForSlackUser('U0ADA', 'github', 'owner')).toEqual({});
        const binding = { slackUserId: 'U0ADA', directoryId: 'u-ada', email: 'ada@example.com', boundAt: T0 };
        await store.transaction((tx) => tx.bindIdentity(binding));
        expect(await store.roleStateForSlackUser('U0ADA', 'github', 'owner')).toEqual({ binding });
        const held = grant('grt_new', { createdAt: at(2) });
        const pending = request('req_wait', { kind: 'extension', grantId: 'grt_new' });
        await store.transaction(async (tx) => {
          // Not the held grant: revoked, break-glass, another role, another person, or older.
          await insertGrant(tx, grant('grt_revoked', { createdAt: at(3), status: 'revoked' }));
          await insertGrant(tx, grant('grt_glass', { createdAt: at(4), breakGlass: true }));
          await insertGrant(tx, grant('grt_member', { createdAt: at(5), role: 'member' }));
          await insertGrant(
            tx,
            grant('grt_alan', {
              createdAt: at(6),
              holder: { directoryId: 'u-alan', email: 'alan@example.com', name: 'Alan' },
            }),
          );
          await insertGrant(tx, grant('grt_old', { createdAt: at(1), status: 'provisioning' }));
          await insertGrant(tx, held);
          await tx.insertRequest(request('req_done', { status: 'approved', createdAt: at(1) }));
          await tx.insertRequest(request('req_member', { role: 'member' }));
          await tx.insertRequest(pending);
        });
        const state = await store.roleStateForSlackUser('U0ADA', 'github', 'owner');
        expect(state).toEqual({ binding, held, pending });
        // The same answers as the reads one by one, inside a transaction too.
        expect(state.held).toEqual(
          (
            await store.listGrants({
              holderId: 'u-ada',
              app: 'github',
              role: 'owner',
              status: ['provisioning', 'active', 'revoking'],
            })
          ).find((g) => !g.breakGlass),
        );
        expect(state.pending).toEqual(await store.findPendingRequest('u-ada', 'github', 'owner'));
        expect(await store.transaction((tx) => tx.roleStateForSlackUser('U0ADA', 'github', 'owner'))).toEqual(state);
        expect(await store.roleStateForSlackUser('U0ADA', 'github', 'member')).toMatchObject({
          binding,
          held: { id: 'grt_member' },
          pending: { id: 'req_member' },
        });
        expect(await store.roleStateForSlackUser('U0ADA', 'okta', 'admin')).toEqual({ binding });
        expect(await store.roleStateForSlackUser('U0NOBODY', 'github', 'owner')).toEqual({});
      });

      it('records each policy version once, with when it was first and last seen, and the latest of each policy', async () => {
        const v1 = {
          policyName: 'github-owner',
          version: 'v1',
          app: 'github',
          role: 'owner',
          definition: { b: 1, a: [1, 2] },
          firstSeenAt: at(0),
          lastSeenAt: at(0),
        };
        await store.transaction((tx) => tx.upsertPolicyVersion(v1));
        await store.transaction((tx) => tx.upsertPolicyVersion({ ...v1, firstSeenAt: at(10), lastSeenAt: at(10) }));
        expect(await store.getPolicyVersion('github-owner', 'v1')).toEqual({ ...v1, lastSeenAt: at(10) });
        await store.transaction(async (tx) => {
          await tx.upsertPolicyVersion({ ...v1, version: 'v2', firstSeenAt: at(20), lastSeenAt: at(20) });
          await tx.upsertPolicyVersion({
            ...v1,
            policyName: 'aws-admin',
            app: 'aws',
            role: 'admin',
            firstSeenAt: at(20),
            lastSeenAt: at(20),
          });
        });
        expect((await store.latestPolicyVersions()).map((v) => [v.policyName, v.version])).toEqual([
          ['aws-admin', 'v1'],
          ['github-owner', 'v2'],
        ]);
        expect(await store.getPolicyVersion('github-owner', 'v3')).toBeUndefined();
      });

      it('keeps review definition versions beside the policies: exported without app or role, left out by an app filter', async () => {
        const policy = {
          policyName: 'github-owner',
          version: 'p1',
          app: 'github',
          role: 'owner',
          definition: { a: 1 },
          firstSeenAt: at(0),
          lastSeenAt: at(20),
        };
        const review = {
          policyName: 'review:quarterly',
          version: 'r1',
          app: '',
          role: '',
          definition: { due: '1w' },
          firstSeenAt: at(0),
          lastSeenAt: at(10),
        };
        await store.transaction(async (tx) => {
          await tx.upsertPolicyVersion(policy);
          await tx.upsertPolicyVersion(review);
          await tx.upsertPolicyVersion({
            ...review,
            version: 'r2',
            definition: { due: '10d' },
            firstSeenAt: at(10),
            lastSeenAt: at(20),
          });
        });
        expect((await store.latestPolicyVersions()).map((v) => [v.policyName, v.version])).toEqual([
          ['github-owner', 'p1'],
          ['review:quarterly', 'r2'],
        ]);
        const snapshot = await store.openSnapshot();
        try {
          const rows = (await snapshot.policyVersions(NO_FILTERS, 0, 100)).rows;
          expect(
            rows.map((r) => [
              r.version.policyName,
              r.version.version,
              r.version.app,
              r.version.role,
              r.current,
              r.inForceUntil,
            ]),
          ).toEqual([
            ['github-owner', 'p1', 'github', 'owner', true, null],
            ['review:quarterly', 'r1', '', '', false, at(10)],
            ['review:quarterly', 'r2', '', '', true, null],
          ]);
          expect(rows[2]!.version.definition).toEqual({ due: '10d' });
          const github = (await snapshot.policyVersions({ ...NO_FILTERS, app: 'github' }, 0, 100)).rows;
          expect(github.map((r) => r.version.policyName)).toEqual(['github-owner']);
        } finally {
          await snapshot.close();
        }
      });
    });

    describe('the audit log', () => {
      it('chains each event to the one before, in order, and reads it back by request, grant and time', async () => {
        const written = await store.transaction(async (tx) => [
          await tx.appendAudit(event(1, { requestId: 'req_1', details: { b: 1, a: { d: 2, c: 3 } } })),
          await tx.appendAudit(event(2, { grantId: 'grt_1', action: 'grant.activated' })),
        ]);
        const third = await store.transaction((tx) =>
          tx.appendAudit(
            event(3, {
              requestId: 'req_1',
              grantId: 'grt_1',
              action: 'grant.revoked',
              actor: { kind: 'person', directoryId: 'u-ada', email: 'ada@example.com' },
            }),
          ),
        );
        expect([...written, third].map((e) => e.seq)).toEqual([1, 2, 3]);
        expect(written[1]!.prevHash).toBe(written[0]!.hash);
        expect(third.prevHash).toBe(written[1]!.hash);
        expect(await store.auditHead()).toEqual({ seq: 3, hash: third.hash });
        const all = await store.auditEvents({ limit: 10 });
        expect(all.map(({ id: _id, ...e }) => e)).toEqual([...written, third]);
        expect(verifyChain(all).ok).toBe(true);
        expect(all[0]!.details).toEqual({ a: { c: 3, d: 2 }, b: 1 });
        expect((await store.auditEvents({ afterId: all[0]!.id, limit: 1 })).map((e) => e.seq)).toEqual([2]);
        expect((await store.auditEventsFor({ requestId: 'req_1' })).map((e) => e.seq)).toEqual([1, 3]);
        expect((await store.auditEventsFor({ grantId: 'grt_1' })).map((e) => e.seq)).toEqual([2, 3]);
        expect((await store.auditEventsBetween(at(2), at(3))).map((e) => e.seq)).toEqual([2]);
        expect((await store.auditEventsBetween(at(0), at(9), ['grant.revoked'])).map((e) => e.seq)).toEqual([3]);
      });

      it('keeps one unbroken chain when two connections append at the same time', async () => {
        const other = await db.connect();
        try {
          const append = (s: Store, who: string) =>
            Promise.all(
              Array.from({ length: 40 }, (_, i) =>
                s.transaction(async (tx) => {
                  await tx.appendAudit(event(i, { details: { who, i } }));
                  await tx.appendAudit(event(i, { details: { who, i, second: true } }));
                }),
              ),
            );
          await Promise.all([append(store, 'a'), append(other, 'b')]);
          const all = await store.auditEvents({ limit: 1000 });
          expect(all.map((e) => e.seq)).toEqual(Array.from({ length: 160 }, (_, i) => i + 1));
          expect(verifyChain(all).ok).toBe(true);
          // Each transaction's two events are adjacent: appends are serialised per transaction.
          for (let i = 0; i < all.length; i += 2)
            expect(all[i + 1]!.details).toMatchObject({ ...all[i]!.details, second: true });
        } finally {
          await other.close();
        }
      });
    });

    describe('the audit stream', () => {
      it("reads the events after a sink's cursor by seq, a batch at a time", async () => {
        await store.transaction(async (tx) => {
          for (let i = 1; i <= 7; i++) await tx.appendAudit(event(i, { details: { i } }));
        });
        expect((await store.auditEventsAfterSeq(0, 3)).map((e) => e.seq)).toEqual([1, 2, 3]);
        expect((await store.auditEventsAfterSeq(3, 3)).map((e) => e.seq)).toEqual([4, 5, 6]);
        expect((await store.auditEventsAfterSeq(6, 3)).map((e) => e.seq)).toEqual([7]);
        expect(await store.auditEventsAfterSeq(7, 3)).toEqual([]);
        const [fifth] = await store.auditEventsAfterSeq(4, 1);
        expect(fifth).toEqual((await store.auditEvents({ limit: 10 })).map(({ id: _id, ...e }) => e)[4]);
      });

      it("creates a sink's state at its first update, and moves its cursor only from where the mover read it", async () => {
        expect(await store.auditSinkStates()).toEqual([]);
        expect(
          await store.transaction((tx) =>
            tx.updateAuditSink('siem', 0, { deliveredSeq: 5, deliveredAt: at(1), updatedAt: at(1) }),
          ),
        ).toBe(true);
        // A second mover that read the cursor at 0 (a batch sent twice) changes nothing.
        expect(
          await store.transaction((tx) => tx.updateAuditSink('siem', 0, { deliveredSeq: 5, updatedAt: at(2) })),
        ).toBe(false);
        const failing = { failingSince: at(3), failures: 2, lastError: 'HTTP 503', alertedAt: null, updatedAt: at(3) };
        expect(await store.transaction((tx) => tx.updateAuditSink('siem', 5, failing))).toBe(true);
        expect(await store.transaction((tx) => tx.updateAuditSink('archive', 0, { updatedAt: at(4) }))).toBe(true);
        expect(await store.auditSinkStates()).toEqual([
          {
            name: 'archive',
            deliveredSeq: 0,
            deliveredAt: null,
            failingSince: null,
            failures: 0,
            lastError: null,
            alertedAt: null,
            updatedAt: at(4),
          },
          {
            name: 'siem',
            deliveredSeq: 5,
            deliveredAt: at(1),
            failingSince: at(3),
            failures: 2,
            lastError: 'HTTP 503',
            alertedAt: null,
            updatedAt: at(3),
          },
        ]);
        await expect(
          store.transaction((tx) => tx.updateAuditSink('siem', 5, { deliveredSeq: 4, updatedAt: at(5) })),
        ).rejects.toThrow(/cannot move back/);
      });

      it('lets exactly one of two connections move a sink past the same batch', async () => {
        const other = await db.connect();
        try {
          for (let round = 0; round < 10; round++) {
            const name = `race-${round}`;
            const results = await Promise.all([
              store.transaction((tx) => tx.updateAuditSink(name, 0, { deliveredSeq: 10, updatedAt: at(1) })),
              other.transaction((tx) => tx.updateAuditSink(name, 0, { deliveredSeq: 10, updatedAt: at(2) })),
            ]);
            expect(results.filter(Boolean)).toHaveLength(1);
          }
          expect((await store.auditSinkStates()).every((s) => s.deliveredSeq === 10)).toBe(true);
        } finally {
          await other.close();
        }
      });

      it('keeps signed checkpoints by seq, one per head, and finds the latest', async () => {
        const checkpoint = (seq: number) => ({
          seq,
          hash: String(seq % 10).repeat(64),
          at: at(seq),
          signature: `sig${seq}`,
          keyId: '0123456789abcdef',
          eventSeq: seq + 1,
        });
        expect(await store.latestAuditCheckpoint()).toBeUndefined();
        await store.transaction(async (tx) => {
          await tx.recordAuditCheckpoint(checkpoint(4));
          await tx.recordAuditCheckpoint(checkpoint(9));
          await tx.recordAuditCheckpoint(checkpoint(2));
        });
        expect((await store.auditCheckpoints()).map((c) => c.seq)).toEqual([2, 4, 9]);
        expect(await store.auditCheckpoints({ afterSeq: 2, limit: 1 })).toEqual([checkpoint(4)]);
        expect(await store.latestAuditCheckpoint()).toEqual(checkpoint(9));
        // A second checkpoint of the same head is refused by the database's key on seq, whatever the store.
        const refused: unknown = await store
          .transaction((tx) => tx.recordAuditCheckpoint(checkpoint(9)))
          .then(
            () => 'recorded',
            (error: unknown) => error,
          );
        expect(uniqueViolationCode(refused)).toMatch(/^(SQLITE_CONSTRAINT_PRIMARYKEY|SQLITE_CONSTRAINT_UNIQUE|23505)$/);
        expect(await store.auditCheckpoints()).toHaveLength(3);
      });

      it('reads requests by id in one call, for the events that name them', async () => {
        await store.transaction(async (tx) => {
          for (let i = 0; i < 3; i++)
            await tx.insertRequest(
              request(`req_${i}`, {
                requester: { directoryId: `u-${i}`, email: `p${i}@example.com`, name: `P ${i}`, slackId: null },
              }),
            );
        });
        const found = await store.getRequests(['req_2', 'req_missing', 'req_0']);
        expect(found.map((r) => r.id).sort()).toEqual(['req_0', 'req_2']);
        expect(found.find((r) => r.id === 'req_2')).toEqual(await store.getRequest('req_2'));
        const many = Array.from({ length: 1200 }, (_, i) => `req_${i}`);
        expect((await store.getRequests(many)).length).toBe(3);
      });
    });

    describe('jobs', () => {
      const provision = (grantId: string): JobPayload => ({ kind: 'provision', grantId });

      it('enqueues a key once, and hands each due job to one worker until it finishes or its lock expires', async () => {
        await store.transaction(async (tx) => {
          await tx.enqueueJob('provision:grt_1', provision('grt_1'), at(0));
          await tx.enqueueJob('provision:grt_1', provision('grt_other'), at(0)); // the same key: ignored
          await tx.enqueueJob(
            'notify:later',
            {
              kind: 'notify',
              notification: { type: 'alert', recipient: { kind: 'channel', channel: 'C0' }, text: 'x' },
            },
            at(100),
          );
        });
        const job = (await store.getJobByKey('provision:grt_1'))!;
        expect(job).toMatchObject({
          payload: provision('grt_1'),
          status: 'pending',
          attempts: 0,
          runAt: at(0),
          lastError: null,
        });
        expect(await store.getJob(job.id)).toEqual(job);
        expect((await store.dueJobs(at(0), 10)).map((j) => j.key)).toEqual(['provision:grt_1']);
        expect((await store.dueJobs(at(100), 10)).map((j) => j.key)).toEqual(['provision:grt_1', 'notify:later']);
        expect((await store.dueJobs(at(100), 10, ['notify'])).map((j) => j.key)).toEqual(['notify:later']);
        expect(await store.countJobs(['pending'])).toBe(2);
        expect(await store.countJobs(['pending'], ['notify'])).toBe(1);
        expect(await store.countJobs(['pending'], ['provision', 'revoke'])).toBe(1);
        expect(await store.countJobs(['running'], ['notify'])).toBe(0);

        expect(await store.transaction((tx) => tx.claimJob(job.id, 'w1', at(1), at(301)))).toBe(true);
        expect(await store.transaction((tx) => tx.claimJob(job.id, 'w2', at(2), at(302)))).toBe(false);
        expect((await store.dueJobs(at(300), 10)).map((j) => j.key)).toEqual(['notify:later']);
        expect(await store.countJobs(['running'])).toBe(1);
        // The lock expired (a dead worker): another worker takes the job over.
        expect((await store.dueJobs(at(301), 10)).map((j) => j.key)).toEqual(['provision:grt_1', 'notify:later']);
        // Oldest first across both kinds of due job, within the limit.
        expect((await store.dueJobs(at(301), 1)).map((j) => j.key)).toEqual(['provision:grt_1']);
        expect(await store.transaction((tx) => tx.claimJob(job.id, 'w2', at(301), at(601)))).toBe(true);
        expect((await store.getJob(job.id))!.attempts).toBe(2);
        expect(await store.transaction((tx) => tx.finishJob(job.id, 'w1', at(302)))).toBe(false);
        expect(await store.transaction((tx) => tx.finishJob(job.id, 'w2', at(302)))).toBe(true);
        expect(await store.getJob(job.id)).toMatchObject({ status: 'done', lastError: null, updatedAt: at(302) });
        expect(await store.countJobs(['pending', 'running'])).toBe(1);
        expect((await store.listJobs({ status: ['done'] })).map((j) => j.key)).toEqual(['provision:grt_1']);
        expect((await store.listJobs({})).map((j) => j.key)).toEqual(['provision:grt_1', 'notify:later']);
      });

      it('keeps every key unique, finished or not, whatever ids it names, and finds each by its key', async () => {
        const note = (text: string): JobPayload => ({
          kind: 'notify',
          notification: { type: 'alert', recipient: { kind: 'channel', channel: 'C0' }, text },
        });
        // Keys naming the same id (one request's jobs), ids of the same time, no id at all, and
        // keys that differ from another only after the id's time.
        const keys = [
          'notify:approval:req_0mxbbr6gmcef3226402a3:0:m0',
          'notify:submitted:req_0mxbbr6gmcef3226402a3',
          'notify:submitted:req_0mxbbr6gmffffffffffff',
          'provision:grt_0mxbbr6gm0000000000000',
          'notify:digest',
          'notify:digest:2026-03-02',
          'notify_alert',
        ];
        await store.transaction(async (tx) => {
          for (const key of keys) await tx.enqueueJob(key, note(key), at(0));
        });
        for (const key of keys) expect((await store.getJobByKey(key))?.payload).toEqual(note(key));
        expect(await store.getJobByKey('notify:submitted:req_0mxbbr6gm')).toBeUndefined();
        const first = (await store.getJobByKey(keys[0]!))!;
        await store.transaction((tx) => tx.claimJob(first.id, 'w1', at(0), at(300)));
        await store.transaction((tx) => tx.finishJob(first.id, 'w1', at(1)));
        // Enqueued again, pending or finished: ignored, nothing runs twice.
        await store.transaction(async (tx) => {
          for (const key of keys) await tx.enqueueJob(key, note('again'), at(2));
        });
        expect(await store.countJobs(['pending', 'running', 'done'])).toBe(keys.length);
        expect(await store.getJobByKey(keys[0]!)).toMatchObject({ status: 'done', payload: note(keys[0]!) });
        expect((await store.listJobs({})).map((j) => j.key).sort()).toEqual([...keys].sort());
      });

      it('schedules a failed job again, or gives it up, only for the worker holding it', async () => {
        await store.transaction((tx) => tx.enqueueJob('provision:grt_1', provision('grt_1'), at(0)));
        const { id } = (await store.getJobByKey('provision:grt_1'))!;
        await store.transaction((tx) => tx.claimJob(id, 'w1', at(0), at(300)));
        expect(await store.transaction((tx) => tx.failJob(id, 'w2', at(1), 'no', at(60)))).toBe(false);
        expect(await store.transaction((tx) => tx.failJob(id, 'w1', at(1), 'Okta 503', at(60)))).toBe(true);
        expect(await store.getJob(id)).toMatchObject({
          status: 'pending',
          runAt: at(60),
          lastError: 'Okta 503',
          attempts: 1,
        });
        expect(await store.dueJobs(at(59), 10)).toEqual([]);
        await store.transaction((tx) => tx.claimJob(id, 'w1', at(60), at(360)));
        expect(await store.transaction((tx) => tx.failJob(id, 'w1', at(61), 'x'.repeat(5000), null))).toBe(true);
        const dead = (await store.getJob(id))!;
        expect(dead).toMatchObject({ status: 'dead', attempts: 2 });
        expect(dead.lastError!.length).toBeLessThan(5000);
        expect(await store.dueJobs(at(9999), 10)).toEqual([]);
      });

      it('gives back a job claimed and not run: due at once, the attempt refunded, the last error kept', async () => {
        await store.transaction((tx) => tx.enqueueJob('provision:grt_1', provision('grt_1'), at(0)));
        const { id } = (await store.getJobByKey('provision:grt_1'))!;
        await store.transaction((tx) => tx.claimJob(id, 'w1', at(0), at(300)));
        await store.transaction((tx) => tx.failJob(id, 'w1', at(1), 'Okta 503', at(10)));
        await store.transaction((tx) => tx.claimJob(id, 'w1', at(10), at(310)));
        expect(await store.transaction((tx) => tx.releaseJob(id, 'w2', at(11)))).toBe(false);
        expect(await store.transaction((tx) => tx.releaseJob(id, 'w1', at(11)))).toBe(true);
        expect(await store.getJob(id)).toMatchObject({
          status: 'pending',
          runAt: at(10),
          attempts: 1,
          lastError: 'Okta 503',
          updatedAt: at(11),
        });
        expect(await store.transaction((tx) => tx.releaseJob(id, 'w1', at(12)))).toBe(false); // not running
        expect(await store.transaction((tx) => tx.claimJob(id, 'w2', at(12), at(312)))).toBe(true);
      });

      it('runs the jobs of one subject one at a time, whichever connection claims them', async () => {
        const other = await db.connect();
        try {
          const subject = 'okta_group:aws-admins:u-ada';
          await store.transaction(async (tx) => {
            await tx.enqueueJob('provision:grt_1', provision('grt_1'), at(0), subject);
            await tx.enqueueJob('revoke:grt_1', { kind: 'revoke', grantId: 'grt_1' }, at(0), subject);
            await tx.enqueueJob('provision:grt_2', provision('grt_2'), at(0)); // no subject
          });
          const add = (await store.getJobByKey('provision:grt_1'))!;
          const removal = (await store.getJobByKey('revoke:grt_1'))!;
          const unrelated = (await store.getJobByKey('provision:grt_2'))!;
          expect([add.subject, unrelated.subject]).toEqual([subject, null]);
          expect((await store.dueJobs(at(1), 10, undefined, [subject])).map((j) => j.key)).toEqual([
            'provision:grt_1',
            'revoke:grt_1',
          ]);

          expect(await store.transaction((tx) => tx.claimJob(add.id, 'w1', at(1), at(301)))).toBe(true);
          // While the add runs under a live lock, the other connection may not start the removal.
          expect(await other.transaction((tx) => tx.claimJob(removal.id, 'w2', at(2), at(302)))).toBe(false);
          expect(await other.transaction((tx) => tx.claimJob(unrelated.id, 'w2', at(2), at(302)))).toBe(true);
          // The add's worker died: once its lock expired, the subject is free.
          expect(await other.transaction((tx) => tx.claimJob(removal.id, 'w2', at(301), at(601)))).toBe(true);
          expect(await store.transaction((tx) => tx.claimJob(add.id, 'w1', at(302), at(602)))).toBe(false);
          expect(await other.transaction((tx) => tx.finishJob(removal.id, 'w2', at(303)))).toBe(true);
          expect(await store.transaction((tx) => tx.claimJob(add.id, 'w1', at(304), at(604)))).toBe(true);
        } finally {
          await other.close();
        }
      });

      it('reads the due jobs of several subjects at once, oldest first, and none for no subjects', async () => {
        const ada = 'okta_group:aws-admins:u-ada';
        const bob = 'okta_group:aws-admins:u-bob';
        await store.transaction(async (tx) => {
          await tx.enqueueJob('revoke:grt_2', { kind: 'revoke', grantId: 'grt_2' }, at(5), bob);
          await tx.enqueueJob('provision:grt_1', provision('grt_1'), at(0), ada);
          await tx.enqueueJob('provision:grt_3', provision('grt_3'), at(1), 'okta_group:aws-admins:u-cy');
          await tx.enqueueJob('revoke:grt_1', { kind: 'revoke', grantId: 'grt_1' }, at(9), ada);
          const alert = { type: 'alert', recipient: { kind: 'channel', channel: 'C0' }, text: 'no subject' } as const;
          await tx.enqueueJob('notify:x', { kind: 'notify', notification: alert }, at(0));
          await tx.enqueueJob('revoke:grt_4', { kind: 'revoke', grantId: 'grt_4' }, at(50), bob); // not due yet
        });
        const keys = async (subjects: string[], kinds?: JobPayload['kind'][], limit = 10) =>
          (await store.dueJobs(at(10), limit, kinds, subjects)).map((j) => j.key);
        expect(await keys([bob, ada])).toEqual(['provision:grt_1', 'revoke:grt_2', 'revoke:grt_1']);
        expect(await keys([bob, ada], ['revoke'])).toEqual(['revoke:grt_2', 'revoke:grt_1']);
        expect(await keys([bob, ada], undefined, 2)).toEqual(['provision:grt_1', 'revoke:grt_2']);
        expect(await keys(['okta_group:aws-admins:u-nobody'])).toEqual([]);
        expect(await keys([])).toEqual([]);
        // Inside a transaction too (the job runner reads them while it records a batch).
        expect((await store.transaction((tx) => tx.dueJobs(at(10), 10, undefined, [ada]))).map((j) => j.key)).toEqual([
          'provision:grt_1',
          'revoke:grt_1',
        ]);
      });

      it('claims and finishes a batch of jobs at once, with the same rules as one at a time', async () => {
        const other = await db.connect();
        try {
          const ada = 'okta_group:aws-admins:u-ada';
          const alan = 'okta_group:aws-admins:u-alan';
          await store.transaction(async (tx) => {
            await tx.enqueueJob('provision:grt_1', provision('grt_1'), at(0), ada);
            await tx.enqueueJob('revoke:grt_1', { kind: 'revoke', grantId: 'grt_1' }, at(0), ada);
            await tx.enqueueJob('provision:grt_2', provision('grt_2'), at(0), alan);
            await tx.enqueueJob('provision:grt_3', provision('grt_3'), at(0)); // no subject
            await tx.enqueueJob('provision:grt_4', provision('grt_4'), at(50)); // not due yet
            await tx.enqueueJob('provision:grt_5', provision('grt_5'), at(0), 'webhook:grt_5');
          });
          const id = async (key: string) => (await store.getJobByKey(key))!.id;
          const [add, removal, alanAdd, plain, later, hook] = await Promise.all(
            ['provision:grt_1', 'revoke:grt_1', 'provision:grt_2', 'provision:grt_3', 'provision:grt_4'].map(id),
          ).then(async (ids) => [...ids, await id('provision:grt_5')]);
          // Another worker runs grt_5's subject.
          expect(await other.transaction((tx) => tx.claimJob(hook!, 'w2', at(1), at(301)))).toBe(true);
          // One of Ada's two jobs; nothing not due; nothing of a subject running elsewhere.
          const claimed = await store.transaction((tx) =>
            tx.claimJobs([hook!, alanAdd!, add!, removal!, plain!, later!], 'w1', at(1), at(301)),
          );
          const adas = claimed.filter((job) => job === add || job === removal);
          expect(adas).toHaveLength(1);
          expect([...claimed].sort((a, b) => a - b)).toEqual([...adas, alanAdd!, plain!].sort((a, b) => a - b));
          for (const job of [adas[0]!, alanAdd!, plain!])
            expect(await store.getJob(job)).toMatchObject({ status: 'running', attempts: 1, updatedAt: at(1) });
          const waiting = adas[0] === add ? removal! : add!;
          expect(await store.getJob(waiting)).toMatchObject({ status: 'pending', attempts: 0 });
          // A job already claimed is not claimed again, by this worker or another.
          expect(await other.transaction((tx) => tx.claimJobs([add!, plain!], 'w2', at(2), at(302)))).toEqual([]);
          expect(await store.transaction((tx) => tx.claimJobs([], 'w1', at(2), at(302)))).toEqual([]);

          // Finished only where this worker still holds the job.
          const finished = await store.transaction((tx) => tx.finishJobs([add!, plain!, hook!, removal!], 'w1', at(3)));
          expect([...finished].sort((a, b) => a - b)).toEqual([adas[0]!, plain!].sort((a, b) => a - b));
          for (const job of [adas[0]!, plain!])
            expect(await store.getJob(job)).toMatchObject({ status: 'done', updatedAt: at(3) });
          expect(await store.getJob(hook!)).toMatchObject({ status: 'running', updatedAt: at(1) });
          // Ada's subject is free again: her other job now.
          expect(await store.transaction((tx) => tx.claimJobs([waiting], 'w1', at(4), at(304)))).toEqual([waiting]);
        } finally {
          await other.close();
        }
      });

      it("extends a running job's lock for its worker only, and can give a rate-limited run its attempt back", async () => {
        await store.transaction((tx) => tx.enqueueJob('provision:grt_1', provision('grt_1'), at(0)));
        const { id } = (await store.getJobByKey('provision:grt_1'))!;
        await store.transaction((tx) => tx.claimJob(id, 'w1', at(0), at(300)));
        expect(await store.transaction((tx) => tx.renewJob(id, 'w2', at(100), at(400)))).toBe(false);
        expect(await store.transaction((tx) => tx.renewJob(id, 'w1', at(100), at(400)))).toBe(true);
        // Renewed: still locked when the first lock would have run out.
        expect(await store.transaction((tx) => tx.claimJob(id, 'w2', at(350), at(650)))).toBe(false);
        const options = { refundAttempt: true };
        expect(await store.transaction((tx) => tx.failJob(id, 'w1', at(101), 'rate limited', at(130), options))).toBe(
          true,
        );
        expect(await store.getJob(id)).toMatchObject({ status: 'pending', attempts: 0, runAt: at(130) });
        expect(await store.transaction((tx) => tx.renewJob(id, 'w1', at(131), at(431)))).toBe(false); // not running
      });

      it('gives each job to exactly one of two workers claiming at the same time', async () => {
        const other = await db.connect();
        try {
          await store.transaction(async (tx) => {
            for (let i = 0; i < 30; i++) await tx.enqueueJob(`provision:grt_${i}`, provision(`grt_${i}`), at(0));
          });
          const work = async (s: Store, worker: string) => {
            const claimed: number[] = [];
            for (const job of await s.dueJobs(at(1), 100)) {
              if (await s.transaction((tx) => tx.claimJob(job.id, worker, at(1), at(301)))) claimed.push(job.id);
            }
            return claimed;
          };
          const [a, b] = await Promise.all([work(store, 'w1'), work(other, 'w2')]);
          expect(a.length + b.length).toBe(30);
          expect(new Set([...a, ...b]).size).toBe(30);
        } finally {
          await other.close();
        }
      });
      it('prunes finished jobs last updated before the cutoff, oldest first, never one waiting or running', async () => {
        const notice = (n: number): JobPayload => ({
          kind: 'notify',
          notification: { type: 'alert', recipient: { kind: 'channel', channel: 'C0' }, text: `alert ${n}` },
        });
        await store.transaction(async (tx) => {
          for (let i = 0; i < 6; i++) await tx.enqueueJob(`notify:old-${i}`, notice(i), at(i));
          await tx.enqueueJob('provision:grt_waiting', provision('grt_waiting'), at(0));
          await tx.enqueueJob('provision:grt_running', provision('grt_running'), at(0));
          await tx.enqueueJob('provision:grt_retrying', provision('grt_retrying'), at(0));
          await tx.enqueueJob('notify:recent', notice(9), at(0));
        });
        const ids = new Map((await store.listJobs({})).map((j) => [j.key, j.id]));
        const id = (key: string) => ids.get(key)!;
        await store.transaction(async (tx) => {
          // Done (and one given up) long ago: old-0..old-5, finished at 10..15.
          for (let i = 0; i < 6; i++) {
            await tx.claimJob(id(`notify:old-${i}`), 'w', at(10 + i), at(310 + i));
            if (i === 5) await tx.failJob(id(`notify:old-${i}`), 'w', at(10 + i), 'gone', null);
            else await tx.finishJob(id(`notify:old-${i}`), 'w', at(10 + i));
          }
          // Running since long ago, under an expired lock: still not finished.
          await tx.claimJob(id('provision:grt_running'), 'w', at(1), at(2));
          // Failed long ago and waiting for its retry.
          await tx.claimJob(id('provision:grt_retrying'), 'w', at(1), at(300));
          await tx.failJob(id('provision:grt_retrying'), 'w', at(2), 'Okta 503', at(5000));
        });
        await store.transaction(async (tx) => {
          // Finished after the cutoff.
          await tx.claimJob(id('notify:recent'), 'w', at(200), at(500));
          await tx.finishJob(id('notify:recent'), 'w', at(200));
        });

        expect(await store.transaction((tx) => tx.pruneJobs(at(100), 4))).toBe(4);
        const left = async () => (await store.listJobs({})).map((j) => j.key).sort();
        // The four oldest finished ones went first.
        expect(await left()).toEqual([
          'notify:old-4',
          'notify:old-5',
          'notify:recent',
          'provision:grt_retrying',
          'provision:grt_running',
          'provision:grt_waiting',
        ]);
        expect(await store.transaction((tx) => tx.pruneJobs(at(100), 4))).toBe(2);
        expect(await store.transaction((tx) => tx.pruneJobs(at(100), 4))).toBe(0);
        expect(await left()).toEqual([
          'notify:recent',
          'provision:grt_retrying',
          'provision:grt_running',
          'provision:grt_waiting',
        ]);
        // A key pruned may be used again (the day it was about is long past).
        await store.transaction((tx) => tx.enqueueJob('notify:old-0', notice(0), at(400)));
        expect((await store.getJobByKey('notify:old-0'))?.status).toBe('pending');
      });
    });

    describe('meta and leases', () => {
      it('keeps named values, lists them by prefix (wildcards included) and deletes them', async () => {
        await store.transaction(async (tx) => {
          await tx.setMeta('drift:a_b:1', 'one', at(1));
          await tx.setMeta('drift:a_b:2', 'two', at(1));
          await tx.setMeta('drift:axb:3', 'three', at(1));
          await tx.setMeta('drift:a%b:4', 'four', at(1));
          await tx.setMeta('drift:a_b:1', 'uno', at(2));
        });
        expect(await store.getMeta('drift:a_b:1')).toBe('uno');
        expect(await store.metaWithPrefix('drift:a_b:')).toEqual([
          { key: 'drift:a_b:1', value: 'uno', updatedAt: at(2) },
          { key: 'drift:a_b:2', value: 'two', updatedAt: at(1) },
        ]);
        expect(await store.transaction((tx) => tx.deleteMeta('drift:a_b:1'))).toBe(true);
        expect(await store.transaction((tx) => tx.deleteMeta('drift:a_b:1'))).toBe(false);
        expect(await store.getMeta('drift:a_b:1')).toBeUndefined();
      });

      it('lets one holder take a lease, renew it while live, and another take it over once it expired', async () => {
        expect(await store.transaction((tx) => tx.acquireLease('schedule:sweep', 'a', at(0), at(120)))).toBe(true);
        expect(await store.transaction((tx) => tx.acquireLease('schedule:sweep', 'b', at(1), at(121)))).toBe(false);
        expect(await store.transaction((tx) => tx.acquireLease('schedule:sweep', 'a', at(2), at(122)))).toBe(true);
        expect(await store.getLease('schedule:sweep')).toEqual({
          name: 'schedule:sweep',
          holder: 'a',
          acquiredAt: at(0),
          expiresAt: at(122),
        });
        expect(await store.transaction((tx) => tx.renewLease('schedule:sweep', 'a', at(60), at(180)))).toBe(true);
        expect(await store.transaction((tx) => tx.renewLease('schedule:sweep', 'b', at(60), at(180)))).toBe(false);
        // Expired: not renewed.
        expect(await store.transaction((tx) => tx.renewLease('schedule:sweep', 'a', at(180), at(300)))).toBe(false);
        expect(await store.transaction((tx) => tx.acquireLease('schedule:sweep', 'b', at(180), at(300)))).toBe(true);
        expect(await store.getLease('schedule:sweep')).toEqual({
          name: 'schedule:sweep',
          holder: 'b',
          acquiredAt: at(180),
          expiresAt: at(300),
        });
        expect(await store.transaction((tx) => tx.releaseLease('schedule:sweep', 'a'))).toBe(false);
        expect(await store.transaction((tx) => tx.releaseLease('schedule:sweep', 'b'))).toBe(true);
        expect(await store.getLease('schedule:sweep')).toBeUndefined();
      });

      it('gives a lease to exactly one of two connections racing for it', async () => {
        const other = await db.connect();
        try {
          for (let round = 0; round < 10; round++) {
            const name = `schedule:race-${round}`;
            const results = await Promise.all([
              store.transaction((tx) => tx.acquireLease(name, 'a', at(0), at(120))),
              other.transaction((tx) => tx.acquireLease(name, 'b', at(0), at(120))),
            ]);
            expect(results.filter(Boolean)).toHaveLength(1);
            expect((await store.getLease(name))!.holder).toBe(results[0] ? 'a' : 'b');
          }
        } finally {
          await other.close();
        }
      });

      it('lets exactly one of two connections make a conditional update', async () => {
        const other = await db.connect();
        try {
          await store.transaction((tx) => tx.insertRequest(request('req_1')));
          const decide = (s: Store, status: 'approved' | 'denied') =>
            s.transaction(async (tx) => {
              const r = await tx.getRequest('req_1');
              if (r?.status !== 'pending_approval') return false;
              return tx.updateRequest('req_1', ['pending_approval'], { status });
            });
          const results = await Promise.all([decide(store, 'approved'), decide(other, 'denied')]);
          expect(results.filter(Boolean)).toHaveLength(1);
          expect((await store.getRequest('req_1'))!.status).toBe(results[0] ? 'approved' : 'denied');
        } finally {
          await other.close();
        }
      });
    });

    describe('posted messages', () => {
      it('keeps one message per slot, replaced when posted again, and finds them by request and slot prefix', async () => {
        const message = {
          slot: 'task:tsk_1:person:u-ian',
          channel: 'D1',
          ts: '1.1',
          requestId: 'req_1',
          stepIndex: null,
          recipient: 'person:u-ian',
          notificationType: 'task.assigned',
          postedAt: at(1),
          updatedAt: at(1),
        };
        await store.messages.save(message);
        await store.messages.save({ ...message, slot: 'task:tsk_10:person:u-ian', requestId: 'req_2' });
        await store.messages.save({ ...message, slot: 'taskXtsk_1:person:u-priya' });
        expect(await store.messages.get(message.slot)).toEqual(message);
        await store.messages.save({ ...message, ts: '2.2', updatedAt: at(5) });
        await store.messages.touch(message.slot, at(9));
        expect(await store.messages.get(message.slot)).toEqual({ ...message, ts: '2.2', updatedAt: at(9) });
        expect((await store.messages.withSlotPrefix('task:tsk_1:')).map((m) => m.slot)).toEqual([message.slot]);
        expect((await store.messages.forRequest('req_1')).map((m) => m.slot).sort()).toEqual([
          message.slot,
          'taskXtsk_1:person:u-priya',
        ]);
        expect(await store.messages.get('missing')).toBeUndefined();
      });

      it('prunes the records of messages nothing will update again, and keeps those of requests still open', async () => {
        // req_denied was decided at 10; req_revoked's grant was revoked at 20; req_pending waits;
        // req_active's grant is held; req_revoking's grant is still being taken away; req_late ended after the cutoff.
        await store.transaction(async (tx) => {
          await tx.insertRequest(request('req_denied', { status: 'denied', decidedAt: at(10), currentStep: -1 }));
          await tx.insertRequest(
            request('req_pending', { requester: { directoryId: 'u-alan', email: 'alan@example.com', name: 'Alan' } }),
          );
          await tx.insertRequest(request('req_late', { status: 'cancelled', decidedAt: at(150), currentStep: -1 }));
          await insertGrant(
            tx,
            grant('grt_revoked', { requestId: 'req_revoked', status: 'revoked', revokedAt: at(20) }),
          );
          await insertGrant(tx, grant('grt_active', { requestId: 'req_active' }));
          await insertGrant(
            tx,
            grant('grt_revoking', { requestId: 'req_revoking', status: 'revoking', revocationStartedAt: at(20) }),
          );
        });
        const posted = (slot: string, requestId: string | null, postedAt = at(5), updatedAt = postedAt) => ({
          slot,
          channel: 'D1',
          ts: '1.1',
          requestId,
          stepIndex: null,
          recipient: 'person:u-ada',
          notificationType: 'request.submitted',
          postedAt,
          updatedAt,
        });
        const records = [
          posted('job:notify:submitted:req_denied', 'req_denied'),
          posted('approval:req_denied:0:person:u-marcus', 'req_denied'),
          posted('job:notify:active:grt_revoked', 'req_revoked'),
          posted('job:notify:alert:drift:1', null),
          posted('job:notify:submitted:req_pending', 'req_pending'),
          posted('job:notify:active:grt_active', 'req_active'),
          posted('job:notify:active:grt_revoking', 'req_revoking'),
          posted('job:notify:submitted:req_late', 'req_late'),
          // Updated after the cutoff: its request ended long ago, but the record is recent.
          posted('job:notify:reminder:grt_revoked', 'req_revoked', at(6), at(120)),
          // Posted after the cutoff.
          posted('job:notify:alert:drift:2', null, at(110)),
        ];
        for (const record of records) await store.messages.save(record);

        expect(await store.messages.prune(at(100), 2)).toBe(2);
        expect(await store.messages.prune(at(100), 10)).toBe(2);
        expect(await store.messages.prune(at(100), 10)).toBe(0);
        const kept = [];
        for (const record of records) if (await store.messages.get(record.slot)) kept.push(record.slot);
        expect(kept).toEqual([
          'job:notify:submitted:req_pending',
          'job:notify:active:grt_active',
          'job:notify:active:grt_revoking',
          'job:notify:submitted:req_late',
          'job:notify:reminder:grt_revoked',
          'job:notify:alert:drift:2',
        ]);
      });
    });

    describe('table sizes', () => {
      it('counts the rows of every table', async () => {
        const empty = await store.tableSizes();
        for (const table of ['requests', 'grants', 'jobs', 'audit_events', 'slack_messages', 'meta'])
          expect(empty[table]).toBe(0);
        await store.transaction(async (tx) => {
          await insertGrant(tx, grant('grt_1'));
          await tx.insertRequest(
            request('req_2', { requester: { directoryId: 'u-alan', email: 'alan@example.com', name: 'Alan' } }),
          );
          await tx.appendAudit(event(1));
          await tx.appendAudit(event(2));
          await tx.appendAudit(event(3));
          await tx.enqueueJob('provision:grt_1', { kind: 'provision', grantId: 'grt_1' }, T0);
        });
        const sizes = await store.tableSizes();
        expect(sizes).toMatchObject({ requests: 2, grants: 1, audit_events: 3, jobs: 1, slack_messages: 0 });
        expect(Object.values(sizes).every((n) => Number.isInteger(n) && n >= 0)).toBe(true);
      });
    });

    describe('access reviews', () => {
      it('stores a campaign, its items, assignments and reviewers, and reads them back in order', async () => {
        const g = grant('grt_r', {
          holder: { directoryId: 'u-ada', email: 'ada@example.com', name: 'Ada Lovelace', slackId: null },
        });
        const grantItem = reviewItem('rvi_g', 'rvc_1', 5, {
          holder: g.holder,
          access: { kind: 'role', app: 'github', role: 'owner' },
          source: {
            kind: 'grant',
            grantId: 'grt_r',
            requestId: g.requestId,
            approvedBy: ['Marcus Chen <marcus@example.com>'],
            grantedAt: T0,
            expiresAt: at(3600),
          },
          reviewer: {
            rule: { kind: 'group', group: 'access-admins' },
            fallbackReason: 'the holder has no manager',
            label: 'group access-admins',
          },
        });
        const items = await store.transaction(async (tx) => {
          await insertGrant(tx, g);
          const inserted = await insertCampaign(
            tx,
            campaign('rvc_1', {
              rules: [{ app: 'github', role: 'owner', roleName: 'Owner', policy: 'p', version: 'v', groups: [] }],
            }),
            5,
          );
          await tx.insertReviewItems([grantItem]);
          return inserted;
        });
        expect(await store.getReviewCampaign('rvc_1')).toEqual(
          campaign('rvc_1', {
            populationCount: 5,
            rules: [{ app: 'github', role: 'owner', roleName: 'Owner', policy: 'p', version: 'v', groups: [] }],
          }),
        );
        expect(await store.getReviewItem('rvi_g')).toEqual(grantItem);
        expect(await store.getReviewItem(items[2]!.id)).toEqual(items[2]);
        expect(await store.getReviewItem('missing')).toBeUndefined();
        const all = await store.reviewItems('rvc_1', { after: -1, limit: 100 });
        expect(all.map((i) => i.position)).toEqual([0, 1, 2, 3, 4, 5]);
        expect((await store.reviewItems('rvc_1', { after: 1, limit: 2 })).map((i) => i.position)).toEqual([2, 3]);
        expect(await store.reviewItemsOfGrant('grt_r')).toEqual([grantItem]);
        const priya = await store.reviewerItems('rvc_1', 'u-priya', { offset: 1, limit: 10 });
        expect(priya.map((r) => r.item.position)).toEqual([2, 4]);
        expect(priya[0]!.firstSeenAt).toBeNull();
        expect((await store.assignmentsOf(items[0]!.id)).map((a) => a.reviewerId)).toEqual(['u-marcus', 'u-priya']);
        expect((await store.reviewersOf('rvc_1')).map((r) => r.reviewer.email)).toEqual([
          'marcus@example.com',
          'priya@example.com',
        ]);
        expect(await store.getReviewer('rvc_1', 'u-priya')).toMatchObject({
          items: 3,
          remindersSent: [],
          reviewer: { slackId: 'U0PRIYA' },
        });
        expect(await store.listReviewCampaigns({ reviewId: 'quarterly', status: ['open'] })).toHaveLength(1);
        expect(await store.listReviewCampaigns({ status: ['closed'] })).toEqual([]);
      });

      it('keeps one open campaign per review and one per schedule slot, even across connections', async () => {
        await store.transaction(async (tx) => insertCampaign(tx, campaign('rvc_1', { slot: 's1' }), 1));
        const other = await db.connect();
        try {
          const second = other.transaction((tx) => tx.insertReviewCampaign(campaign('rvc_2')));
          await expect(second).rejects.toMatchObject({ code: 'review_open' });
          await store.transaction((tx) =>
            tx.updateReviewCampaign('rvc_1', ['open'], { status: 'closed', closedAt: at(5), closedBy: 'system:sweep' }),
          );
          // Closed: a new campaign may start, but not for the same slot.
          await expect(
            other.transaction((tx) => tx.insertReviewCampaign(campaign('rvc_3', { slot: 's1' }))),
          ).rejects.toMatchObject({ code: 'review_open' });
          await other.transaction((tx) =>
            tx.insertReviewCampaign(campaign('rvc_4', { slot: 's2', startedAt: at(10) })),
          );
        } finally {
          await other.close();
        }
        expect((await store.listReviewCampaigns({ reviewId: 'quarterly' })).map((c) => c.id)).toEqual([
          'rvc_4',
          'rvc_1',
        ]);
        expect(await store.getReviewCampaign('rvc_1')).toMatchObject({
          status: 'closed',
          closedAt: at(5),
          closedBy: 'system:sweep',
        });
        expect(await store.transaction((tx) => tx.updateReviewCampaign('rvc_1', ['open'], { status: 'closed' }))).toBe(
          false,
        );
      });

      it("finds campaigns past their due time, and counts each reviewer's items", async () => {
        const items = await store.transaction(async (tx) => {
          await insertCampaign(tx, campaign('rvc_late', { reviewId: 'a', dueAt: at(10) }), 0);
          return insertCampaign(tx, campaign('rvc_1', { reviewId: 'b', dueAt: at(100) }), 4);
        });
        expect((await store.dueReviewCampaigns(at(50), 10)).map((c) => c.id)).toEqual(['rvc_late']);
        expect((await store.dueReviewCampaigns(at(100), 10)).map((c) => c.id)).toEqual(['rvc_late', 'rvc_1']);
        await store.transaction(async (tx) => {
          await tx.updateReviewItem(items[0]!.id, { decision: ['pending'] }, { decision: 'keep' });
          await tx.updateReviewItem(items[1]!.id, { decision: ['pending'] }, { decision: 'undecided' });
        });
        expect(await store.reviewerProgress('rvc_1')).toEqual([
          { reviewerId: 'u-marcus', assigned: 4, pending: 2, decided: 1 },
          { reviewerId: 'u-priya', assigned: 2, pending: 1, decided: 1 },
        ]);
        expect(await store.reviewerProgress('rvc_1', 'u-priya')).toEqual([
          { reviewerId: 'u-priya', assigned: 2, pending: 1, decided: 1 },
        ]);
        expect(await store.reviewerProgress('rvc_1', 'u-nobody')).toEqual([]);
        // Open campaigns' undecided items of a person; a closed campaign's are not listed.
        expect((await store.openReviewItemsFor('u-marcus', 10)).map((i) => i.position)).toEqual([2, 3]);
        await store.transaction((tx) => tx.updateReviewCampaign('rvc_1', ['open'], { status: 'closed' }));
        expect(await store.openReviewItemsFor('u-marcus', 10)).toEqual([]);
      });

      it('decides an item once: of two connections, exactly one conditional update wins', async () => {
        const [item] = await store.transaction((tx) => insertCampaign(tx, campaign('rvc_1'), 1));
        const other = await db.connect();
        try {
          const decide = (s: Store, who: string) =>
            s.transaction((tx) =>
              tx.updateReviewItem(
                item!.id,
                { decision: ['pending'] },
                {
                  decision: 'keep',
                  decidedAt: at(1),
                  decidedBy: { directoryId: who, email: `${who}@example.com`, name: who, slackId: null },
                  secondsToDecision: 3,
                },
              ),
            );
          const results = await Promise.all([decide(store, 'u-marcus'), decide(other, 'u-priya')]);
          expect(results.filter(Boolean)).toHaveLength(1);
        } finally {
          await other.close();
        }
        const decided = (await store.getReviewItem(item!.id))!;
        expect(decided).toMatchObject({ decision: 'keep', decidedAt: at(1), secondsToDecision: 3 });
        expect(['u-marcus', 'u-priya']).toContain(decided.decidedBy?.directoryId);
        // A remediation update names the states it moves from.
        expect(
          await store.transaction((tx) =>
            tx.updateReviewItem(item!.id, { remediation: ['pending'] }, { remediation: 'removed' }),
          ),
        ).toBe(false);
        expect(
          await store.transaction((tx) =>
            tx.updateReviewItem(item!.id, {}, { remediation: 'pending', remediationDetail: 'queued' }),
          ),
        ).toBe(true);
        expect(
          await store.transaction((tx) =>
            tx.updateReviewItem(
              item!.id,
              { remediation: ['pending'] },
              { remediation: 'removed', remediatedAt: at(9), remediationEventSeq: 7 },
            ),
          ),
        ).toBe(true);
        expect(await store.getReviewItem(item!.id)).toMatchObject({
          remediation: 'removed',
          remediationDetail: 'queued',
          remediatedAt: at(9),
          remediationEventSeq: 7,
        });
      });

      it('records a first look once, lists unverified standing removals, and keeps reminders sent', async () => {
        const items = await store.transaction((tx) => insertCampaign(tx, campaign('rvc_1'), 3));
        const ids = items.map((i) => i.id);
        expect(await store.transaction((tx) => tx.markReviewItemsSeen('u-marcus', ids.slice(0, 2), at(5)))).toBe(2);
        expect(await store.transaction((tx) => tx.markReviewItemsSeen('u-marcus', ids, at(9)))).toBe(1);
        expect(await store.transaction((tx) => tx.markReviewItemsSeen('u-marcus', [], at(9)))).toBe(0);
        expect((await store.reviewerItems('rvc_1', 'u-marcus', { limit: 10 })).map((r) => r.firstSeenAt)).toEqual([
          at(5),
          at(5),
          at(9),
        ]);
        expect((await store.reviewerItems('rvc_1', 'u-priya', { limit: 10 })).map((r) => r.firstSeenAt)).toEqual([
          null,
          null,
        ]);

        await store.transaction(async (tx) => {
          await tx.updateReviewItem(ids[0]!, {}, { decision: 'revoke', remediation: 'pending' });
          await tx.updateReviewItem(ids[2]!, {}, { decision: 'revoke', remediation: 'failed' });
        });
        expect((await store.unverifiedRemovals(10)).map((i) => i.id)).toEqual([ids[0], ids[2]]);
        expect(
          (await store.reviewerItems('rvc_1', 'u-marcus', { limit: 10, decision: ['pending'] })).map((r) => r.item.id),
        ).toEqual([ids[1]]);

        expect(await store.transaction((tx) => tx.updateReviewer('rvc_1', 'u-priya', { remindersSent: [86400] }))).toBe(
          true,
        );
        expect((await store.getReviewer('rvc_1', 'u-priya'))!.remindersSent).toEqual([86400]);
        expect(await store.transaction((tx) => tx.updateReviewer('rvc_1', 'u-nobody', { remindersSent: [1] }))).toBe(
          false,
        );
      });

      it('exports items campaign by campaign in order, in batches, filtered by campaign, period and holder', async () => {
        await store.transaction(async (tx) => {
          await insertCampaign(tx, campaign('rvc_1', { reviewId: 'a' }), 3);
          await insertCampaign(tx, campaign('rvc_2', { reviewId: 'b', startedAt: at(86400) }), 2);
        });
        const snapshot = await store.openSnapshot();
        try {
          const first = await snapshot.reviewItems(NO_FILTERS, 0, 3);
          const rest = await snapshot.reviewItems(NO_FILTERS, first.next, 3);
          expect([...first.rows, ...rest.rows].map((r) => `${r.campaign.id}:${r.item.position}`)).toEqual([
            'rvc_1:0',
            'rvc_1:1',
            'rvc_1:2',
            'rvc_2:0',
            'rvc_2:1',
          ]);
          expect(first.rows[0]!.campaign).toMatchObject({ id: 'rvc_1', populationCount: 3 });
          const one = await snapshot.reviewItems({ ...NO_FILTERS, campaign: 'rvc_2' }, 0, 100);
          expect(one.rows.map((r) => r.item.id)).toEqual(['rvc_2_i0', 'rvc_2_i1']);
          const period = await snapshot.reviewItems({ ...NO_FILTERS, from: at(3600) }, 0, 100);
          expect(period.rows.map((r) => r.campaign.id)).toEqual(['rvc_2', 'rvc_2']);
          const holder = await snapshot.reviewItems({ ...NO_FILTERS, person: 'p1@example.com' }, 0, 100);
          expect(holder.rows.map((r) => r.item.id)).toEqual(['rvc_1_i1', 'rvc_2_i1']);
        } finally {
          await snapshot.close();
        }
      });
    });

    describe('snapshots for exports', () => {
      it('reads the database as it was when opened, in batches, whatever is written meanwhile', async () => {
        await store.transaction(async (tx) => {
          for (let i = 0; i < 5; i++) {
            await tx.insertRequest(
              request(`req_${i}`, {
                requester: { directoryId: `u-${i}`, email: `p${i}@example.com`, name: `P${i}` },
                createdAt: at(i),
              }),
            );
            // Events by two people and a component, some again: each row keeps its own actor.
            const actor: Actor =
              i % 3 === 2
                ? { kind: 'system', component: 'test' }
                : { kind: 'person', directoryId: `u-${i % 3}`, email: `p${i % 3}@example.com` };
            await tx.appendAudit(event(i, { requestId: `req_${i}`, actor }));
          }
          await insertGrant(tx, grant('grt_1', { requestId: 'req_0' }));
          await tx.upsertPolicyVersion({
            policyName: 'github-owner',
            version: 'v1',
            app: 'github',
            role: 'owner',
            definition: {},
            firstSeenAt: at(0),
            lastSeenAt: at(0),
          });
        });
        const head = await store.auditHead();
        const snapshot = await store.openSnapshot();
        try {
          const other = await db.connect();
          try {
            await other.transaction(async (tx) => {
              await tx.insertRequest(
                request('req_late', {
                  requester: { directoryId: 'u-late', email: 'late@example.com', name: 'Late' },
                  createdAt: at(1),
                }),
              );
              await tx.appendAudit(event(99));
              await tx.updateRequest('req_0', ['pending_approval'], { status: 'denied' });
            });
          } finally {
            await other.close();
          }
          await store.transaction((tx) => tx.appendAudit(event(100)));
          expect(await snapshot.auditHead()).toEqual(head);
          const first = await snapshot.requests(NO_FILTERS, 0, 3);
          const rest = await snapshot.requests(NO_FILTERS, first.next, 3);
          const rows = [...first.rows, ...rest.rows];
          expect(rows.map((r) => r.request.id)).toEqual(['req_0', 'req_1', 'req_2', 'req_3', 'req_4']);
          expect(rows[0]!.request.status).toBe('pending_approval');
          expect(rows[0]!.grant?.id).toBe('grt_1');
          const events = await snapshot.events(NO_FILTERS, 0, 100);
          expect(events.rows.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
          expect(events.rows.map((e) => e.actor)).toEqual([
            { kind: 'person', directoryId: 'u-0', email: 'p0@example.com' },
            { kind: 'person', directoryId: 'u-1', email: 'p1@example.com' },
            { kind: 'system', component: 'test' },
            { kind: 'person', directoryId: 'u-0', email: 'p0@example.com' },
            { kind: 'person', directoryId: 'u-1', email: 'p1@example.com' },
          ]);
          expect((await snapshot.grants(NO_FILTERS, 0, 100)).rows.map((g) => g.grant.id)).toEqual(['grt_1']);
          expect((await snapshot.policyVersions(NO_FILTERS, 0, 100)).rows.map((p) => p.version.version)).toEqual([
            'v1',
          ]);
          expect(await snapshot.maxStepCount(NO_FILTERS)).toBe(1);
        } finally {
          await snapshot.close();
          await snapshot.close(); // idempotent
        }
        const fresh = await store.openSnapshot();
        try {
          expect((await fresh.auditHead()).seq).toBe(head.seq + 2);
          expect((await fresh.requests(NO_FILTERS, 0, 100)).rows).toHaveLength(6);
        } finally {
          await fresh.close();
        }
      });
    });
  });
}

/** The driver's unique-key code of an error (SQLite's, or PostgreSQL's SQLSTATE 23505), through drizzle's wrapping. */
function uniqueViolationCode(error: unknown): string | undefined {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === 'string' && /^(SQLITE_CONSTRAINT_|23505$)/.test(e.code)) return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}
