import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import { TransientError } from '../../src/domain/errors.js';
import {
  openDriftFindings,
  provisionedGroups,
  reconcile,
  type OffboardingSource,
} from '../../src/operations/reconcile.js';
import type { StoreTx } from '../../src/operations/ports.js';
import { relinquishGrant } from '../../src/operations/revoke-grant.js';
import { reviewRequest } from '../../src/operations/review-request.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { createHarness, type Harness } from '../support/lifecycle-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => await h.close());

async function grantOf(email: string, app: string, role: string) {
  const result = await submitRequest(h.deps, { requester: await h.as(email), app, role, justification: 'work' });
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

const events = async (action: string) =>
  (await h.store.auditEvents({ limit: 10_000 })).filter((e) => e.action === action);
const alertTexts = () => h.notifier.of('alert').map((n) => n.text ?? '');

describe('reconcile: drift', () => {
  it('checks every group the bot provisions: from the policies and from open grants’ snapshots', async () => {
    expect(await provisionedGroups(h.deps)).toEqual(['aws-admins', 'github-members', 'github-owners']);
  });

  it('reports a person added to a provisioned group outside the bot, once, and notes when it ends', async () => {
    await h.yaml.addToGroup('u-jordan', 'github-owners');
    const first = await reconcile(h.deps);
    expect(first.groups.find((g) => g.group === 'github-owners')).toMatchObject({ members: 1, driftDetected: 1 });
    const detected = (await events('drift.detected')).filter((e) => e.details.group === 'github-owners');
    expect(detected).toHaveLength(1);
    expect(detected[0]!.details).toMatchObject({
      kind: 'granted_outside_bot',
      person: { directoryId: 'u-jordan', email: 'jordan@example.com' },
    });
    await h.runJobs();
    expect(alertTexts().filter((t) => t.includes('github-owners'))).toEqual([
      expect.stringContaining('jordan@example.com'),
    ]);

    // Still there an hour later: not reported again.
    h.clock.advance(3600);
    expect((await reconcile(h.deps)).driftDetected).toBe(0);
    await h.runJobs();
    expect((await events('drift.detected')).filter((e) => e.details.group === 'github-owners')).toHaveLength(1);
    expect(alertTexts().filter((t) => t.includes('github-owners'))).toHaveLength(1);
    expect((await openDriftFindings(h.deps)).map((f) => [f.group, f.directoryId])).toContainEqual([
      'github-owners',
      'u-jordan',
    ]);

    // Removed in the directory: the finding is resolved; added again later: reported again.
    await h.yaml.removeFromGroup('u-jordan', 'github-owners');
    expect((await reconcile(h.deps)).driftResolved).toBe(1);
    expect((await events('drift.resolved'))[0]!.details).toMatchObject({
      group: 'github-owners',
      why: 'no longer in the group',
    });
    await h.yaml.addToGroup('u-jordan', 'github-owners');
    h.clock.advance(60);
    expect((await reconcile(h.deps)).driftDetected).toBe(1);
  });

  it('does not report people the bot gave access to, or members from before a bot grant that ended', async () => {
    await grantOf('ada@example.com', 'aws', 'admin'); // active: in aws-admins through the bot
    const alan = await grantOf('alan@example.com', 'github', 'member'); // Alan was in github-members before
    expect(alan.alreadyMember).toBe(true);
    await relinquishGrant(h.deps, { actor: await h.as('alan@example.com'), grantId: alan.id });
    await h.runJobs();
    expect(await h.directory.isMember('u-alan', 'github-members')).toBe(true); // kept on purpose
    const summary = await reconcile(h.deps);
    expect(summary.driftDetected).toBe(0);
    expect(summary.removedExternally).toBe(0);
    expect(await events('drift.detected')).toHaveLength(0);
  });

  it('ends a grant whose holder was removed from the group outside the bot, and never adds them back', async () => {
    const grant = await grantOf('ada@example.com', 'aws', 'admin');
    h.clock.advance(60);
    await h.yaml.removeFromGroup('u-ada', 'aws-admins');
    const summary = await reconcile(h.deps);
    expect(summary.removedExternally).toBe(1);
    await h.runJobs();
    expect(await h.store.getGrant(grant.id)).toMatchObject({
      status: 'revoked',
      revocationReason: 'removed_externally',
      revokedBy: 'system:reconcile',
    });
    expect(h.directory.calls.filter((c) => c.method === 'addToGroup')).toHaveLength(1); // the original grant only
    expect(await h.directory.isMember('u-ada', 'aws-admins')).toBe(false);
    expect(alertTexts().some((t) => t.includes('outside the bot') && t.includes('ada@example.com'))).toBe(true);
    // A second run finds nothing more to do.
    expect((await reconcile(h.deps)).removedExternally).toBe(0);
  });

  it('ends every grant removed outside the bot from one group, the removals confirmed side by side', async () => {
    // A store whose transactions span I/O, as PostgreSQL's do: each read in one waits a turn of
    // the event loop. It tells when a transaction is running.
    const dir = mkdtempSync(join(tmpdir(), 'access-bot-reconcile-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const sqlite = SqliteStore.open(join(dir, 'access.db'));
    let inTransaction = () => {};
    const slow = Object.create(sqlite, {
      transaction: {
        writable: true,
        value: <T>(fn: (tx: StoreTx) => Promise<T>) =>
          sqlite.transaction((tx) => {
            inTransaction();
            const getGrant = async (id: string) => (await new Promise((r) => setImmediate(r)), tx.getGrant(id));
            return fn(Object.create(tx, { getGrant: { value: getGrant } }) as StoreTx);
          }),
      },
    }) as SqliteStore;
    await h.close();
    h = createHarness({ store: slow });
    const grants = [
      await grantOf('ada@example.com', 'aws', 'admin'),
      await grantOf('alan@example.com', 'aws', 'admin'),
    ];
    h.clock.advance(60);
    for (const id of ['u-ada', 'u-alan']) await h.yaml.removeFromGroup(id, 'aws-admins');
    // The second removal is confirmed while the first one's transaction runs: it starts its own
    // transaction then, which is not a transaction inside the first one, and is not refused as one.
    const transactionRunning = new Promise<void>((resolve) => (inTransaction = resolve));
    let confirmations = 0;
    h.directory.beforeCall = async (method) => {
      if (method === 'isMember' && ++confirmations === 2) await transactionRunning;
    };
    const summary = await reconcile(h.deps, { concurrency: 2 });
    expect(summary.removedExternally).toBe(2);
    for (const grant of grants)
      expect(await h.store.getGrant(grant.id)).toMatchObject({ revocationReason: 'removed_externally' });
  });

  it('skips a group it cannot read this run and still checks the others', async () => {
    const grant = await grantOf('ada@example.com', 'aws', 'admin');
    h.clock.advance(60);
    await h.yaml.removeFromGroup('u-ada', 'aws-admins');
    await h.yaml.addToGroup('u-jordan', 'github-owners');
    h.directory.failNext('membersOf', new TransientError('Okta 503'));
    const summary = await reconcile(h.deps);
    expect(summary.groups.find((g) => g.group === 'aws-admins')).toMatchObject({ error: 'Okta 503' });
    expect((await h.store.getGrant(grant.id))!.status).toBe('active');
    expect(summary.groups.find((g) => g.group === 'github-owners')!.driftDetected).toBe(1);
  });
});

describe('reconcile: offboarding', () => {
  it('ends every grant of a person the directory shows suspended, deprovisioned or gone', async () => {
    const ada = await grantOf('ada@example.com', 'aws', 'admin');
    const alan = await grantOf('alan@example.com', 'aws', 'admin');
    const jordan = await grantOf('jordan@example.com', 'github', 'member');
    h.directory.setStatus('u-ada', 'suspended');
    h.directory.setStatus('u-alan', 'gone');
    const summary = await reconcile(h.deps);
    expect(summary.offboarding).toMatchObject({ checked: 3, offboarded: 2, grantsEnded: 2 });
    await h.runJobs();
    expect(await h.store.getGrant(ada.id)).toMatchObject({
      status: 'revoked',
      revocationReason: 'offboarded',
      revocationNote: 'status check: directory status suspended',
    });
    expect(await h.store.getGrant(alan.id)).toMatchObject({
      status: 'revoked',
      revocationReason: 'offboarded',
      revocationNote: 'status check: directory status gone',
    });
    expect((await h.store.getGrant(jordan.id))!.status).toBe('active');
    // Nothing left to end: a second run does nothing.
    expect((await reconcile(h.deps)).offboarding.offboarded).toBe(0);
  });

  it('takes signals from plugged-in sources, confirming each against the live directory first', async () => {
    const ada = await grantOf('ada@example.com', 'aws', 'admin');
    const alan = await grantOf('alan@example.com', 'aws', 'admin');
    let asked: readonly string[] = [];
    const systemLog: OffboardingSource = {
      name: 'okta system log',
      live: false,
      async collect(_deps, holders) {
        asked = holders;
        return [
          { directoryId: 'u-ada', status: 'deprovisioned', source: 'okta system log' },
          { directoryId: 'u-alan', status: 'suspended', source: 'okta system log' }, // since reactivated
        ];
      },
    };
    // The status check misses Ada this run (a failed read); the log catches her, and the live read confirms it.
    h.directory.failNext('getPerson', new TransientError('Okta 503'));
    h.directory.setStatus('u-ada', 'deprovisioned');
    const summary = await reconcile(h.deps, { offboardingSources: [systemLog] });
    expect(asked).toEqual(['u-ada', 'u-alan']);
    expect(summary.offboarding).toMatchObject({ offboarded: 1, grantsEnded: 1 });
    expect(await h.store.getGrant(ada.id)).toMatchObject({
      status: 'revoking',
      revocationReason: 'offboarded',
      revocationNote: 'okta system log: directory status deprovisioned',
    });
    expect((await h.store.getGrant(alan.id))!.status).toBe('active');
  });

  it('keeps going when a source fails', async () => {
    const ada = await grantOf('ada@example.com', 'aws', 'admin');
    h.directory.setStatus('u-ada', 'suspended');
    const broken: OffboardingSource = {
      name: 'broken',
      live: true,
      collect: async () => Promise.reject(new TransientError('down')),
    };
    const summary = await reconcile(h.deps, { offboardingSources: [broken] });
    expect(summary.offboarding).toMatchObject({ offboarded: 1, errors: 1 });
    expect((await h.store.getGrant(ada.id))!.status).toBe('revoking');
  });
});
