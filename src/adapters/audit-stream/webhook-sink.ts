/**
 * `type: webhook`: each batch is one HTTPS POST of a JSON array of records, signed like the
 * provisioning webhooks: `X-Access-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">` with the
 * key in `secret_env`. `Idempotency-Key: audit:<sink>:<first seq>-<last seq>` names the batch; a
 * receiver dedupes by each record's `seq` (a batch may arrive twice). Only a 2xx counts.
 */
import { PermanentError } from '../../domain/errors.js';
import type { WebhookSinkSettings } from '../../domain/audit-sinks.js';
import { sinkTarget } from '../../domain/audit-sinks.js';
import type { AuditBatch } from '../../operations/audit-stream/records.js';
import type { AuditSink } from '../../operations/ports.js';
import { checkedUrl, postOnce, SIGNATURE_HEADER, signBody } from '../http/signed-post.js';
import { encodeBatch } from './encode.js';

export interface HttpSinkOptions {
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
  now?: () => Date;
  /** Plain http to loopback: tests and the sandbox's embedded receiver only, never configuration. */
  allowInsecureLoopback?: boolean;
}

export class WebhookSink implements AuditSink {
  readonly type = 'webhook';
  readonly name: string;
  readonly target: string;
  readonly needsSubjects: boolean;
  private readonly fetch: typeof fetch;
  private readonly now: () => Date;

  constructor(
    private readonly settings: WebhookSinkSettings,
    private readonly options: HttpSinkOptions,
  ) {
    this.name = settings.name;
    this.target = sinkTarget(settings);
    this.needsSubjects = settings.format === 'ocsf';
    this.fetch = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? (() => new Date());
  }

  async deliver(batch: AuditBatch): Promise<void> {
    const url = checkedUrl(
      this.settings.url,
      this.options.allowInsecureLoopback ?? false,
      `audit sink ${this.name} url`,
    );
    const secret = this.options.env[this.settings.secretEnv];
    if (!secret)
      throw new PermanentError(
        `the environment variable ${this.settings.secretEnv} is not set (the HMAC key that signs audit sink ${this.name}'s batches)`,
      );
    for (const part of encodeBatch(batch, this.settings.format)) {
      const body = `[${part.texts.join(',')}]`;
      const response = await postOnce({
        url,
        body,
        headers: {
          [SIGNATURE_HEADER]: signBody(secret, body, Math.floor(this.now().getTime() / 1000)),
          'Idempotency-Key': `audit:${this.name}:${part.firstSeq}-${part.lastSeq}`,
        },
        timeoutSeconds: this.settings.timeoutSeconds,
        label: `audit sink ${this.name}: events ${part.firstSeq}-${part.lastSeq} to ${this.target}`,
        redirectHint: 'point audit_sinks at the final https URL',
        fetch: this.fetch,
        now: this.now,
      });
      await response.body?.cancel().catch(() => {});
    }
  }

  async close(): Promise<void> {}
}
