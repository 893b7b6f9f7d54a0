import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { checkMessageBlocks, describeProblem } from './block-kit-limits.js';
import { SlackRateLimiter, type RateLimitOptions } from './rate-limits.js';
import { BodyTooLargeError, parseBody, readRawBody } from './request-body.js';
import {
  SlackWorkspace,
  type NewChannel,
  type SlackChannel,
  type SlackUser,
  type StandInEventName,
  type StandInEvents,
  type StoredMessage,
  type WorkspaceOptions,
} from './slack-workspace.js';
import { Args, SlackPlatformError, WEB_API_METHODS } from './web-api-methods.js';

/**
 * A Slack Web API stand-in over real HTTP: the end-to-end tests point the bot's WebClient at it
 * (`SLACK_API_URL`), and the sandbox builds its browser workspace on it. It answers what
 * @slack/web-api v8 sends (TECH-NOTES §1) the way Slack does: HTTP 200 with `{ok:false, error}`
 * for platform errors, 429 with Retry-After when a method's rate-limit tier is spent
 * (`rate-limits.ts`: on by default, with Slack's windows; tests may scale them or share a clock).
 *
 * Routes: `POST /api/<method>` (Web API), `POST /upload/<file id>` (the files.uploadV2 upload URL),
 * `POST /response/<id>` (response_url).
 */

export interface SlackApiStandInOptions extends WorkspaceOptions {
  /** Bot tokens accepted; default `['xoxb-sandbox']`. */
  botTokens?: string[];
  /** App-level tokens accepted by apps.connections.open; default `['xapp-sandbox']`. */
  appTokens?: string[];
  /** What apps.connections.open answers; without it Socket Mode is `not_allowed`. */
  socketModeUrl?: string;
  /**
   * Slack's per-method rate limits, on by default with Slack's windows (the sandbox keeps them so).
   * `windowScale` shortens every window for tests that run on the real clock; `false` turns them
   * off, for a test of something else that must send faster than Slack allows (rarely right: that
   * is usually a finding about the bot).
   */
  rateLimits?: RateLimitOptions | false;
}

/** A failure injected for the next call(s) of one method, to test the bot's retries. */
export type InjectedFailure =
  /** HTTP 429 with `Retry-After: <retryAfter>` (seconds, default 1); `retryAfter: null` sends no header. */
  | { status: 429; retryAfter?: number | null }
  /** Any other HTTP status, e.g. 500 or 503, with a small JSON body. */
  | { status: number }
  /** HTTP 200 `{ok:false, error}`, e.g. `{error: 'ratelimited'}` or `{error: 'internal_error'}`. */
  | { error: string };

/** response_url limits: "up to 5 times within 30 minutes" (docs.slack.dev implementing-slash-commands). */
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_LIFETIME_MS = 30 * 60 * 1000;

interface Reply {
  status: number;
  headers?: Record<string, string>;
  body: unknown;
  /** For a rate-limited answer: what was limited (`method:chat.update`, `chat.postMessage:D0ALICE`). */
  rateKey?: string;
}

export class SlackApiStandIn {
  readonly workspace: SlackWorkspace;
  private readonly botTokens: Set<string>;
  private readonly appTokens: Set<string>;
  private socketModeUrl: string | undefined;
  private readonly failures = new Map<string, InjectedFailure[]>();
  /** Per method: how many of its next calls on a kept-alive connection find it closed. */
  private readonly closings = new Map<string, number>();
  /** Connections that carried a request already: kept alive, a client reuses them. */
  private readonly usedConnections = new WeakSet<Socket>();
  /** Kept-alive connections closed as a call arrived on them (`closeKeptAliveConnectionOnNext`). */
  keptAliveConnectionsClosed = 0;
  private readonly limiter: SlackRateLimiter | null;
  private server: Server | undefined;
  private origin: string | undefined;

  constructor(options: SlackApiStandInOptions = {}) {
    this.workspace = new SlackWorkspace(options);
    this.botTokens = new Set(options.botTokens ?? ['xoxb-sandbox']);
    this.appTokens = new Set(options.appTokens ?? ['xapp-sandbox']);
    this.socketModeUrl = options.socketModeUrl;
    const limits = options.rateLimits;
    this.limiter = limits === false ? null : new SlackRateLimiter(this.workspace.now, limits ?? {});
  }

