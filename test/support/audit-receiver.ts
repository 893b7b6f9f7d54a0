/**
 * A SIEM's webhook for the audit stream, as a careful receiver would write it: a node:http server
 * on 127.0.0.1 (a free port) that verifies `X-Access-Signature` over the raw body (401 when it is
 * wrong), takes a JSON array of records, and keeps each `seq` once (delivery is at least once).
 * It can be taken down (answers 503) and brought back, or hold a request without answering.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../../src/adapters/http/signed-post.js';

export interface ReceivedBatch {
  status: number;
  signatureValid: boolean;
  idempotencyKey: string | undefined;
  seqs: number[];
  headers: IncomingHttpHeaders;
}

export interface AuditReceiver {
  readonly url: string;
  /** Every request, in arrival order, refused ones included. */
  readonly batches: ReceivedBatch[];
  /** Every seq of every accepted batch, repeats included, in arrival order. */
  readonly received: number[];
  /** The accepted records, each seq once (the first copy), in arrival order. */
  readonly records: Record<string, unknown>[];
  /** Answer every request with `status` until `up()`, accepting nothing. */
  down(status?: number): void;
  up(): void;
  /**
   * Hold the first request from now on that `matches` (default: the next one) unanswered until
   * `release()`; `arrived` resolves when it is held.
   */
  hold(matches?: (batch: ReceivedBatch) => boolean): { arrived: Promise<ReceivedBatch>; release: () => void };
  /** Resolves once `check()` holds, re-checked on each request; rejects after `ms`. */
  until(check: () => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startAuditReceiver(options: {
  secret: string;
  path?: string;
  now?: () => Date;
}): Promise<AuditReceiver> {
  const path = options.path ?? '/audit';
  const now = options.now ?? (() => new Date());
  const batches: ReceivedBatch[] = [];
  const received: number[] = [];
  const records: Record<string, unknown>[] = [];
  const seen = new Set<number>();
  const waiters = new Set<() => void>();
  let downStatus: number | undefined;
  let hold:
    | { matches: (b: ReceivedBatch) => boolean; arrived: (b: ReceivedBatch) => void; released: Promise<void> }
    | undefined;
  const releases = new Set<() => void>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const header = req.headers['x-access-signature'];
      const signatureValid = typeof header === 'string' && verifySignature(options.secret, header, body, now());
      const key = req.headers['idempotency-key'];
      const batch: ReceivedBatch = {
        status: 0,
        signatureValid,
        idempotencyKey: typeof key === 'string' ? key : undefined,
        seqs: [],
        headers: req.headers,
      };
      let parsed: Record<string, unknown>[] | undefined;
      try {
        const value: unknown = JSON.parse(body);
        if (
          Array.isArray(value) &&
          value.every((r) => typeof r === 'object' && r !== null && typeof seqOf(r) === 'number')
        )
          parsed = value as Record<string, unknown>[];
      } catch {
        parsed = undefined;
      }
      batch.seqs = parsed?.map((r) => seqOf(r)!) ?? [];
      const answer = (status: number) => {
        batch.status = status;
        batches.push(batch);
        if (status === 200 && parsed) {
          for (const record of parsed) {
            const seq = seqOf(record)!;
            received.push(seq);
            if (!seen.has(seq)) {
              seen.add(seq);
              records.push(record);
            }
          }
        }
        if (!res.destroyed) {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: status === 200 }));
        }
        for (const wake of [...waiters]) wake();
      };
      const handle = () => {
        if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://r').pathname !== path) return answer(404);
        if (!signatureValid) return answer(401);
        if (!parsed) return answer(400);
        if (downStatus !== undefined) return answer(downStatus);
        answer(200);
      };
      if (hold?.matches(batch)) {
        const { arrived, released } = hold;
        hold = undefined;
        arrived(batch);
        void released.then(handle);
        return;
      }
      handle();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    batches,
    received,
    records,
    down(status = 503) {
      downStatus = status;
    },
    up() {
      downStatus = undefined;
    },
    hold(matches = () => true) {
      let arrived!: (b: ReceivedBatch) => void;
      let release!: () => void;
      const arrivedP = new Promise<ReceivedBatch>((resolve) => (arrived = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      releases.add(release);
      hold = { matches, arrived, released };
      return { arrived: arrivedP, release };
    },
    until(check, ms = 10_000) {
      if (check()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(
            new Error(
              `the audit receiver did not see what was expected within ${ms} ms (${received.length} records received)`,
            ),
          );
        }, ms);
        const wake = () => {
          if (!check()) return;
          clearTimeout(timer);
          waiters.delete(wake);
          resolve();
        };
        waiters.add(wake);
      });
    },
    async close() {
      for (const release of releases) release();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A json record's `seq`, or an OCSF record's `metadata.sequence`. */
export function seqOf(record: object): number | undefined {
  const r = record as { seq?: unknown; metadata?: { sequence?: unknown } };
  const seq = r.seq ?? r.metadata?.sequence;
  return typeof seq === 'number' ? seq : undefined;
}
