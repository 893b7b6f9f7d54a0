/**
 * Decisions are checked against the facts when they arrive, not when the sweep next runs
 * (security review L1, L2, L3, I3).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { YamlDirectory } from '../../src/adapters/directory/yaml-directory.js';
import type { AccessError } from '../../src/domain/errors.js';
import { extendGrant } from '../../src/operations/extend-grant.js';
import { identifySlackUser, unbindIdentity } from '../../src/operations/identify-person.js';
import { reviewRequest } from '../../src/operations/review-request.js';
import { revokeGrantAsAdmin } from '../../src/operations/revoke-grant.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { COMPANY, createHarness, type Harness } from '../support/lifecycle-harness.js';

let h: Harness;
afterEach(() => h?.close());

const refusal = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => error as AccessError,
  );

describe('deadlines hold when a decision arrives (L3)', () => {
  beforeEach(() => {
    h = createHarness();
  });

  it('refuses an approval after the approval timeout, says why, and expires the request at once', async () => {
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'aws',
      role: 'admin',
      justification: 'incident',
    });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    h.clock.advance(72 * 3600 + 1); // past approval_timeout, and no sweep has run
    const error = await refusal(
      reviewRequest(h.deps, {
        actor: await h.as('marcus@example.com'),
        requestId: result.request.id,
        decision: 'approve',
      }),
    );
    expect(error).toMatchObject({ code: 'deadline_passed' });
    expect(error!.message).toContain('expired without a decision');
    expect((await h.store.getRequest(result.request.id))!.status).toBe('approval_expired');
    expect(await h.store.grantForRequest(result.request.id)).toBeUndefined();
  });

  it('refuses to extend a grant past its expiry, says why, and starts its revocation at once', async () => {
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'github',
      role: 'member',
    });
    if (result.kind !== 'submitted' || !result.grant) throw new Error(result.kind);
    await h.runJobs();
    h.clock.advance(30 * 86_400 + 60); // github/member: 30 days; the sweep has not run
    const error = await refusal(
      extendGrant(h.deps, { actor: await h.as('ada@example.com'), grantId: result.grant.id, addSeconds: 86_400 }),
    );
    expect(error).toMatchObject({ code: 'extension_not_allowed' });
    expect(error!.message).toContain('expired');
    expect(await h.store.getGrant(result.grant.id)).toMatchObject({ status: 'revoking', revocationReason: 'expired' });
    expect(await h.store.getExtensions(result.grant.id)).toEqual([]);
  });

  it('does not apply an approved extension to a grant that expired meanwhile', async () => {
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'github',
      role: 'owner',
      durationSeconds: 3600,
      justification: 'deploy',
    });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    for (const email of ['marcus@example.com', 'sam@example.com', 'kim@example.com', 'ciso@example.com']) {
      await reviewRequest(h.deps, { actor: await h.as(email), requestId: result.request.id, decision: 'approve' });
    }
    await h.runJobs();
    const grant = (await h.store.grantForRequest(result.request.id))!;
    const ext = await extendGrant(h.deps, {
      actor: await h.as('ada@example.com'),
      grantId: grant.id,
      addSeconds: 3600,
      justification: 'more time',
    });
    if (ext.kind !== 'pending_approval') throw new Error(ext.kind);
    h.clock.advance(3601);
    for (const email of ['marcus@example.com', 'sam@example.com', 'kim@example.com', 'ciso@example.com']) {
      await reviewRequest(h.deps, { actor: await h.as(email), requestId: ext.request.id, decision: 'approve' }).catch(
        () => undefined,
      );
    }
    expect(await h.store.getExtensions(grant.id)).toEqual([]);
    expect((await h.store.getGrant(grant.id))!.expiresAt).toBe(grant.expiresAt);
  });
});

describe('approvers are still approvers when they decide (L2)', () => {
  beforeEach(() => {
    h = createHarness();
  });

  it('refuses someone removed from the approver group after the step opened', async () => {
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'github',
      role: 'owner',
      durationSeconds: 3600,
      justification: 'deploy',
    });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    await reviewRequest(h.deps, {
      actor: await h.as('marcus@example.com'),
      requestId: result.request.id,
      decision: 'approve',
    });
    expect((await h.store.getSteps(result.request.id))[1]!.approvers.map((a) => a.email)).toContain('sam@example.com');
    await h.yaml.removeFromGroup('u-sam', 'security-team');
    const error = await refusal(
      reviewRequest(h.deps, {
        actor: await h.as('sam@example.com'),
        requestId: result.request.id,
        decision: 'approve',
      }),
    );
    expect(error).toMatchObject({ code: 'not_an_approver' });
    expect(error!.message).toContain('no longer');
    expect(await h.store.getDecisions(result.request.id)).toHaveLength(1);
  });

  it("refuses a manager step decided by someone who is no longer the requester's manager", async () => {
    await h.close();
    const dir = mkdtempSync(join(tmpdir(), 'access-bot-manager-'));
    const data = structuredClone(COMPANY);
    h = createHarness({ dbPath: join(dir, 'access.db'), directory: YamlDirectory.fromData(data, 'test-directory') });
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'aws',
      role: 'admin',
      justification: 'incident',
    });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    await h.close();
    // The same database, with a directory where Ada now reports to Priya.
    data.people.find((p) => p.id === 'u-ada')!.manager = 'priya@example.com';
    h = createHarness({ dbPath: join(dir, 'access.db'), directory: YamlDirectory.fromData(data, 'test-directory') });
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const error = await refusal(
      reviewRequest(h.deps, {
        actor: await h.as('marcus@example.com'),
        requestId: result.request.id,
        decision: 'approve',
      }),
    );
    expect(error).toMatchObject({ code: 'not_an_approver' });
  });
});

describe('identity binding matches the email only (L1)', () => {
  it("does not bind a Slack user whose email is someone else's directory login", async () => {
    const data = structuredClone(COMPANY) as { people: Record<string, unknown>[] };
    data.people.find((p) => p.id === 'u-marcus')!.login = 'boss@example.com';
    h = createHarness({ directory: YamlDirectory.fromData(data, 'test-directory') });
    const error = await refusal(identifySlackUser(h.deps, { slackUserId: 'U0NEWHIRE', email: 'boss@example.com' }));
    expect(error).toMatchObject({ code: 'identity_unknown' });
    expect(await h.store.bindingForSlackUser('U0NEWHIRE')).toBeUndefined();
    expect(await h.store.bindingForPerson('u-marcus')).toBeUndefined();
  });
});

describe('server-side length caps (I3)', () => {
  beforeEach(() => {
    h = createHarness();
  });

  it("refuses a justification, a deny reason or a revocation reason longer than Slack's own field allows", async () => {
    const long = 'x'.repeat(3001);
    const error = await refusal(
      submitRequest(h.deps, {
        requester: await h.as('ada@example.com'),
        app: 'aws',
        role: 'admin',
        justification: long,
      }),
    );
    expect(error).toMatchObject({ code: 'too_long' });
    expect(await h.store.listRequests({})).toEqual([]);

    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'aws',
      role: 'admin',
      justification: 'incident',
    });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    expect(
      await refusal(
        reviewRequest(h.deps, {
          actor: await h.as('marcus@example.com'),
          requestId: result.request.id,
          decision: 'deny',
          reason: 'x'.repeat(1001),
        }),
      ),
    ).toMatchObject({ code: 'too_long' });

    const member = await submitRequest(h.deps, {
      requester: await h.as('alan@example.com'),
      app: 'github',
      role: 'member',
    });
    if (member.kind !== 'submitted' || !member.grant) throw new Error(member.kind);
    expect(
      await refusal(
        revokeGrantAsAdmin(h.deps, {
          actor: await h.as('priya@example.com'),
          grantId: member.grant.id,
          reason: 'x'.repeat(1001),
        }),
      ),
    ).toMatchObject({ code: 'too_long' });
    expect(
      await refusal(
        unbindIdentity(h.deps, {
          admin: await h.as('priya@example.com'),
          slackUserId: 'U0X',
          reason: 'x'.repeat(1001),
        }),
      ),
    ).toMatchObject({ code: 'too_long' });
  });
});
