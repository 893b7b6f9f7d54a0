import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import type { StandInEventName, StoredMessage, StoredView } from './slack-api/slack-workspace.js';
import { BotDispatch } from './bot-dispatch.js';
import { HttpError, type Json, type SandboxServer, type SandboxServerOptions } from './sandbox-types.js';
import { WorkspaceView } from './workspace-view.js';

export type {
  SandboxChannel,
  SandboxClock,
  SandboxPerson,
  SandboxProblem,
  SandboxServer,
  SandboxServerOptions,
} from './sandbox-types.js';

/**
 * The sandbox page's HTTP server: serves the page (`src/sandbox/page/`), a small JSON API over
 * the workspace as each person sees it (`workspace-view.ts`), and the person's actions, which
 * `bot-dispatch.ts` sends to the bot as Slack would. Loopback only; a request whose Host or
 * Origin is not the sandbox's own is refused (403), so another site open in the same browser
 * cannot drive it (DNS rebinding, cross-site fetches, framing).
 *
 * JSON API (all under /api, JSON bodies, `{error}` with a 4xx on a bad request):
 *   GET  /healthz                        the bot's health check, as on a production bot's PORT
 *   GET  /api/workspace                  team, bot, personas (with their time zones), channels, names, clock
 *   GET  /api/state?user=U…              what that person sees: conversations (DM + channels,
 *                                        their ephemerals included), App Home, modal stack, problems
 *   GET  /api/activity                   messages per person's DM (the picker marks who has new ones)
 *   GET  /api/events                     Server-Sent Events: `change` on every workspace change
 *   GET  /api/files/:id                  an uploaded file, as an attachment
 *   GET  /api/webhooks                   the webhook calls the embedded receiver got (newest first)
 *   POST /api/command      {user, channel, text}                   "/access …" -> slash command
 *   POST /api/action       {user, container, blockId, actionId, input?, form?} -> block_actions
 *   POST /api/suggest      {user, container, blockId, actionId, value}          -> block_suggestion
 *   POST /api/view/submit  {user, viewId, form}                    -> view_submission (+ response_action)
 *   POST /api/view/close   {user, viewId}                          -> view_closed (when notify_on_close)
 *   POST /api/view/clear   {user}                                  -> closes modals left from an earlier session
 *   POST /api/app-home     {user, tab: 'home'|'messages'}          -> app_home_opened event
 *   POST /api/clock        {seconds}                               -> clock.advance(seconds)
 * where container is `{type:'message', channel, ts}` or `{type:'view', viewId}`.
 */

const MAX_PAGE_BODY_BYTES = 1024 * 1024;
/** The time control moves the clock by at most a year at once. */
const MAX_ADVANCE_SECONDS = 366 * 24 * 3600;
const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));
const PAGE_FILES: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/block-kit.js': 'block-kit.js',
  '/focus.js': 'focus.js',
  '/style.css': 'style.css',
  '/webhook-calls.js': 'webhook-calls.js',
};
const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};
const LIVE_EVENTS: StandInEventName[] = ['message', 'ephemeral', 'update', 'delete', 'view', 'home', 'file'];

function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '[::1]';
}

export async function startSandboxServer(options: SandboxServerOptions): Promise<SandboxServer> {
  const host = options.host ?? '127.0.0.1';
  // The page lets anyone pick who they are: it must never be reachable from another machine.
  if (!isLoopbackHost(host)) throw new Error(`the sandbox listens on loopback only, not on ${host}`);
  const sandbox = new SandboxHttp(options);
  const server = createServer((req, res) => {
    sandbox.handle(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) return sendJson(res, error.status, { error: error.message });
      console.error('sandbox: request failed', error);
      if (!res.headersSent) sendJson(res, 500, { error: 'internal error' });
      else res.end();
    });
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 3000, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // e.g. EADDRINUSE: nothing may keep listening to the stand-in.
    sandbox.dispose();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  sandbox.listeningOn(host, port);
  const url = `http://${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${port}`;
  return {
    url,
    close: async () => {
      sandbox.dispose();
      await closeServer(server);
    },
  };
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Server-Sent Event streams never end by themselves.
    server.closeAllConnections();
  });
}

