/**
 * A stand-in for an application that provisions through webhooks: a node:http server on
 * 127.0.0.1 (a free port) that behaves the way a careful receiver should.
 *
 * - It verifies `X-Access-Signature` over the raw body with the shared secret (401 if wrong).
 * - It parses the snake_case body at the boundary (400 if it is not the wire contract).
 * - It applies each `Idempotency-Key` once; a repeat gets the stored answer, not a second change.
 * - It can be scripted: answer a status N times, stall before answering, or redirect.
 *
 * Scripted answers come before idempotency on purpose: they stand for a receiver that failed
 * before applying anything, so a later retry with the same key must still apply.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod';
import { verifyWebhookSignature } from '../../src/adapters/provisioners/webhook-provisioner.js';

export const WireCall = z
  .object({
    action: z.enum(['grant', 'revoke']),
    request_id: z.string(),
    grant_id: z.string(),
    app: z.string(),
    role: z.string(),
    user: z.object({ email: z.string(), okta_id: z.string() }).strict(),
    expires_at: z.string().nullable(),
  })
  .strict();
export type WireCall = z.infer<typeof WireCall>;

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  signatureValid: boolean;
  idempotencyKey: string | undefined;
  /** What the receiver answered. */
  status: number;
}

export interface AppliedCall {
  idempotencyKey: string;
  call: WireCall;
}

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string>;
}

interface Scripted {
  remaining: number;
  answer?: Answer;
  delayMs?: number;
}

export interface WebhookReceiver {
  /** `http://127.0.0.1:<port>/hooks` */
  readonly url: string;
  /** Every request, in arrival order, including refused and replayed ones. */
  readonly requests: ReceivedRequest[];
  /** Calls that changed something: one per idempotency key. */
  readonly applied: AppliedCall[];
  /** Answer the next `times` verified requests with this status, without applying them. */
  answerWith(status: number, options?: { times?: number; body?: string; headers?: Record<string, string> }): void;
  /** Answer the next `times` verified requests with a redirect, without applying them. */
  redirectTo(location: string, options?: { status?: number; times?: number }): void;
  /** Stall the next `times` requests for `ms` before handling them (to provoke client timeouts). */
  delayNext(ms: number, options?: { times?: number }): void;
  /**
   * Hold the next request (of one action, if given) before handling it: nothing is applied or
   * answered until `release()`. `arrived` resolves when it is being held. A slow receiver, without sleeps.
   */
  holdNext(options?: { action?: 'grant' | 'revoke' }): { arrived: Promise<void>; release: () => void };
  close(): Promise<void>;
}

export async function startWebhookReceiver(options: {
  secret: string;
  path?: string;
  now?: () => Date;
  toleranceSeconds?: number;
}): Promise<WebhookReceiver> {
  const path = options.path ?? '/hooks';
  const now = options.now ?? (() => new Date());
  const requests: ReceivedRequest[] = [];
  const applied: AppliedCall[] = [];
  const answers = new Map<string, Answer>();
  const script: Scripted[] = [];
  const delays: Scripted[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const holds: { action?: string; arrived: () => void; released: Promise<void>; release: () => void }[] = [];
  const holding = new Set<() => void>();

  const take = (queue: Scripted[]): Scripted | undefined => {
    const head = queue[0];
    if (!head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    return head;
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const handle = () => {
        const header = req.headers['x-access-signature'];
        const signatureValid =
          typeof header === 'string' &&
          verifyWebhookSignature(options.secret, header, body, now(), options.toleranceSeconds);
        const keyHeader = req.headers['idempotency-key'];
        const idempotencyKey = typeof keyHeader === 'string' ? keyHeader : undefined;
        const record = (answer: Answer) => {
          requests.push({
            method: req.method ?? '',
            path: req.url ?? '',
            headers: req.headers,
            body,
            signatureValid,
            idempotencyKey,
            status: answer.status,
          });
          send(res, answer);
        };

        if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://receiver').pathname !== path)
          return record(json(404, { error: 'not_found' }));
        if (!signatureValid) return record(json(401, { error: 'bad_signature' }));
        if (!idempotencyKey) return record(json(400, { error: 'missing_idempotency_key' }));

        const scripted = take(script);
        if (scripted?.answer) return record(scripted.answer);

        const stored = answers.get(idempotencyKey);
        if (stored) return record({ ...stored, headers: { ...stored.headers, 'Idempotent-Replayed': 'true' } });

        let call: WireCall;
        try {
          call = WireCall.parse(JSON.parse(body));
        } catch {
          return record(json(400, { error: 'bad_body' }));
        }
        // `<grant id>:<action>`, or with a suffix for a deliberate repeat (a revoke after a late grant).
        const expected = `${call.grant_id}:${call.action}`;
        if (idempotencyKey !== expected && !idempotencyKey.startsWith(`${expected}:`))
          return record(json(400, { error: 'key_mismatch' }));
        applied.push({ idempotencyKey, call });
        const answer = json(200, { applied: true, key: idempotencyKey });
        answers.set(idempotencyKey, answer);
        record(answer);
      };

      const action = /"action":"(grant|revoke)"/.exec(body)?.[1];
      const held = holds.findIndex((h) => h.action === undefined || h.action === action);
      if (held >= 0) {
        const [hold] = holds.splice(held, 1);
        holding.add(hold!.release);
        hold!.arrived();
        void hold!.released.then(() => {
          if (!res.destroyed) handle();
        });
        return;
      }
      const delay = take(delays);
      if (delay?.delayMs === undefined) return handle();
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!res.destroyed) handle();
      }, delay.delayMs);
      timers.add(timer);
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}${path}`,
    requests,
    applied,
    answerWith(status, opts = {}) {
      script.push({
        remaining: opts.times ?? 1,
        answer: { status, body: opts.body ?? '', headers: opts.headers ?? {} },
      });
    },
    redirectTo(location, opts = {}) {
      script.push({
        remaining: opts.times ?? 1,
        answer: { status: opts.status ?? 302, body: '', headers: { Location: location } },
      });
    },
    delayNext(ms, opts = {}) {
      delays.push({ remaining: opts.times ?? 1, delayMs: ms });
    },
    holdNext(opts = {}) {
      let arrived!: () => void;
      let release!: () => void;
      const arrivedP = new Promise<void>((resolve) => (arrived = resolve));
      const released = new Promise<void>((resolve) => (release = resolve));
      holds.push({ action: opts.action, arrived, released, release });
      return { arrived: arrivedP, release };
    },
    async close() {
      for (const release of holding) release();
      holds.length = 0;
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
    },
  };
}

function json(status: number, value: unknown): Answer {
  return { status, body: JSON.stringify(value), headers: { 'Content-Type': 'application/json' } };
}

function send(res: ServerResponse, answer: Answer): void {
  res.writeHead(answer.status, answer.headers);
  res.end(answer.body);
}
