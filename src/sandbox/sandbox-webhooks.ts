/**
 * Webhooks in the sandbox: nothing leaves the machine (security review M2). A role provisioned by
 * webhook calls this embedded receiver instead of the URL in its policy: the real provisioner
 * signs and sends the call over HTTP to 127.0.0.1 with a secret made for this run, the receiver
 * verifies it as an application would, answers 2xx, and keeps the call for the page to show. The
 * policy's own `secret_env` is never read, so a production key in the environment is never used.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as z from 'zod';
import {
  verifyWebhookSignature,
  WebhookClient,
  type WebhookCall,
  type WebhookTarget,
  type WebhookTransport,
} from '../adapters/provisioners/webhook-provisioner.js';
import { redactUrl } from '../domain/redact-url.js';

/** One call as the page shows it. */
export interface SandboxWebhookCall {
  at: string;
  action: 'grant' | 'revoke';
  grantId: string;
  app: string;
  role: string;
  email: string;
  idempotencyKey: string;
  /** Where production would have sent it (query string redacted); never called from the sandbox. */
  policyUrl: string;
  signatureValid: boolean;
  status: number;
}

const CALLS_KEPT = 200;
const SECRET_ENV = 'ACCESS_BOT_SANDBOX_WEBHOOK_SECRET';
const MAX_BODY_BYTES = 64 * 1024;

const WireCall = z
  .object({
    action: z.enum(['grant', 'revoke']),
    grant_id: z.string(),
    app: z.string(),
    role: z.string(),
    user: z.object({ email: z.string() }).loose(),
  })
  .loose();

export class SandboxWebhooks implements WebhookTransport {
  private readonly calls: SandboxWebhookCall[] = [];
  private readonly listeners = new Set<(call: SandboxWebhookCall) => void>();
  /** Policy URLs by the path the receiver serves them at, so a call can say where it would have gone. */
  private readonly targets = new Map<string, string>();
  private readonly client: WebhookClient;
  private readonly secret = randomBytes(24).toString('hex');
  private readonly server: Server;
  private base = '';

  private constructor(private readonly now: () => Date) {
    this.client = new WebhookClient({ env: { [SECRET_ENV]: this.secret }, allowInsecureLoopback: true, now });
    this.server = createServer((req, res) => {
      onBody(req, MAX_BODY_BYTES, (text) => {
        const status = this.receive(
          req.url ?? '/',
          req.headers['x-access-signature'],
          req.headers['idempotency-key'],
          text,
        );
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ received: status === 200 }));
      });
    });
  }

  static async start(options: { now?: () => Date } = {}): Promise<SandboxWebhooks> {
    const webhooks = new SandboxWebhooks(options.now ?? (() => new Date()));
    await new Promise<void>((resolve, reject) => {
      webhooks.server.once('error', reject);
      webhooks.server.listen(0, '127.0.0.1', () => resolve());
    });
    webhooks.base = `http://127.0.0.1:${(webhooks.server.address() as AddressInfo).port}`;
    return webhooks;
  }

  /** The webhook transport: the same signed call, to the embedded receiver instead of `target.url`. */
  call(target: WebhookTarget, call: WebhookCall, options?: { idempotencyKey?: string }): Promise<{ status: number }> {
    const path = `/hooks/${this.targets.size}`;
    const known = [...this.targets].find(([, url]) => url === target.url)?.[0];
    if (!known) this.targets.set(path, target.url);
    return this.client.call(
      { url: `${this.base}${known ?? path}`, secretEnv: SECRET_ENV, timeoutSeconds: target.timeoutSeconds },
      call,
      options,
    );
  }

  /** The calls received, newest first. */
  list(): SandboxWebhookCall[] {
    return [...this.calls].reverse();
  }

  onCall(listener: (call: SandboxWebhookCall) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private receive(
    url: string,
    signature: string | string[] | undefined,
    key: string | string[] | undefined,
    body: string,
  ): number {
    const policyUrl = this.targets.get(new URL(url, this.base).pathname);
    const parsed = (() => {
      try {
        return WireCall.safeParse(JSON.parse(body));
      } catch {
        return undefined;
      }
    })();
    if (!policyUrl || !parsed?.success) return 400;
    const signatureValid =
      typeof signature === 'string' && verifyWebhookSignature(this.secret, signature, body, this.now());
    const status = signatureValid ? 200 : 401;
    const call: SandboxWebhookCall = {
      at: this.now().toISOString(),
      action: parsed.data.action,
      grantId: parsed.data.grant_id,
      app: parsed.data.app,
      role: parsed.data.role,
      email: parsed.data.user.email,
      idempotencyKey: typeof key === 'string' ? key : '',
      policyUrl: redactUrl(policyUrl),
      signatureValid,
      status,
    };
    this.calls.push(call);
    if (this.calls.length > CALLS_KEPT) this.calls.shift();
    for (const listener of this.listeners) listener(call);
    return status;
  }
}

/**
 * Calls `done` with a request's body as text once it ended; past `maxBytes` the rest is dropped (and the signature
 * fails).
 */
export function onBody(req: IncomingMessage, maxBytes: number, done: (text: string) => void): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
  });
  req.on('end', () => done(Buffer.concat(chunks).toString('utf8')));
}
