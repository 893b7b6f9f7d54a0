/**
 * The audit streamer's strands and the store's misuse check (operations/operation-scope.ts): each
 * sink's loop has its own handle, and each lease renewal another, so the heartbeat is never
 * refused while a loop is inside its own transaction.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AuditStreamer } from '../../src/adapters/audit-stream/audit-streamer.js';
import type { AuditSink, Logger, Store, StoreTx } from '../../src/operations/ports.js';
import { createHarness, type Harness } from '../support/lifecycle-harness.js';
import { grantsGiven, webhookSink } from './lifecycle-events.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => await h.close());

describe("the audit streamer's store handles", () => {
  it("renew a sink's lease while the sink's loop is inside its own transaction", async () => {
    await grantsGiven(h);
    const logger = recordingLogger();
    // The store as the streamer sees it: counts the transactions that reach it, and holds the first
    // cursor move open until the heartbeat's renewal reached the store too (or was refused).
    let transactions = 0;
    let held = false;
    const hold = (tx: StoreTx): StoreTx =>
      Object.create(tx, {
        updateAuditSink: {
          value: async (...args: Parameters<StoreTx['updateAuditSink']>) => {
            if (!held) {
              held = true;
              const before = transactions;
              h.clock.advance(100); // the renewal that follows sets a later expiry
              await waitFor(() => transactions > before || logger.lines.some((l) => l.level === 'warn'));
            }
            return tx.updateAuditSink(...args);
          },
        },
      }) as StoreTx;
    const counted = Object.create(h.store, {
      transaction: {
        value: (fn: (tx: StoreTx) => Promise<unknown>) => (transactions++, h.store.transaction((tx) => fn(hold(tx)))),
        writable: true,
      },
    }) as Store;

    const sink = memorySink();
    const leaseSeconds = 0.2; // a heartbeat every 50 ms
    const streamer = new AuditStreamer(
      { ...h.deps, store: counted, logger },
      { sinks: [{ sink, settings: webhookSink('http://127.0.0.1:9/unused') }], holder: 'a', leaseSeconds, pollMs: 20 },
    );
    streamer.start();
    try {
      const renewed = new Date(h.clock.now().getTime() + 100_000 + leaseSeconds * 1000).toISOString();
      await waitFor(async () => (await h.store.getLease('audit-sink:siem'))?.expiresAt === renewed);
      expect(held).toBe(true);
      expect(logger.lines.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
      expect(sink.seqs.length).toBeGreaterThan(0);
      expect(sink.seqs).toEqual(Array.from({ length: sink.seqs.length }, (_, i) => i + 1));
    } finally {
      await streamer.stop();
    }
  });
});

function memorySink(): AuditSink & { seqs: number[] } {
  const seqs: number[] = [];
  return {
    name: 'siem',
    type: 'memory',
    target: 'memory',
    needsSubjects: false,
    seqs,
    deliver: async (batch) => void seqs.push(...batch.events.map((e) => e.seq)),
    close: async () => {},
  };
}

function recordingLogger(): Logger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (msg: string) => void lines.push({ level, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}
