/**
 * A stand-in for Splunk's HTTP Event Collector, strict about what the real one refuses (Splunk
 * docs, "Format events for HTTP Event Collector", "About HTTP Event Collector Indexer
 * Acknowledgment", and HEC's error codes):
 *
 * - `POST /services/collector/event` (or `/services/collector`): `Authorization: Splunk <token>`
 *   (401 code 2 without it, 401 code 3 for another scheme, 403 code 4 for an unknown token); a body
 *   of JSON event objects, concatenated (400 code 5 when empty, code 6 when not JSON objects, with
 *   `invalid-event-number`; code 12 without an `event` field, 13 when it is blank; code 7 for an
 *   index the token may not write). 200 `{"text":"Success","code":0}`.
 * - Indexer acknowledgement, per token: a request then needs a channel (`X-Splunk-Request-Channel`
 *   or `?channel=`; 400 code 10 without one, code 11 when it is not a GUID) and the answer carries
 *   an `ackId`, counted per channel from 0. `POST /services/collector/ack?channel=<guid>` with
 *   `{"acks":[ids]}` answers `{"acks":{"<id>": bool}}` (400 code 14 when the token has
 *   acknowledgement off). Events count as indexed when their request is acknowledged.
 * - Scripted trouble: busy (503 code 9), indexing that takes a number of queries, or never comes
 *   (an indexer that lost the events).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export interface HecEvent {
  time?: number;
  host?: string;
  source?: string;
  sourcetype?: string;
  index?: string;
  event: Record<string, unknown>;
}

export interface HecRequest {
  path: string;
  status: number;
  code: number;
  channel: string | undefined;
  headers: IncomingHttpHeaders;
  events: HecEvent[];
}

export interface HecStandIn {
  readonly url: string;
  readonly token: string;
  /** Every request to the event endpoint, refused ones included. */
  readonly requests: HecRequest[];
  /** Ack queries, in order. */
  readonly ackQueries: { channel: string | undefined; acks: number[] }[];
  /** Events indexed (acknowledged, or accepted with acknowledgement off), in order, repeats included. */
  readonly indexed: HecEvent[];
  /** Answer the next `times` event requests 503 "Server is busy". */
  busy(times: number): void;
  /** Requests accepted from now on are indexed only after `queries` ack queries that name them. */
  indexAfter(queries: number): void;
  /** Requests accepted from now on are never indexed (their acks stay false). */
  loseNext(times: number): void;
  until(check: () => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

interface Pending {
  events: HecEvent[];
  queriesLeft: number;
  lost: boolean;
  indexed: boolean;
}

export async function startHecStandIn(options: {
  token?: string;
  ack: boolean;
  allowedIndexes?: string[];
}): Promise<HecStandIn> {
  const token = options.token ?? 'hec-token-0001';
  const requests: HecRequest[] = [];
  const ackQueries: { channel: string | undefined; acks: number[] }[] = [];
  const indexed: HecEvent[] = [];
  const channels = new Map<string, { next: number; pending: Map<number, Pending> }>();
  const waiters = new Set<() => void>();
  let busy = 0;
  let indexAfter = 0;
  let lose = 0;

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://hec');
      const body = Buffer.concat(chunks).toString('utf8');
      const header = req.headers['x-splunk-request-channel'];
      const channel = (typeof header === 'string' ? header : undefined) ?? url.searchParams.get('channel') ?? undefined;
      const send = (status: number, answer: Record<string, unknown>, record?: HecRequest) => {
        if (record) {
          record.status = status;
          record.code = typeof answer.code === 'number' ? answer.code : 0;
          requests.push(record);
        }
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
        for (const wake of [...waiters]) wake();
      };
      const record: HecRequest = { path: url.pathname, status: 0, code: 0, channel, headers: req.headers, events: [] };
      const isEvent = url.pathname === '/services/collector/event' || url.pathname === '/services/collector';
      const isAck = url.pathname === '/services/collector/ack';
      if (req.method !== 'POST' || (!isEvent && !isAck))
        return send(404, { text: 'The requested URL was not found on this server.', code: 404 });

      const auth = req.headers.authorization;
      if (!auth) return send(401, { text: 'Token is required', code: 2 }, isEvent ? record : undefined);
      if (!auth.startsWith('Splunk '))
        return send(401, { text: 'Invalid authorization', code: 3 }, isEvent ? record : undefined);
      if (auth.slice('Splunk '.length) !== token)
        return send(403, { text: 'Invalid token', code: 4 }, isEvent ? record : undefined);

      if (isAck) {
        if (!options.ack) return send(400, { text: 'ACK is disabled', code: 14 });
        if (!channel) return send(400, { text: 'Data channel is missing', code: 10 });
        if (!GUID.test(channel)) return send(400, { text: 'Invalid data channel', code: 11 });
        let ids: number[];
        try {
          const parsed = JSON.parse(body) as { acks?: unknown };
          if (!Array.isArray(parsed.acks) || !parsed.acks.every((n) => Number.isInteger(n))) throw new Error('acks');
          ids = parsed.acks as number[];
        } catch {
          return send(400, { text: 'Invalid data format', code: 6 });
        }
        ackQueries.push({ channel, acks: ids });
        const state = channels.get(channel);
        const acks: Record<string, boolean> = {};
        for (const id of ids) {
          const pending = state?.pending.get(id);
          if (pending && !pending.lost && !pending.indexed) {
            pending.queriesLeft--;
            if (pending.queriesLeft <= 0) {
              pending.indexed = true;
              indexed.push(...pending.events);
            }
          }
          acks[String(id)] = pending?.indexed === true;
        }
        return send(200, { acks });
      }

      if (options.ack && !channel) return send(400, { text: 'Data channel is missing', code: 10 }, record);
      if (channel !== undefined && !GUID.test(channel))
        return send(400, { text: 'Invalid data channel', code: 11 }, record);
      if (body.trim() === '') return send(400, { text: 'No data', code: 5 }, record);
      const parsed = parseConcatenated(body);
      if ('invalidAt' in parsed)
        return send(400, { text: 'Invalid data format', code: 6, 'invalid-event-number': parsed.invalidAt }, record);
      for (const [i, event] of parsed.events.entries()) {
        if (!('event' in event))
          return send(400, { text: 'Event field is required', code: 12, 'invalid-event-number': i }, record);
        if (event.event === '' || event.event === null)
          return send(400, { text: 'Event field cannot be blank', code: 13, 'invalid-event-number': i }, record);
        if (
          event.index !== undefined &&
          options.allowedIndexes &&
          !options.allowedIndexes.includes(String(event.index))
        ) {
          return send(400, { text: 'Incorrect index', code: 7, 'invalid-event-number': i }, record);
        }
      }
      if (busy > 0) {
        busy--;
        return send(503, { text: 'Server is busy', code: 9 }, record);
      }
      record.events = parsed.events as unknown as HecEvent[];
      if (!options.ack) {
        indexed.push(...record.events);
        return send(200, { text: 'Success', code: 0 }, record);
      }
      const state = channels.get(channel!) ?? { next: 0, pending: new Map<number, Pending>() };
      channels.set(channel!, state);
      const ackId = state.next++;
      const lost = lose > 0;
      if (lost) lose--;
      state.pending.set(ackId, { events: record.events, queriesLeft: indexAfter, lost, indexed: false });
      if (indexAfter <= 0 && !lost) {
        state.pending.get(ackId)!.indexed = true;
        indexed.push(...record.events);
      }
      send(200, { text: 'Success', code: 0, ackId }, record);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token,
    requests,
    ackQueries,
    indexed,
    busy(times) {
      busy = times;
    },
    indexAfter(queries) {
      indexAfter = queries;
    },
    loseNext(times) {
      lose = times;
    },
    until(check, ms = 10_000) {
      if (check()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(wake);
          reject(
            new Error(
              `the HEC stand-in did not see what was expected within ${ms} ms (${indexed.length} events indexed)`,
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
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** HEC's body: JSON objects one after another (whitespace between them allowed, no commas). */
function parseConcatenated(body: string): { events: Record<string, unknown>[] } | { invalidAt: number } {
  const events: Record<string, unknown>[] = [];
  let i = 0;
  while (i < body.length) {
    while (i < body.length && /\s/.test(body[i]!)) i++;
    if (i >= body.length) break;
    if (body[i] !== '{') return { invalidAt: events.length };
    const end = objectEnd(body, i);
    if (end < 0) return { invalidAt: events.length };
    try {
      events.push(JSON.parse(body.slice(i, end + 1)) as Record<string, unknown>);
    } catch {
      return { invalidAt: events.length };
    }
    i = end + 1;
  }
  return { events };
}

/** The index of the `}` closing the object that starts at `start`, or -1. */
function objectEnd(text: string, start: number): number {
  let depth = 0;
  let inString = false;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{') depth++;
    else if (c === '}' && --depth === 0) return i;
  }
  return -1;
}