  /** Listens on loopback by default; `url` is the Web API base to give WebClient as `slackApiUrl`. */
  async start(port = 0, host = '127.0.0.1'): Promise<{ url: string }> {
    if (this.server) throw new Error('the Slack stand-in is already started');
    const server = createServer((req, res) => {
      if (this.closesUnder(req)) return;
      this.route(req, res).catch((error: unknown) => {
        if (!res.headersSent) send(res, { status: 500, body: { ok: false, error: 'internal_error' } });
        else res.end();
        // A bug in the stand-in must be loud in tests, not a hanging request.
        console.error('slack stand-in: request failed', error);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const address = server.address() as AddressInfo;
    const hostPart = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.server = server;
    this.origin = `http://${hostPart}:${address.port}`;
    return { url: this.url };
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** The Web API base, `http://127.0.0.1:P/api/`. */
  get url(): string {
    return `${this.requireOrigin()}/api/`;
  }

  // ---- set-up and control ---------------------------------------------------------------------

  addUser(user: SlackUser): SlackUser {
    return this.workspace.addUser(user);
  }

  addChannel(channel: NewChannel): SlackChannel {
    return this.workspace.addChannel(channel);
  }

  /** A trigger id for an interaction by this user: good for one views.open/push within 3 s. */
  issueTriggerId(userId: string): string {
    return this.workspace.issueTriggerId(userId);
  }

  /**
   * A response_url as Slack puts in a slash command or block action. `messageTs` names the
   * message the action came from, which `replace_original` / `delete_original` act on.
   */
  issueResponseUrl(target: { channelId: string; userId: string; messageTs?: string }): string {
    return `${this.requireOrigin()}/response/${this.workspace.issueResponseTicket(target).id}`;
  }

  /** The next `times` calls of `method` fail this way, before auth or any other check. */
  failNext(method: string, failure: InjectedFailure, times = 1): void {
    const queue = this.failures.get(method) ?? [];
    for (let i = 0; i < times; i += 1) queue.push(failure);
    this.failures.set(method, queue);
  }

  /**
   * The next `times` calls of `method` that arrive on a connection kept alive from an earlier call
   * find it closed: no answer, the connection ends (the client reads "socket hang up"). A server
   * closes a connection it kept alive once it has been idle a while, and a client that reuses it at
   * that moment sees just this; the call was never read. A call on a new connection is answered.
   */
  closeKeptAliveConnectionOnNext(method: string, times = 1): void {
    this.closings.set(method, (this.closings.get(method) ?? 0) + times);
  }

  setSocketModeUrl(url: string | undefined): void {
    this.socketModeUrl = url;
  }

  on<E extends StandInEventName>(event: E, listener: (payload: StandInEvents[E]) => void): () => void {
    return this.workspace.on(event, listener);
  }

  waitFor<E extends StandInEventName>(
    event: E,
    predicate?: (payload: StandInEvents[E]) => boolean,
    options?: { timeoutMs?: number; after?: number },
  ): Promise<StandInEvents[E]> {
    return this.workspace.waitFor(event, predicate, options);
  }

  cursor(): number {
    return this.workspace.cursor();
  }

  // ---- HTTP -------------------------------------------------------------------------------------

  /** True when `req` came on a kept-alive connection that a `closeKeptAliveConnectionOnNext` closes. */
  private closesUnder(req: IncomingMessage): boolean {
    const reused = this.usedConnections.has(req.socket);
    this.usedConnections.add(req.socket);
    const method = /^\/api\/([\w.]+)/.exec(req.url ?? '')?.[1];
    const left = method ? (this.closings.get(method) ?? 0) : 0;
    if (!reused || !method || left === 0) return false;
    this.closings.set(method, left - 1);
    this.keptAliveConnectionsClosed += 1;
    req.socket.destroy();
    return true;
  }

  private requireOrigin(): string {
    if (!this.origin) throw new Error('the Slack stand-in is not started');
    return this.origin;
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.requireOrigin());
    const [, area, name, ...rest] = url.pathname.split('/');
    let raw: Buffer;
    try {
      raw = await readRawBody(req);
    } catch (error) {
      if (error instanceof BodyTooLargeError)
        return send(res, { status: 413, body: { ok: false, error: 'request_too_large' } });
      throw error;
    }
    if (rest.length > 0 || !name) return send(res, { status: 404, body: { ok: false, error: 'not_found' } });
    if (area === 'api' && (req.method === 'POST' || req.method === 'GET')) {
      return send(res, await this.webApi(name, req, raw, url.searchParams));
    }
    if (area === 'upload' && req.method === 'POST') return send(res, await this.upload(name, req, raw));
    if (area === 'response' && req.method === 'POST') return send(res, this.responseUrl(name, req, raw));
    return send(res, { status: 404, body: { ok: false, error: 'not_found' } });
  }

  private async webApi(method: string, req: IncomingMessage, raw: Buffer, query: URLSearchParams): Promise<Reply> {
    const parsed = await parseBody(raw, req.headers['content-type']);
    const fields = { ...Object.fromEntries(query), ...parsed.fields };
    const reply = this.answer(
      method,
      fields,
      parsed.error,
      bearerToken(req) ?? (typeof fields.token === 'string' ? fields.token : undefined),
    );
    const { token: _token, ...loggedArgs } = fields;
    const retryAfter = reply.status === 429 ? Number(reply.headers?.['retry-after']) : NaN;
    this.workspace.recordCall({
      method,
      args: loggedArgs,
      status: reply.status,
      answer: reply.body,
      at: this.workspace.now(),
      ...(Number.isFinite(retryAfter) ? { retryAfterSeconds: retryAfter } : {}),
      ...(reply.rateKey ? { rateKey: reply.rateKey } : {}),
    });
    return reply;
  }

  private answer(
    method: string,
    fields: Record<string, unknown>,
    parseError: string | undefined,
    token: string | undefined,
  ): Reply {
    const failure = this.failures.get(method)?.shift();
    if (failure) return injected(failure);
    const handler = WEB_API_METHODS[method];
    const isSocketMode = method === 'apps.connections.open';
    if (!handler && !isSocketMode) return ok200({ ok: false, error: 'unknown_method', req_method: method });
    if (parseError) return ok200({ ok: false, error: parseError });
    if (!token) return ok200({ ok: false, error: 'not_authed' });
    if (isSocketMode) {
      if (this.botTokens.has(token)) return ok200({ ok: false, error: 'not_allowed_token_type' });
      if (!this.appTokens.has(token)) return ok200({ ok: false, error: 'invalid_auth' });
      if (!this.socketModeUrl) return ok200({ ok: false, error: 'not_allowed' });
      return ok200({ ok: true, url: this.socketModeUrl });
    }
    if (!handler || !this.botTokens.has(token)) return ok200({ ok: false, error: 'invalid_auth' });
    const limited = this.limiter?.take(method, this.rateChannel(method, fields));
    if (limited?.limited) {
      const headers = { 'retry-after': String(limited.retryAfterSeconds) };
      return { status: 429, headers, body: { ok: false, error: 'ratelimited' }, rateKey: limited.key };
    }
    try {
      const body = handler(new Args(fields), { ws: this.workspace, origin: this.requireOrigin() });
      return ok200({ ok: true, ...body });
    } catch (error) {
      if (error instanceof SlackPlatformError) return ok200({ ok: false, error: error.code, ...error.extra });
      throw error;
    }
  }

  /** chat.postMessage is limited per conversation: a user id posts to (and counts against) their DM. */
  private rateChannel(method: string, fields: Record<string, unknown>): string | undefined {
    if (method !== 'chat.postMessage' || typeof fields.channel !== 'string') return undefined;
    const channel = fields.channel;
    return channel.startsWith('U') || channel.startsWith('W') ? this.workspace.dmChannelId(channel) : channel;
  }

  /**
   * The upload URL of files.uploadV2: a multipart body whose `body` part holds the bytes
   * (TECH-NOTES §6). Anything but HTTP 200 makes the client throw "Failed to upload file".
   */
  private async upload(fileId: string, req: IncomingMessage, raw: Buffer): Promise<Reply> {
    const file = this.workspace.file(fileId);
    if (!file || file.completed) return { status: 404, body: 'file_not_found' };
    const contentType = req.headers['content-type'] ?? '';
    let bytes = raw;
    if (contentType.startsWith('multipart/form-data')) {
      const { fields, error } = await parseBody(raw, contentType);
      const part = fields.body ?? fields.file ?? Object.values(fields).find((v) => Buffer.isBuffer(v));
      if (error || !Buffer.isBuffer(part)) return { status: 400, body: 'invalid_form_data' };
      bytes = part;
    }
    file.bytes = bytes;
    return { status: 200, headers: { 'content-type': 'text/plain' }, body: `OK - ${bytes.length}` };
  }

  /**
   * response_url: JSON `{text, blocks, response_type, replace_original, delete_original, thread_ts}`.
   * Without replace/delete, the answer is a new message: ephemeral for the person who acted
   * (Slack's default) or, with `response_type: in_channel`, visible to everyone.
   */
  private responseUrl(id: string, req: IncomingMessage, raw: Buffer): Reply {
    const ws = this.workspace;
    const ticket = ws.responseTicket(id);
    // Slack answers these with HTTP 404 and a short text; the exact texts are not documented.
    if (!ticket) return { status: 404, body: 'invalid_url' };
    if (ws.now() - ticket.issuedAt > RESPONSE_URL_LIFETIME_MS) return { status: 404, body: 'expired_url' };
    if (ticket.uses >= RESPONSE_URL_USES) return { status: 404, body: 'used_url' };
    if (!(req.headers['content-type'] ?? '').startsWith('application/json')) {
      return { status: 400, body: { ok: false, error: 'invalid_post_type' } };
    }
    let body: Record<string, unknown>;
    try {
      const parsed: unknown = JSON.parse(raw.toString('utf8') || '{}');
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      return { status: 400, body: { ok: false, error: 'invalid_json' } };
    }
    const blocks = body.blocks;
    if (blocks !== undefined) {
      const problems = checkMessageBlocks(blocks);
      if (problems.length > 0) {
        // HTTP 400 so Bolt's respond() throws: a bot bug must not pass silently.
        const errors = problems.map(describeProblem);
        return {
          status: 400,
          body: {
            ok: false,
            error: 'invalid_blocks',
            errors,
            response_metadata: { messages: errors.map((e) => `[ERROR] ${e}`) },
          },
        };
      }
    }
    const text = typeof body.text === 'string' ? body.text : undefined;
    if (text === undefined && blocks === undefined && body.delete_original !== true) {
      return { status: 400, body: { ok: false, error: 'no_text' } };
    }
    ticket.uses += 1;
    const channel = ticket.channelId.startsWith('U') ? ws.dmChannelId(ticket.channelId) : ticket.channelId;
    const original: StoredMessage | undefined = ticket.messageTs
      ? ws.messages(channel, { includeEphemeral: true }).find((m) => m.ts === ticket.messageTs)
      : undefined;
    if (body.delete_original === true) {
      if (original) ws.deleteMessage(original);
      return ok200({ ok: true });
    }
    if (body.replace_original === true && original) {
      ws.updateMessage(original, text ?? original.text, (blocks as unknown[] | undefined) ?? original.blocks);
      return ok200({ ok: true });
    }
    const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : undefined;
    ws.addMessage({
      channel,
      user: ws.botUserId,
      text: text ?? '',
      blocks: (blocks as unknown[] | undefined) ?? [],
      via: 'response_url',
      ...(body.response_type === 'in_channel' ? {} : { ephemeralFor: ticket.userId }),
      ...(threadTs ? { threadTs } : {}),
    });
    return ok200({ ok: true });
  }
}

function ok200(body: Record<string, unknown>): Reply {
  return { status: 200, body };
}

function injected(failure: InjectedFailure): Reply {
  if ('error' in failure) return ok200({ ok: false, error: failure.error });
  if (failure.status === 429) {
    const retryAfter = 'retryAfter' in failure ? failure.retryAfter : 1;
    return {
      status: 429,
      headers: retryAfter === null || retryAfter === undefined ? {} : { 'retry-after': String(retryAfter) },
      body: { ok: false, error: 'ratelimited' },
    };
  }
  return { status: failure.status, body: { ok: false, error: 'internal_error' } };
}

function bearerToken(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

function send(res: ServerResponse, reply: Reply): void {
  const isText = typeof reply.body === 'string';
  res.writeHead(reply.status, {
    'content-type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
    ...reply.headers,
  });
  res.end(isText ? reply.body : JSON.stringify(reply.body));
}
