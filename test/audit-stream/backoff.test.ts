/** A failing sink: its cursor stays, its attempts back off, and a receiver's Retry-After is respected. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WebhookSink } from '../../src/adapters/audit-stream/webhook-sink.js';
import { backoffMs, deliverNextBatch } from '../../src/operations/audit-stream/deliver-batch.js';
import { createHarness, type Harness } from '../support/lifecycle-harness.js';
import { grantsGiven, webhookSink } from './lifecycle-events.js';

let h: Harness;
let server: Server;
let url: string;
/** What the receiver answers next: a status and its headers. */
let answer: { status: number; headers?: Record<string, string> };

beforeEach(async () => {
  h = createHarness();
  answer = { status: 503 };
  server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(answer.status, answer.headers).end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/audit`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await h.close();
});

describe('a failing sink', () => {
  it('waits 1 s after the first failure, doubling to 5 minutes, give or take a fifth', () => {
    expect([1, 2, 3, 4, 9, 10, 30].map((n) => backoffMs(n, () => 0.5))).toEqual([
      1000, 2000, 4000, 8000, 256_000, 300_000, 300_000,
    ]);
    expect(backoffMs(3, () => 0)).toBe(3200);
    expect(backoffMs(3, () => 0.999999)).toBe(4800);
  });

  it('keeps its cursor, counts its failures, backs off longer each time, and waits as long as Retry-After asks', async () => {
    await grantsGiven(h);
    const settings = webhookSink(url);
    const sink = new WebhookSink(settings, {
      env: { SIEM_HOOK_SECRET: 's' },
      allowInsecureLoopback: true,
      now: () => h.clock.now(),
    });
    const steps = [];
    for (let i = 0; i < 3; i++) steps.push(await deliverNextBatch(h.deps, sink, settings));
    expect(steps.map((s) => s.kind)).toEqual(['failed', 'failed', 'failed']);
    const waits = steps.map((s) => (s.kind === 'failed' ? s.retryInMs : NaN));
    expect(waits[0]).toBeGreaterThanOrEqual(800);
    expect(waits[0]).toBeLessThanOrEqual(1200);
    expect(waits[2]).toBeGreaterThanOrEqual(3200);
    expect(waits[2]).toBeLessThanOrEqual(4800);
    expect((await h.store.auditSinkStates())[0]).toMatchObject({
      name: 'siem',
      deliveredSeq: 0,
      failures: 3,
      lastError: expect.stringMatching(/answered 503/),
    });

    // The receiver asks for two minutes: the next attempt waits that long, not 8 s.
    answer = { status: 503, headers: { 'retry-after': '120' } };
    const asked = await deliverNextBatch(h.deps, sink, settings);
    expect(asked).toMatchObject({ kind: 'failed', failures: 4, retryInMs: 120_000 });
    // ... unless the streamer's longest wait is shorter.
    expect(await deliverNextBatch(h.deps, sink, settings, { maxRetryMs: 30_000 })).toMatchObject({
      kind: 'failed',
      failures: 5,
      retryInMs: 30_000,
    });

    answer = { status: 200 };
    expect(await deliverNextBatch(h.deps, sink, settings)).toMatchObject({
      kind: 'delivered',
      from: 0,
      to: settings.batchSize,
    });
    expect((await h.store.auditSinkStates())[0]).toMatchObject({
      deliveredSeq: settings.batchSize,
      failures: 0,
      failingSince: null,
      lastError: null,
    });
  });
});
