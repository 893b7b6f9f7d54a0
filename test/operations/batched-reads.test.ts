/**
 * Reads made once per batch rather than once per row or person: the delegations of a step's
 * approvers, and the delegations an offboarding or the sweep ends. A counting store shows the
 * reads; the outcomes are those a person sees (who is asked, what ends).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import { closeReview } from '../../src/operations/reviews/close-review.js';
import { startReview } from '../../src/operations/reviews/start-review.js';
import { delegateApprovals, expireDelegations } from '../../src/operations/delegations.js';
import { reviewRequest } from '../../src/operations/review-request.js';
import { offboardPerson } from '../../src/operations/revoke-grant.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { countingStore, type CountingStore } from '../support/counting-store.js';
import { createHarness, HELPDESK_REVIEW, type Harness } from '../support/lifecycle-harness.js';

let dir: string;
let h: Harness;
let counting: CountingStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'batched-reads-'));
  counting = countingStore(SqliteStore.open(join(dir, 'access.db')));
  h = createHarness({ store: counting.store, reviews: [HELPDESK_REVIEW] });
});
afterEach(async () => {
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

const DAY = 86_400_000;

async function delegate(from: string, to: string): Promise<void> {
  const delegateId = (await h.as(to)).person.id;
  const until = new Date(h.clock.now().getTime() + 7 * DAY).toISOString();
  await delegateApprovals(h.deps, { actor: await h.as(from), delegateId, until });
}

/** Reads of the delegations given by approvers, one at a time or in a batch. */
const delegationByReads = () => counting.calls('activeDelegationBy') + counting.calls('activeDelegationsBy');
/** Reads of delegations by id (in a transaction: the locks), one at a time or in a batch. */
const delegationIdReads = () => counting.calls('getDelegation') + counting.calls('getDelegations');

const asked = (stepIndex: number) =>
  h.notifier.delivered
    .map((d) => d.notification)
    .flatMap((n) =>
      n.type === 'approval.requested' && n.stepIndex === stepIndex && n.recipient.kind === 'person'
        ? [n.recipient.directoryId]
        : [],
    )
    .sort();

describe('asking a step whose approvers delegated', () => {
  it("reads the approvers' delegations once per step, and still asks each delegate", async () => {
    await delegate('sam@example.com', 'ian@example.com');
    await delegate('jordan@example.com', 'priya@example.com');
    await delegate('kim@example.com', 'alan@example.com');
    const submitted = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'github',
      role: 'owner',
      durationSeconds: 3600,
      justification: 'Rotate the deploy keys (INC-42)',
    });
    if (submitted.kind !== 'submitted') throw new Error(submitted.kind);

    counting.reset();
    await reviewRequest(h.deps, {
      actor: await h.as('marcus@example.com'),
      requestId: submitted.request.id,
      decision: 'approve',
    });
    // One read for the manager step's outcome (its copies), one for asking the security team's
    // three approvers: not one per approver.
    expect(delegationByReads()).toBe(2);
    // The security step goes to its channel; the three delegates are asked by DM.
    await h.runJobs();
    expect(asked(1)).toEqual(['u-alan', 'u-ian', 'u-priya']);
  });
});

describe('ending many delegations', () => {
  it('locks the delegations a leaver receives in one read, and ends each', async () => {
    await delegate('sam@example.com', 'kim@example.com');
    await delegate('jordan@example.com', 'kim@example.com');
    await delegate('marcus@example.com', 'kim@example.com');
    counting.reset();
    const result = await offboardPerson(h.deps, { directoryId: 'u-kim', source: 'test', status: 'DEPROVISIONED' });
    expect(result.delegations).toBe(3);
    expect(delegationIdReads()).toBe(1);
    expect(await h.store.activeDelegationsTo('u-kim')).toEqual([]);
  });

  it('locks a sweep batch of expired delegations in one read, and ends each', async () => {
    await delegate('sam@example.com', 'kim@example.com');
    await delegate('jordan@example.com', 'ian@example.com');
    await delegate('marcus@example.com', 'alan@example.com');
    h.clock.advance(8 * 86_400);
    counting.reset();
    expect(await expireDelegations(h.deps)).toBe(3);
    expect(delegationIdReads()).toBe(1);
    expect(await h.store.listDelegations({ status: ['active'] })).toEqual([]);
  });
});

describe('closing a review campaign', () => {
  it('reads the campaign once, and returns it as stored: closed, by whom, with its counts', async () => {
    const by = { kind: 'system', component: 'test' } as const;
    const { campaign } = await startReview(h.deps, { reviewId: 'helpdesk', by, trigger: 'command_line' });
    counting.reset();
    const result = await closeReview(h.deps, { campaignId: campaign.id, by });
    expect(counting.calls('getReviewCampaign')).toBe(1);
    expect(result.campaign).toEqual(await h.store.getReviewCampaign(campaign.id));
    expect(result.campaign).toMatchObject({ status: 'closed', closedAt: h.clock.now().toISOString() });
    expect(result.counts).toMatchObject({ items: 3, undecided: 3 });
  });
});
