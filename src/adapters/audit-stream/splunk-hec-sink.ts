/**
 * `type: splunk_hec`: Splunk's HTTP Event Collector.
 *
 * Each batch is `POST <url>/services/collector/event` with `Authorization: Splunk <token>` and a
 * body of HEC event envelopes, one per record (`{"time": <epoch seconds>, "source", "sourcetype",
 * "index"?, "event": <record>}`), concatenated as HEC reads them.
 *
 * Indexer acknowledgement: every request carries `X-Splunk-Request-Channel` (a GUID per sink and
 * process; HEC requires it when the token has acknowledgement on, and ignores it otherwise). When
 * the answer carries an `ackId`, the batch counts as delivered only once
 * `POST /services/collector/ack?channel=<guid>` with `{"acks": [id]}` answers `{"acks": {"<id>":
 * true}}`: the events are indexed, not just received. Not acknowledged within `ack_timeout`, the
 * batch is sent again (Splunk's advice), and the receiver dedupes by seq. Without an `ackId`
 * (acknowledgement off), HEC's `{"code": 0}` answer is the confirmation.
 *
 * HEC answers errors as `{"text": ..., "code": n}`: 503 / code 9 (server busy) and 5xx are retried
 * like any failure; 4xx (a bad token, code 4; a disabled one, code 1; an index the token may not
 * write, code 7) are retried too (the stream cannot skip events) and alert after `alert_after`.
 */
import { randomUUID } from 'node:crypto';
import * as z from 'zod';
import type { SplunkHecSinkSettings } from '../../domain/audit-sinks.js';
import { sinkTarget } from '../../domain/audit-sinks.js';
import { PermanentError, TransientError } from '../../domain/errors.js';
import type { AuditBatch } from '../../operations/audit-stream/records.js';
import type { AuditSink } from '../../operations/ports.js';
import { checkedUrl, postOnce, readBody } from '../http/signed-post.js';
import { encodeBatch } from './encode.js';
import type { HttpSinkOptions } from './webhook-sink.js';

const EventAnswer = z.object({
  text: z.string().optional(),
  code: z.number(),
  ackId: z.number().int().nonnegative().optional(),
});
const AckAnswer = z.object({ acks: z.record(z.string(), z.boolean()) });

/** Waits between acknowledgement queries: soon at first, then every 2 s. */
const ACK_POLL_MS = [100, 250, 500, 1000, 2000];

export interface SplunkHecSinkOptions extends HttpSinkOptions {
  /** Waits between acknowledgement queries (tests shorten them). */
  ackPollMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
}

export class SplunkHecSink implements AuditSink {
  readonly type = 'splunk_hec';
  readonly name: string;
  readonly target: string;
  readonly needsSubjects: boolean;
  /** One channel per sink and process: acknowledgement ids are per channel. */
  readonly channel = randomUUID();
  private readonly fetch: typeof fetch;
  private readonly now: () => Date;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(
    private readonly settings: SplunkHecSinkSettings,
    private readonly options: SplunkHecSinkOptions,
  ) {
    this.name = settings.name;
    this.target = sinkTarget(settings);
    this.needsSubjects = settings.format === 'ocsf';
    this.fetch = options.fetch ?? globalThis.fetch;
    this.now = options.now ?? (() => new Date());
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async deliver(batch: AuditBatch): Promise<void> {
    const base = checkedUrl(
      this.settings.url,
      this.options.allowInsecureLoopback ?? false,
      `audit sink ${this.name} url`,
    );
    const token = this.options.env[this.settings.tokenEnv];
    if (!token)
      throw new PermanentError(
        `the environment variable ${this.settings.tokenEnv} is not set (the HEC token of audit sink ${this.name})`,
      );
    const headers = { Authorization: `Splunk ${token}`, 'X-Splunk-Request-Channel': this.channel };
    const envelope = (record: object, event: { at: string }) => ({
      time: Date.parse(event.at) / 1000,
      source: this.settings.source,
      sourcetype: this.settings.sourcetype,
      ...(this.settings.index ? { index: this.settings.index } : {}),
      event: record,
    });
    const pending: { ackId: number; label: string }[] = [];
    for (const part of encodeBatch(batch, this.settings.format, envelope)) {
      const label = `audit sink ${this.name}: events ${part.firstSeq}-${part.lastSeq} to ${this.target}`;
      const answer = await this.post(
        new URL('/services/collector/event', base),
        part.texts.join('\n'),
        headers,
        label,
        EventAnswer,
      );
      if (answer.code !== 0)
        throw new TransientError(`${label}: HEC answered code ${answer.code} (${answer.text ?? 'no text'})`);
      if (answer.ackId !== undefined) pending.push({ ackId: answer.ackId, label });
    }
    if (pending.length > 0) await this.awaitAcknowledgement(base, headers, pending);
  }

  /** Until HEC says every request of the batch is indexed, or the ack timeout passes. */
  private async awaitAcknowledgement(
    base: URL,
    headers: Record<string, string>,
    pending: { ackId: number; label: string }[],
  ): Promise<void> {
    const deadline = Date.now() + this.settings.ackTimeoutSeconds * 1000;
    const waits = this.options.ackPollMs ?? ACK_POLL_MS;
    let waiting = pending;
    for (let attempt = 0; ; attempt++) {
      await this.sleep(waits[Math.min(attempt, waits.length - 1)]!);
      const label = `audit sink ${this.name}: acknowledgement of ${waiting.length} request(s) from ${this.target}`;
      const url = new URL('/services/collector/ack', base);
      url.searchParams.set('channel', this.channel);
      const { acks } = await this.post(
        url,
        JSON.stringify({ acks: waiting.map((p) => p.ackId) }),
        headers,
        label,
        AckAnswer,
      );
      waiting = waiting.filter((p) => acks[String(p.ackId)] !== true);
      if (waiting.length === 0) return;
      if (Date.now() >= deadline) {
        throw new TransientError(
          `audit sink ${this.name}: ${waiting.length} request(s) not indexed within ${this.settings.ackTimeoutSeconds}s (ack ids ${waiting.map((p) => p.ackId).join(', ')}); the batch is sent again`,
        );
      }
    }
  }

  /** One HEC request, its JSON answer checked against `schema`. */
  private async post<T>(
    url: URL,
    body: string,
    headers: Record<string, string>,
    label: string,
    schema: z.ZodType<T>,
  ): Promise<T> {
    const response = await postOnce({
      url,
      body,
      headers,
      timeoutSeconds: this.settings.timeoutSeconds,
      label,
      redirectHint: 'point audit_sinks at the HEC address itself',
      fetch: this.fetch,
      now: this.now,
    });
    return parseAnswer(schema, await readBody(response), label);
  }

  async close(): Promise<void> {}
}

function parseAnswer<T>(schema: z.ZodType<T>, text: string, label: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new TransientError(`${label}: HEC answered something that is not JSON: ${text.slice(0, 200)}`);
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new TransientError(`${label}: HEC answered an unexpected body: ${text.slice(0, 200)}`);
  return parsed.data;
}
