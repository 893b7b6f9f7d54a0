import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransientError } from '../../src/domain/errors.js';
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