class SandboxHttp {
  private readonly view: WorkspaceView;
  private readonly bot: BotDispatch;
  private readonly streams = new Set<ServerResponse>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly keepAlive: NodeJS.Timeout;
  private allowedHosts = new Set<string>();
  private allowedOrigins = new Set<string>();

  constructor(private readonly options: SandboxServerOptions) {
    this.view = new WorkspaceView(options, (problem) =>
      this.broadcast({ kind: 'problem', channel: problem.channel ?? null, user: problem.userId ?? null }),
    );
    this.bot = new BotDispatch(options, this.view);
    for (const event of LIVE_EVENTS) {
      this.unsubscribe.push(options.standIn.on(event, (payload) => this.broadcast(liveHint(event, payload))));
    }
    if (options.webhookCalls)
      this.unsubscribe.push(options.webhookCalls.onCall(() => this.broadcast({ kind: 'webhook' })));
    this.keepAlive = setInterval(() => {
      for (const stream of this.streams) stream.write(': keep-alive\n\n');
    }, 15_000);
    this.keepAlive.unref();
  }

  listeningOn(host: string, port: number): void {
    const names = new Set([host === '::1' ? '[::1]' : host, '127.0.0.1', 'localhost', '[::1]']);
    this.allowedHosts = new Set([...names].map((h) => `${h}:${port}`));
    this.allowedOrigins = new Set([...this.allowedHosts].map((h) => `http://${h}`));
  }

