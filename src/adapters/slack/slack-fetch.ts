/**
 * The Web API client's transport: the WebClient takes any function that answers its
 * `FetchResponse` (status, headers, the body as text or bytes), and sends every method call as one
 * POST with a form-encoded string body. This sends such a call with `node:http`/`node:https` over
 * kept-alive connections and hands the answer back as that small response.
 *
 * Why not Node's `fetch`: it wraps a call in two web streams, a Request, abort signals and the
 * fetch algorithm's bookkeeping, about three times the CPU of a plain request (measured here:
 * 0.5-0.8 ms against 0.2-0.3 ms per call; opening the request form makes two calls). Why not
 * undici's `request`, which this used before: loading undici and compiling its WebAssembly HTTP
 * parser, plus the `Response` that then wrapped its answer (which loads Node's own fetch), cost the
 * idle bot about 17 MB of its resident memory, where `node:http` is already loaded (issue 20).
 * Anything but a string POST (a file upload's multipart body) goes to `fetch`.
 */
import { Agent as HttpAgent, request as httpRequest, STATUS_CODES, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { FetchFunction } from '@slack/web-api';

// The WebClient's own contract for its transport (its package exports only the function's type).
type FetchRequestInit = NonNullable<Parameters<FetchFunction>[1]>;
type FetchResponse = Awaited<ReturnType<FetchFunction>>;
type FetchHeaders = FetchResponse['headers'];

/** Statuses whose response has no body. */
const NO_BODY = new Set([101, 103, 204, 205, 304]);

// One pool per scheme, connections kept between calls (the WebClient calls one host).
const agents = { http: new HttpAgent({ keepAlive: true }), https: new HttpsAgent({ keepAlive: true }) };

export const slackFetch: FetchFunction = async (input, init) => {
  if (typeof init?.body !== 'string' || (init.method ?? 'GET') !== 'POST') {
    return fetch(input, init as RequestInit | undefined);
  }
  const url = typeof input === 'string' ? new URL(input) : input;
  const answer = await post(url, init.body, init);
  const bytes = NO_BODY.has(answer.statusCode ?? 0) ? (answer.resume(), Buffer.alloc(0)) : await readAll(answer);
  return new SlackFetchResponse(url.href, answer, bytes);
};

/**
 * Sends the call over a kept-alive connection. If the server closed that connection as the call
 * went out (it closes one it kept alive once idle, and a busy process can reuse it a moment after
 * that), the call fails before any answer with ECONNRESET/EPIPE on a reused socket: the server never
 * read it, so it is sent again once, on a new connection (Node's documented pattern,
 * `request.reusedSocket`). Without this, a busy replica's users.info failed with "socket hang up" and
 * the person got "Slack did not tell us who you are just now" instead of the form (the ack bench).
 */
async function post(url: URL, body: string, init: FetchRequestInit): Promise<IncomingMessage> {
  try {
    return await send(url, body, init, true);
  } catch (error) {
    if (!(error instanceof StaleConnectionError)) throw error;
    return await send(url, body, init, false);
  }
}

class StaleConnectionError extends Error {}

const STALE_CODES = new Set(['ECONNRESET', 'EPIPE']);

function send(url: URL, body: string, init: FetchRequestInit, pooled: boolean): Promise<IncomingMessage> {
  const https = url.protocol === 'https:';
  if (!https && url.protocol !== 'http:') return Promise.reject(new TypeError(`unsupported URL: ${url.href}`));
  return new Promise((resolve, reject) => {
    const req = (https ? httpsRequest : httpRequest)(url, {
      method: 'POST',
      headers: { ...init.headers, 'content-length': Buffer.byteLength(body) },
      // A new connection of its own (closed after the answer) for a call sent again.
      agent: pooled ? (https ? agents.https : agents.http) : false,
      ...(init.signal ? { signal: init.signal } : {}),
    });
    req.once('response', resolve);
    req.once('error', (error: NodeJS.ErrnoException) => {
      const stale = pooled && req.reusedSocket && STALE_CODES.has(error.code ?? '') && !init.signal?.aborted;
      reject(stale ? new StaleConnectionError(error.message, { cause: error }) : error);
    });
    req.end(body);
  });
}

function readAll(answer: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    answer.on('data', (chunk: Buffer) => chunks.push(chunk));
    answer.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)));
    answer.once('error', reject);
    answer.once('aborted', () => reject(new Error('the connection closed before the answer was complete')));
  });
}

/** An answer as the WebClient reads it: status, headers and the body already read whole. */
class SlackFetchResponse implements FetchResponse {
  readonly status: number;
  readonly statusText: string;
  readonly headers: FetchHeaders;

  constructor(
    readonly url: string,
    answer: IncomingMessage,
    private readonly bytes: Buffer,
  ) {
    this.status = answer.statusCode ?? 0;
    this.statusText = answer.statusMessage ?? STATUS_CODES[this.status] ?? '';
    this.headers = new AnswerHeaders(answer.headers);
  }

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  async text(): Promise<string> {
    return this.bytes.toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const { buffer, byteOffset, byteLength } = this.bytes;
    return buffer.slice(byteOffset, byteOffset + byteLength) as ArrayBuffer;
  }
}

/** Node's parsed headers (lower-case names) read the way `Headers` reads them. */
class AnswerHeaders implements FetchHeaders {
  constructor(private readonly raw: IncomingMessage['headers']) {}

  get(name: string): string | null {
    const value = this.raw[name.toLowerCase()];
    return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
  }

  *entries(): IterableIterator<[string, string]> {
    for (const name of Object.keys(this.raw).sort()) {
      const value = this.get(name);
      if (value !== null) yield [name, value];
    }
  }
}
