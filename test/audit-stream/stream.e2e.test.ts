/**
 * The audit stream end to end: the real operations on a SQLite file write a lifecycle's events
 * while the streamer sends them over HTTP to a SIEM's webhook and a Splunk HEC stand-in.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditStreamer, type StreamerEvent } from '../../src/adapters/audit-stream/audit-streamer.js';
import { SplunkHecSink } from '../../src/adapters/audit-stream/splunk-hec-sink.js';
import { WebhookSink } from '../../src/adapters/audit-stream/webhook-sink.js';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import { verifyChain } from '../../src/domain/audit.js';
import type { AuditSinkSettings } from '../../src/domain/audit-sinks.js';
import { createHealthCheck } from '../../src/health.js';
import { auditRecord } from '../../src/operations/audit-stream/records.js';
import { systemClock, type AuditSink } from '../../src/operations/ports.js';
import { startAuditReceiver, type AuditReceiver } from '../support/audit-receiver.js';
import { startHecStandIn, type HecStandIn } from '../support/hec-stand-in.js';
import { createHarness, type Harness } from '../support/lifecycle-harness.js';
import { eventOf, grantsExpired, grantsGiven, hecSink, range, storedLog, webhookSink } from './lifecycle-events.js';

const SECRET = 'siem-shared-secret';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let h: Harness;
let receiver: AuditReceiver;
let streamers: AuditStreamer[];

beforeEach(async () => {
  h = createHarness();
  receiver = await startAuditReceiver({ secret: SECRET, now: () => h.clock.now() });
  streamers = [];
});
afterEach(async () => {
  for (const streamer of streamers) await streamer.stop();
  await receiver.close();
  await h.close();
});

function streamer(
  sinks: { sink: AuditSink; settings: AuditSinkSettings }[],
  deps = h.deps,
  holder?: string,
): AuditStreamer {
  const s = new AuditStreamer(deps, {
    sinks,
    pollMs: 20,
    leaseSeconds: 5,
    maxRetryMs: 30,
    ...(holder ? { holder } : {}),
  });
  streamers.push(s);
  return s;
}

function webhook(settings = webhookSink(receiver.url)) {
  return {
    sink: new WebhookSink(settings, {
      env: { SIEM_HOOK_SECRET: SECRET },
      allowInsecureLoopback: true,
      now: () => h.clock.now(),
    }),
    settings,
  };
}

/** Resolves at the first streamer event that `matches`. */
function next(s: AuditStreamer, matches: (event: StreamerEvent) => boolean): Promise<StreamerEvent> {
  return new Promise((resolve) => {
    const stop = s.onEvent((event) => {
      if (!matches(event)) return;
      stop();
      resolve(event);
    });
  });
}

const headSeq = async () => (await h.store.auditHead()).seq;

/** Resolves once every named sink's cursor is at the head: checked now, then after each step. */
async function caughtUp(s: AuditStreamer, names: string[]): Promise<void> {
  const done = async () => {
    const head = await headSeq();
    const states = await h.store.auditSinkStates();
    return names.every((name) => states.find((state) => state.name === name)?.deliveredSeq === head);
  };
  if (await done()) return;
  await new Promise<void>((resolve) => {
    const stop = s.onEvent((event) => {
      if (event.kind !== 'step') return;
      void done().then((ok) => {
        if (!ok) return;
        stop();
        resolve();
      });
    });
  });
}

