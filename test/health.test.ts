import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { TransientError } from '../src/domain/errors.js';
import { createHealthCheck } from '../src/health.js';
import { createHarness, type Harness } from './support/lifecycle-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => await h.close());

describe('GET /healthz', () => {
  it('is ok with the database and directory answering, and reports the audit head', async () => {
    const { status, body } = await createHealthCheck(h.deps)();
    expect(status).toBe(200);
    expect(body).toMatchObject({
      status: 'ok',
      database: { ok: true, auditEvents: 0 },
      directory: { kind: 'yaml', reachable: true },
    });
  });

  it('is degraded, not failing, while the directory is unreachable, and checks it at most once per TTL', async () => {
    h.directory.failNext('findGroup', new TransientError('Okta 503'));
    const check = createHealthCheck(h.deps, { directoryTtlMs: 60_000 });
    const first = await check();
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: 'degraded', directory: { reachable: false, error: 'Okta 503' } });
    await check();
    expect(h.directory.calls.filter((c) => c.method === 'findGroup')).toHaveLength(1);
  });

  it('fails with 503 when the database does not answer', async () => {
    await h.store.close();
    const { status, body } = await createHealthCheck(h.deps)();
    expect(status).toBe(503);
    expect(body.status).toBe('failing');
    expect(body.database.ok).toBe(false);
  });

  it('counts pending jobs with one query, without loading the job rows (L7)', async () => {
    const now = h.clock.now().toISOString();
    await h.store.transaction(async (tx) => {
      for (let i = 0; i < 2000; i++)
        await tx.enqueueJob(
          `notify:bulk:${i}`,
          {
            kind: 'notify',
            notification: { type: 'alert', recipient: { kind: 'channel', channel: 'C0ACCESSOPS' }, text: 'x' },
          },
          now,
        );
    });
    const loaded: string[] = [];
    const store = new Proxy(h.store, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (key === 'listJobs' || key === 'dueJobs') loaded.push(String(key));
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const { body } = await createHealthCheck({ ...h.deps, store })();
    expect(body.pendingJobs).toBe(2000);
    expect(loaded).toEqual([]);
  });

  it('reports the rows of every table, counted at most once per TTL', async () => {
    const counted: string[] = [];
    const store = new Proxy(h.store, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver) as unknown;
        if (key === 'tableSizes') counted.push(String(key));
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const check = createHealthCheck({ ...h.deps, store }, { tablesTtlMs: 60_000 });
    const first = (await check()).body;
    expect(first.tables).toMatchObject({ requests: 0, grants: 0, jobs: 0, audit_events: 0, slack_messages: 0 });
    expect(first.tablesCountedAt).toBe(h.clock.now().toISOString());
    await h.store.transaction((tx) =>
      tx.enqueueJob(
        'notify:x',
        {
          kind: 'notify',
          notification: { type: 'alert', recipient: { kind: 'channel', channel: 'C0ACCESSOPS' }, text: 'x' },
        },
        h.clock.now().toISOString(),
      ),
    );
    expect((await check()).body.tables?.jobs).toBe(0);
    h.clock.advance(61);
    expect((await check()).body.tables?.jobs).toBe(1);
    expect(counted).toHaveLength(2);
  });

  it('shares one table count among probes that arrive while it runs', async () => {
    let counts = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const store = new Proxy(h.store, {
      get(target, key, receiver) {
        if (key === 'tableSizes') {
          return async () => {
            counts++;
            await released;
            return target.tableSizes();
          };
        }
        const value = Reflect.get(target, key, receiver) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const check = createHealthCheck({ ...h.deps, store }, { tablesTtlMs: 60_000 });
    const probes = [check(), check(), check()];
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    const bodies = (await Promise.all(probes)).map((p) => p.body);
    expect(counts).toBe(1);
    expect(bodies.map((b) => b.tables?.requests)).toEqual([0, 0, 0]);
  });
});