  dispose(): void {
    clearInterval(this.keepAlive);
    for (const off of this.unsubscribe) off();
    this.view.dispose();
    for (const stream of this.streams) stream.end();
    this.streams.clear();
  }

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const path = url.pathname;
    const isApi = path.startsWith('/api/');
    this.guard(req, isApi);
    setSecurityHeaders(res);
    if (req.method === 'GET' && path === '/healthz' && this.options.health) {
      const { status, body } = await this.options.health();
      return sendJson(res, status, body as Json);
    }
    if (req.method === 'GET' && !isApi) return this.servePage(path, res);
    if (!isApi) throw new HttpError(404, 'not found');
    if (req.method === 'GET') return this.handleGet(path, url.searchParams, res);
    if (req.method === 'POST') {
      const body = await readJsonBody(req);
      const answer = await this.handlePost(path, body);
      return sendJson(res, 200, answer);
    }
    throw new HttpError(405, 'method not allowed');
  }

  /**
   * Another site in the person's browser must not drive the sandbox: the Host must be ours (DNS
   * rebinding), an Origin must be ours (cross-site fetch), and the API is same-origin only
   * (`Sec-Fetch-Site`). Clients without these headers (tests, curl) are local processes anyway.
   */
  private guard(req: IncomingMessage, isApi: boolean): void {
    const host = req.headers.host ?? '';
    if (!this.allowedHosts.has(host.toLowerCase())) throw new HttpError(403, `forbidden host ${host}`);
    const origin = req.headers.origin;
    if (origin !== undefined && !this.allowedOrigins.has(origin.toLowerCase()))
      throw new HttpError(403, 'forbidden origin');
    const site = req.headers['sec-fetch-site'];
    if (isApi && site !== undefined && site !== 'same-origin' && site !== 'none')
      throw new HttpError(403, 'cross-site request');
  }

  private async servePage(path: string, res: ServerResponse): Promise<void> {
    if (path === '/favicon.ico') {
      res.writeHead(204);
      return void res.end();
    }
    const file = PAGE_FILES[path];
    if (!file) throw new HttpError(404, 'not found');
    const content = await readFile(`${PAGE_DIR}${file}`);
    res.writeHead(200, {
      'content-type': CONTENT_TYPES[file.split('.').pop() ?? ''] ?? 'application/octet-stream',
      'cache-control': 'no-store',
    });
    res.end(content);
  }

  private handleGet(path: string, query: URLSearchParams, res: ServerResponse): void {
    if (path === '/api/workspace') return sendJson(res, 200, this.view.workspaceInfo());
    if (path === '/api/state') return sendJson(res, 200, this.view.stateFor(this.view.person(query.get('user'))));
    if (path === '/api/activity') return sendJson(res, 200, this.view.activity());
    if (path === '/api/events') return this.openStream(res);
    if (path === '/api/webhooks') return sendJson(res, 200, { calls: this.options.webhookCalls?.list() ?? [] });
    const file = /^\/api\/files\/([A-Z0-9]+)$/.exec(path);
    if (file?.[1]) return this.sendFile(file[1], res);
    throw new HttpError(404, 'not found');
  }

  private async handlePost(path: string, body: Json): Promise<Json> {
    switch (path) {
      case '/api/command':
        return this.bot.command(body);
      case '/api/action':
        return this.bot.action(body);
      case '/api/suggest':
        return this.bot.suggest(body);
      case '/api/view/submit':
        return this.bot.submitView(body);
      case '/api/view/close':
        return this.bot.closeView(body);
      case '/api/view/clear':
        return this.bot.clearModals(body);
      case '/api/app-home':
        return this.bot.appHomeOpened(body);
      case '/api/clock':
        return this.advanceClock(body);
      default:
        throw new HttpError(404, 'not found');
    }
  }

  private sendFile(id: string, res: ServerResponse): void {
    const file = this.view.file(id);
    const ascii = file.filename.replace(/[^A-Za-z0-9._-]/g, '_') || 'download';
    res.writeHead(200, {
      'content-type': file.filename.toLowerCase().endsWith('.csv')
        ? 'text/csv; charset=utf-8'
        : 'application/octet-stream',
      'content-disposition': `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
      'content-length': String(file.bytes.length),
    });
    res.end(file.bytes);
  }

  private openStream(res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    res.write('retry: 1000\n\n');
    this.streams.add(res);
    res.on('close', () => this.streams.delete(res));
  }

  private broadcast(hint: Json): void {
    const frame = `event: change\ndata: ${JSON.stringify(hint)}\n\n`;
    for (const stream of this.streams) stream.write(frame);
  }

  private async advanceClock(body: Json): Promise<Json> {
    const clock = this.options.clock;
    if (!clock) throw new HttpError(404, 'this sandbox has no time control');
    const seconds = body.seconds;
    if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds <= 0 || seconds > MAX_ADVANCE_SECONDS) {
      throw new HttpError(400, `seconds must be a whole number from 1 to ${MAX_ADVANCE_SECONDS}`);
    }
    await clock.advance(seconds);
    const now = clock.now().toISOString();
    this.broadcast({ kind: 'clock', now });
    return { ok: true, now };
  }
}

function liveHint(event: StandInEventName, payload: unknown): Json {
  const p = payload as Partial<StoredMessage & StoredView & { view: StoredView }>;
  if (event === 'view') return { kind: 'view', user: p.view?.userId ?? null };
  if (event === 'home') return { kind: 'home', user: p.userId ?? null };
  if (event === 'file') return { kind: 'file' };
  return { kind: event, channel: p.channel ?? null, ts: p.ts ?? null, user: p.ephemeralFor ?? null };
}

async function readJsonBody(req: IncomingMessage): Promise<Json> {
  // A JSON content type cannot be sent cross-site without a CORS preflight, which we never grant.
  if ((req.headers['content-type'] ?? '').split(';')[0]?.trim() !== 'application/json')
    throw new HttpError(415, 'send application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_PAGE_BODY_BYTES) throw new HttpError(413, 'request too large');
    chunks.push(buffer);
  }
  try {
    const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    return parsed as Json;
  } catch {
    throw new HttpError(400, 'invalid JSON');
  }
}

function setSecurityHeaders(res: ServerResponse): void {
  res.setHeader('x-content-type-options', 'nosniff');
  res.setHeader('x-frame-options', 'DENY');
  res.setHeader('referrer-policy', 'no-referrer');
  res.setHeader(
    'content-security-policy',
    "default-src 'self'; img-src 'self' https: http: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  );
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
