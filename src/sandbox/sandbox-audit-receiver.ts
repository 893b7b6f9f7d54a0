/**
 * Audit sinks in the sandbox: nothing leaves the machine. A `webhook` or `splunk_hec` sink sends to
 * this embedded receiver instead of the URL in settings.yml: the real sink signs (or authorises)
 * and sends each batch over HTTP to 127.0.0.1 with a secret made for this run; the receiver checks
 * it as a SIEM would, answers as a webhook receiver or HEC does, and counts what it got. The
 * settings' own `secret_env` and `token_env` are never read. (`file` sinks write where they say.)
 */
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuditSinkSettings } from '../domain/audit-sinks.js';
import type { SinkRedirect } from '../adapters/audit-stream/create-sinks.js';
import { verifySignature } from '../adapters/http/signed-post.js';
import { onBody } from './sandbox-webhooks.js';

const SECRET_ENV = 'ACCESS_BOT_SANDBOX_AUDIT_SECRET';
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/** What one sink delivered to the receiver. */
export interface SandboxSinkTally {
  batches: number;
  events: number;
  lastSeq: number;
  refused: number;
}

export class SandboxAuditReceiver implements SinkRedirect {
  private readonly secret = randomBytes(24).toString('hex');
  private readonly tokens = new Map<string, string>();
  private readonly tallies = new Map<string, SandboxSinkTally>();
  private readonly server: Server;
  private base = '';

  private constructor(private readonly now: () => Date) {
    this.server = createServer((req, res) => {
      onBody(req, MAX_BODY_BYTES, (text) => {
        const { status, body } = this.receive(req.url ?? '/', req.headers, text);
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      });
    });
  }

  static async start(options: { now?: () => Date } = {}): Promise<SandboxAuditReceiver> {
    const receiver = new SandboxAuditReceiver(options.now ?? (() => new Date()));
    await new Promise<void>((resolve, reject) => {
      receiver.server.once('error', reject);
      receiver.server.listen(0, '127.0.0.1', () => resolve());
    });
    receiver.base = `http://127.0.0.1:${(receiver.server.address() as AddressInfo).port}`;
    return receiver;
  }

  redirect(sink: AuditSinkSettings): { settings: AuditSinkSettings; env: Record<string, string | undefined> } {
    this.tallies.set(sink.name, this.tallies.get(sink.name) ?? { batches: 0, events: 0, lastSeq: 0, refused: 0 });
    if (sink.type === 'webhook') {
      return {
        settings: { ...sink, url: `${this.base}/audit/${sink.name}`, secretEnv: SECRET_ENV },
        env: { [SECRET_ENV]: this.secret },
      };
    }
    if (sink.type === 'splunk_hec') {
      // HEC knows a sink by its token: one per sink.
      const token = `sandbox-${sink.name}-${randomBytes(8).toString('hex')}`;
      this.tokens.set(token, sink.name);
      const variable = `${SECRET_ENV}_${sink.name.toUpperCase().replaceAll('-', '_')}`;
      return { settings: { ...sink, url: this.base, tokenEnv: variable }, env: { [variable]: token } };
    }
    return { settings: sink, env: {} };
  }

  /** What each sink delivered, by name. */
  tally(): Record<string, SandboxSinkTally> {
    return Object.fromEntries(this.tallies);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private receive(
    url: string,
    headers: NodeJS.Dict<string | string[]>,
    body: string,
  ): { status: number; body: unknown } {
    const path = new URL(url, this.base).pathname;
    const webhook = /^\/audit\/([a-z0-9-]+)$/.exec(path);
    if (webhook) {
      const tally = this.tallies.get(webhook[1]!);
      const signature = headers['x-access-signature'];
      if (!tally) return { status: 404, body: { error: 'unknown sink' } };
      if (typeof signature !== 'string' || !verifySignature(this.secret, signature, body, this.now())) {
        tally.refused++;
        return { status: 401, body: { error: 'bad signature' } };
      }
      return this.count(tally, () => JSON.parse(body) as unknown[]);
    }
    if (path === '/services/collector/event') {
      const auth = headers.authorization;
      const name = typeof auth === 'string' && auth.startsWith('Splunk ') ? this.tokens.get(auth.slice(7)) : undefined;
      const tally = name ? this.tallies.get(name) : undefined;
      if (!tally) return { status: 403, body: { text: 'Invalid token', code: 4 } };
      const counted = this.count(tally, () =>
        body
          .split('\n')
          .filter(Boolean)
          .map((line) => (JSON.parse(line) as { event: unknown }).event),
      );
      return counted.status === 200
        ? { status: 200, body: { text: 'Success', code: 0 } }
        : { status: 400, body: { text: 'Invalid data format', code: 6 } };
    }
    return { status: 404, body: { error: 'not found' } };
  }

  private count(tally: SandboxSinkTally, records: () => unknown[]): { status: number; body: unknown } {
    let list: unknown[];
    try {
      list = records();
    } catch {
      tally.refused++;
      return { status: 400, body: { error: 'not JSON' } };
    }
    tally.batches++;
    tally.events += list.length;
    for (const record of list) {
      const seq = seqOf(record);
      if (seq !== undefined && seq > tally.lastSeq) tally.lastSeq = seq;
    }
    return { status: 200, body: { received: list.length } };
  }
}

/** The seq of a json record or an OCSF one (`metadata.sequence`). */
function seqOf(record: unknown): number | undefined {
  if (typeof record !== 'object' || record === null) return undefined;
  const r = record as { seq?: unknown; metadata?: { sequence?: unknown } };
  const seq = r.seq ?? r.metadata?.sequence;
  return typeof seq === 'number' ? seq : undefined;
}
