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
    expect(body).toMatchObject({ status: 'ok', database: { ok: true, auditEvents: 0 }, directory: { kind: 'yaml', reachable: true } });
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
});