describe('the audit stream', () => {
  let hec: HecStandIn;
  beforeEach(async () => {
    hec = await startHecStandIn({ ack: true, allowedIndexes: ['security'] });
  });
  afterEach(async () => await hec.close());

  it('delivers every event of a lifecycle, in order, signed, to a webhook and to Splunk HEC with indexer acknowledgement', async () => {
    hec.indexAfter(2); // each request is indexed after two acknowledgement queries
    const hecSettings = hecSink(hec.url);
    const splunk = new SplunkHecSink(hecSettings, {
      env: { SPLUNK_HEC_TOKEN: hec.token },
      allowInsecureLoopback: true,
      ackPollMs: [5],
    });
    const s = streamer([webhook(), { sink: splunk, settings: hecSettings }]);
    s.start();
    // The lifecycle runs while the stream is on: the stream follows the log as it grows.
    await grantsGiven(h);
    await grantsExpired(h);
    const head = await headSeq();
    expect(head).toBeGreaterThan(15);
    await receiver.until(() => receiver.records.length === head);
    await hec.until(() => new Set(hec.indexed.map((e) => e.event.seq)).size === head);

    const log = await storedLog(h);
    // The webhook: every event once, in seq order, exactly as stored, in signed batches of at most 7.
    expect(receiver.received).toEqual(range(1, head));
    expect(receiver.records).toEqual(log.map((e) => JSON.parse(JSON.stringify(auditRecord(e)))));
    expect(receiver.batches.every((b) => b.signatureValid && b.status === 200 && b.seqs.length <= 7)).toBe(true);
    expect(receiver.batches.map((b) => b.idempotencyKey)).toEqual(
      receiver.batches.map((b) => `audit:siem:${b.seqs[0]}-${b.seqs.at(-1)}`),
    );
    // A receiver can check the chain from what it got: seq, hash and prev_hash, and the content.
    const chain = verifyChain(receiver.records.map(eventOf));
    expect(chain).toMatchObject({ ok: true, count: head, head: (await h.store.auditHead()).hash });
    expect(receiver.records.map((r) => r.action)).toEqual(
      expect.arrayContaining(['request.denied', 'grant.activated', 'grant.revoked']),
    );

    // Splunk: every event indexed once, in order, as HEC events of the configured source and index.
    expect(hec.indexed.map((e) => e.event.seq)).toEqual(range(1, head));
    expect(hec.indexed[0]).toMatchObject({
      source: 'access-bot',
      sourcetype: 'access-bot:audit',
      index: 'security',
      time: Date.parse(log[0]!.at) / 1000,
    });
    expect(hec.indexed.map((e) => e.event)).toEqual(receiver.records);
    // Each batch waited for its acknowledgement on one channel before the next was sent.
    expect(hec.requests.every((r) => r.status === 200 && r.channel === splunk.channel)).toBe(true);
    expect(splunk.channel).toMatch(GUID);
    expect(hec.requests.map((r) => r.headers.authorization)).toEqual(hec.requests.map(() => `Splunk ${hec.token}`));
    expect(hec.ackQueries.length).toBeGreaterThanOrEqual(2 * hec.requests.length);

    // /healthz: both sinks caught up.
    await caughtUp(s, ['siem', 'splunk']);
    const health = await createHealthCheck({
      ...h.deps,
      settings: { ...h.deps.settings, auditSinks: [webhookSink(receiver.url), hecSettings] },
    })();
    expect(health.body.auditSinks).toEqual([
      expect.objectContaining({ name: 'siem', type: 'webhook', deliveredSeq: head, lag: 0, failingSince: null }),
      expect.objectContaining({ name: 'splunk', type: 'splunk_hec', deliveredSeq: head, lag: 0, failingSince: null }),
    ]);
  });

  it('sends an unacknowledged HEC batch again, and HEC answers with its error codes when it refuses', async () => {
    // The indexer loses the first request: its ack never turns true, and after the ack timeout the
    // sink gives up on it so the stream sends the batch again.
    const settings = hecSink(hec.url, { ackTimeoutSeconds: 0.3, batchSize: 100 });
    const splunk = new SplunkHecSink(settings, {
      env: { SPLUNK_HEC_TOKEN: hec.token },
      allowInsecureLoopback: true,
      ackPollMs: [20],
    });
    await grantsGiven(h);
    const head = await headSeq();
    hec.loseNext(1);
    await expect(deliverOnce(splunk, head)).rejects.toThrow(
      /1 request\(s\) not indexed within 0.3s \(ack ids 0\); the batch is sent again/,
    );
    expect(hec.indexed).toEqual([]);
    await deliverOnce(splunk, head);
    expect(hec.indexed.map((e) => e.event.seq)).toEqual(range(1, head));
    expect(hec.requests.map((r) => r.status)).toEqual([200, 200]);

    hec.busy(1);
    await expect(deliverOnce(splunk, head)).rejects.toThrow(/answered 503: \{"text":"Server is busy","code":9\}/);
    const wrongToken = new SplunkHecSink(settings, {
      env: { SPLUNK_HEC_TOKEN: 'not-the-token' },
      allowInsecureLoopback: true,
    });
    await expect(deliverOnce(wrongToken, head)).rejects.toThrow(/answered 403: \{"text":"Invalid token","code":4\}/);
    const wrongIndex = new SplunkHecSink(
      { ...settings, index: 'main' },
      { env: { SPLUNK_HEC_TOKEN: hec.token }, allowInsecureLoopback: true },
    );
    await expect(deliverOnce(wrongIndex, head)).rejects.toThrow(/answered 400: \{"text":"Incorrect index","code":7/);
  });

  it('confirms a HEC batch by its answer alone when acknowledgement is off', async () => {
    const plain = await startHecStandIn({ ack: false });
    try {
      await grantsGiven(h);
      const head = await headSeq();
      const settings = hecSink(plain.url, { index: null, format: 'ocsf', sourcetype: 'ocsf' });
      const s = streamer([
        {
          sink: new SplunkHecSink(settings, { env: { SPLUNK_HEC_TOKEN: plain.token }, allowInsecureLoopback: true }),
          settings,
        },
      ]);
      s.start();
      await plain.until(() => plain.indexed.length === head);
      expect(plain.ackQueries).toEqual([]);
      expect(plain.indexed.map((e) => (e.event.metadata as { sequence: number }).sequence)).toEqual(range(1, head));
      expect(plain.indexed.every((e) => e.sourcetype === 'ocsf' && e.index === undefined)).toBe(true);
    } finally {
      await plain.close();
    }
  });

  async function deliverOnce(sink: AuditSink, head: number): Promise<void> {
    const events = await h.store.auditEventsAfterSeq(0, head);
    await sink.deliver({ events, subjects: { requests: new Map(), grants: new Map() } });
  }
});

describe('a sink that is down', () => {
  it('receives everything after the outage, in order, nothing missing; the alerts channel hears once, hourly, and on recovery', async () => {
    const settings = webhookSink(receiver.url, { alertAfterSeconds: 600 });
    const s = streamer([webhook(settings)]);
    receiver.down(503);
    s.start();
    await grantsGiven(h);
    // Decisions were not slowed or refused by the outage: the lifecycle went on.
    expect((await h.store.listGrants({ status: ['active'] })).length).toBe(2);
    await receiver.until(() => receiver.batches.filter((b) => b.status === 503).length >= 3);
    const alerts = () => h.notifier.of('alert').filter((a) => a.text.startsWith('Audit sink siem'));

    // Failing for 11 minutes: past alert_after (10 minutes), the alerts channel is told once.
    h.clock.advance(11 * 60);
    await next(s, (e) => e.kind === 'step' && e.step.kind === 'failed');
    await next(s, (e) => e.kind === 'step' && e.step.kind === 'failed');
    await h.runJobs();
    expect(alerts()).toHaveLength(1);
    expect(alerts()[0]!.text).toMatch(
      /^Audit sink siem \(webhook to http:\/\/127\.0\.0\.1:\d+\/audit\) has been failing since .* answered 503.*\d+ events are waiting; none is lost/,
    );
    expect(alerts()[0]!.recipient).toEqual({ kind: 'channel', channel: 'C0ACCESSOPS' });
    // Half an hour later, still failing: nothing new. An hour after the first alert: again.
    h.clock.advance(30 * 60);
    await next(s, (e) => e.kind === 'step' && e.step.kind === 'failed');
    await h.runJobs();
    expect(alerts()).toHaveLength(1);
    h.clock.advance(31 * 60);
    await next(s, (e) => e.kind === 'step' && e.step.kind === 'failed');
    await h.runJobs();
    expect(alerts()).toHaveLength(2);
    expect(alerts()[1]!.text).toMatch(/is still failing since/);

    // /healthz shows how far behind the sink is, and the bot as degraded.
    const health = await createHealthCheck({ ...h.deps, settings: { ...h.deps.settings, auditSinks: [settings] } })();
    expect(health.body.status).toBe('degraded');
    expect(health.body.auditSinks![0]).toMatchObject({
      name: 'siem',
      deliveredSeq: 0,
      lag: await headSeq(),
      lastError: expect.stringMatching(/answered 503/),
    });

    await grantsExpired(h); // more events while it is down
    receiver.up();
    const head = await headSeq();
    await receiver.until(() => receiver.records.length >= head);
    await next(s, (e) => e.kind === 'step' && e.step.kind === 'idle');
    await h.runJobs();
    expect(receiver.received).toEqual(range(1, await headSeq()));
    expect(alerts()).toHaveLength(3);
    expect(alerts()[2]!.text).toMatch(/^Audit sink siem .* recovered at .*: it was failing since .*no event was lost/);
    expect((await h.store.auditSinkStates())[0]).toMatchObject({
      failingSince: null,
      failures: 0,
      alertedAt: null,
      lastError: null,
    });
  });

  it('repeats at most the batch in flight when the process streaming it dies', async () => {
    // The log: 50 events. The child streams them in batches of 10 and is killed while the receiver
    // holds its third batch; a second process takes the sink over once the child's lease expires.
    // Two processes on the real clock: the receiver checks signatures against it too.
    await receiver.close();
    receiver = await startAuditReceiver({ secret: SECRET });
    await h.store.transaction(async (tx) => {
      for (let i = 1; i <= 50; i++)
        await tx.appendAudit({
          at: h.clock.now().toISOString(),
          actor: { kind: 'system', component: 'test' },
          action: 'policy.added',
          details: { i },
        });
    });
    const held = receiver.hold((batch) => batch.seqs[0] === 21);
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(import.meta.dirname, '../support/stream-child.ts'), h.dbPath, receiver.url, SECRET],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const exited = once(child, 'exit');
    try {
      const batch = await held.arrived;
      expect(batch.seqs).toEqual(range(21, 30));
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    held.release(); // the receiver got the batch; the child never heard it was accepted

    const other = SqliteStore.open(h.dbPath);
    try {
      const deps = { ...h.deps, store: other, clock: systemClock };
      const settings = webhookSink(receiver.url, { batchSize: 10 });
      const sink = new WebhookSink(settings, { env: { SIEM_HOOK_SECRET: SECRET }, allowInsecureLoopback: true });
      const s = streamer([{ sink, settings }], deps, 'second');
      const took = next(s, (e) => e.kind === 'lease' && e.held);
      s.start();
      await took; // once the child's lease (2 s) expired
      await receiver.until(() => receiver.records.length === 50);
      await next(s, (e) => e.kind === 'step' && e.step.kind === 'idle');
      expect(receiver.received).toEqual([...range(1, 30), ...range(21, 50)]);
      expect(receiver.records.map((r) => r.seq)).toEqual(range(1, 50));
      expect((await other.auditSinkStates())[0]).toMatchObject({ name: 'siem', deliveredSeq: 50 });
      await s.stop();
    } finally {
      await other.close();
    }
  });

  it('is streamed by one process at a time: the other waits for the lease and takes over where the cursor is', async () => {
    await grantsGiven(h);
    const other = SqliteStore.open(h.dbPath);
    try {
      const a = streamer([webhook()], h.deps, 'a');
      const b = streamer([webhook()], { ...h.deps, store: other }, 'b');
      const leases: string[] = [];
      for (const [holder, s] of [
        ['a', a],
        ['b', b],
      ] as const)
        s.onEvent((e) => e.kind === 'lease' && e.held && leases.push(holder));
      a.start();
      await next(a, (e) => e.kind === 'lease');
      b.start();
      const first = await headSeq();
      await receiver.until(() => receiver.records.length === first);
      await next(a, (e) => e.kind === 'step' && e.step.kind === 'idle');
      expect(leases).toEqual(['a']);
      expect(receiver.received).toEqual(range(1, await headSeq()));
      // The holder stops (and lets its lease go): the other one takes the sink over.
      await a.stop();
      await grantsExpired(h);
      const head = await headSeq();
      await receiver.until(() => receiver.records.length === head);
      expect(leases).toEqual(['a', 'b']);
      expect(receiver.received).toEqual(range(1, head));
    } finally {
      for (const s of streamers) await s.stop();
      await other.close();
    }
  });
});
