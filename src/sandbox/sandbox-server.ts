import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { BLOCK_KIT_LIMITS, checkMessageBlocks, checkView, describeProblem, viewByteLength } from './slack-api/block-kit-limits.js';
import type { SlackApiStandIn } from './slack-api/slack-api-server.js';
import type { ApiCall, SlackWorkspace, StandInEventName, StoredMessage, StoredView } from './slack-api/slack-workspace.js';
import { apiMessage, apiView, newView, redefine } from './slack-api/web-api-methods.js';
import {
  actionFor, blockActionsPayload, blockSuggestionPayload, elementOptions, eventCallbackBody, findElement,
  interactivityBody, signRequest, slashCommandBody, stateValues, viewClosedPayload, viewSubmissionPayload,
  type ActionContainer, type Actor, type BlockOption, type PageForm, type PageInput, type SlackContentType,
} from './payloads.js';

/**
 * The sandbox page's server: serves the page (`src/sandbox/page/`) and a small JSON API over the
 * Slack stand-in's workspace, and turns what a person does on the page into the requests Slack
 * would send the bot, signed, on its `/slack/events`. Loopback only; a request whose Host or
 * Origin is not the sandbox's own is refused (403), so another site open in the same browser
 * cannot drive it (DNS rebinding, cross-site fetches, framing).
 *
 * JSON API (all under /api, JSON bodies, `{error}` with a 4xx on a bad request):
 *   GET  /api/workspace                  team, bot, personas, channels, people names, clock
 *   GET  /api/state?user=U…              what that person sees: conversations (DM + channels,
 *                                        their ephemerals included), App Home, modal stack, problems
 *   GET  /api/events                     Server-Sent Events: `change` on every workspace change
 *   GET  /api/files/:id                  an uploaded file, as an attachment
 *   GET  /api/webhooks                   the webhook calls the embedded receiver got (newest first)
 *   POST /api/command      {user, channel, text}                   "/access …" -> slash command
 *   POST /api/action       {user, container, blockId, actionId, input?, form?} -> block_actions
 *   POST /api/suggest      {user, container, blockId, actionId, value}          -> block_suggestion
 *   POST /api/view/submit  {user, viewId, form}                    -> view_submission (+ response_action)
 *   POST /api/view/close   {user, viewId}                          -> view_closed (when notify_on_close)
 *   POST /api/app-home     {user, tab: 'home'|'messages'}          -> app_home_opened event
 *   POST /api/clock        {seconds}                               -> clock.advance(seconds)
 * where container is `{type:'message', channel, ts}` or `{type:'view', viewId}`.
 */

export interface SandboxPerson {
  slackId: string;
  email: string;
  name: string;
  title: string;
}

export interface SandboxChannel {
  id: string;
  name: string;
}

/** The bot's clock, moved by the page's time control (sandbox only). */
export interface SandboxClock {
  advance(seconds: number): Promise<void> | void;
  now(): Date;
}

export interface SandboxServerOptions {
  standIn: SlackApiStandIn;
  /** The bot's request URL, e.g. http://127.0.0.1:4321/slack/events. */
  botEventsUrl: string;
  signingSecret: string;
  people: SandboxPerson[];
  /** The channels the bot posts to (the security and alerts channels). */
  channels: SandboxChannel[];
  port?: number;
  host?: string;
  clock?: SandboxClock;
  /** The slash commands the app declares (its manifest); default `['/access']`. */
  commands?: string[];
  /** The embedded webhook receiver (webhook roles call it instead of their policy URL). */
  webhookCalls?: { list(): unknown[]; onCall(listener: () => void): () => void };
}

export interface SandboxServer {
  /** http://127.0.0.1:P */
  url: string;
  close(): Promise<void>;
}

/** Something the page shows that Slack itself would have shown or refused. */
export interface SandboxProblem {
  id: number;
  at: string;
  /** `rejected_call`: a Web API call Slack would refuse; `dispatch_failed`: the bot did not answer a request in time or with 200. */
  kind: 'rejected_call' | 'dispatch_failed';
  summary: string;
  details: string[];
  /** The conversation it belongs to, when there is one. */
  channel?: string;
  /** The person it concerns (a modal or App Home), when there is one. */
  userId?: string;
}

/** Slack waits 3 seconds for an ack, then tells the person the app did not respond. */
const ACK_TIMEOUT_MS = 3000;
const MAX_PAGE_BODY_BYTES = 1024 * 1024;
const PROBLEMS_KEPT = 200;
/** The time control moves the clock by at most a year at once. */
const MAX_ADVANCE_SECONDS = 366 * 24 * 3600;
const BOT_NAME = 'Access Bot';
const PAGE_DIR = fileURLToPath(new URL('./page/', import.meta.url));
const PAGE_FILES: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/block-kit.js': 'block-kit.js',
  '/style.css': 'style.css',
  '/webhook-calls.js': 'webhook-calls.js',
};
const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};
/** Errors worth showing a person trying the bot: Slack would refuse what the app sent, or where. */
const REPORTED_ERRORS = new Set([
  'invalid_blocks', 'invalid_blocks_format', 'invalid_arguments', 'view_too_large', 'msg_too_long', 'no_text',
  'not_in_channel', 'channel_not_found', 'invalid_channel', 'push_limit_reached', 'duplicate_external_id',
  'expired_trigger_id', 'exchanged_trigger_id', 'invalid_trigger_id', 'message_not_found', 'cant_update_message',
]);
const LIVE_EVENTS: StandInEventName[] = ['message', 'ephemeral', 'update', 'delete', 'view', 'home', 'file'];

type Json = Record<string, unknown>;

class HttpError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function isLoopbackHost(host: string): boolean {
  return host === '127.0.0.1' || host === 'localhost' || host === '::1' || host === '[::1]';
}

export async function startSandboxServer(options: SandboxServerOptions): Promise<SandboxServer> {
  const host = options.host ?? '127.0.0.1';
  // The page lets anyone pick who they are: it must never be reachable from another machine.
  if (!isLoopbackHost(host)) throw new Error(`the sandbox listens on loopback only, not on ${host}`);
  const sandbox = new Sandbox(options);
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

class Sandbox {
  private readonly ws: SlackWorkspace;
  private readonly people = new Map<string, SandboxPerson>();
  private readonly channels: SandboxChannel[];
  private readonly problems: SandboxProblem[] = [];
  private readonly streams = new Set<ServerResponse>();
  /** What the bot suggested for each external select, per person: `user|container|block|action`. */
  private readonly suggestions = new Map<string, BlockOption[]>();
  private readonly unsubscribe: (() => void)[] = [];
  private readonly keepAlive: NodeJS.Timeout;
  private allowedHosts = new Set<string>();
  private allowedOrigins = new Set<string>();
  private problemSeq = 0;

  constructor(private readonly options: SandboxServerOptions) {
    this.ws = options.standIn.workspace;
    for (const person of options.people) {
      this.people.set(person.slackId, person);
      // The bot reads people from Slack (users.info, users.lookupByEmail): they must exist there.
      if (!this.ws.user(person.slackId)) {
        this.ws.addUser({
          id: person.slackId, email: person.email, name: person.email.split('@')[0] ?? person.slackId, realName: person.name,
          tz: Intl.DateTimeFormat().resolvedOptions().timeZone,
        });
      }
    }
    this.channels = options.channels;
    for (const channel of options.channels) if (!this.ws.channel(channel.id)) this.ws.addChannel(channel);
    for (const event of LIVE_EVENTS) {
      this.unsubscribe.push(options.standIn.on(event, (payload) => this.broadcast(liveHint(event, payload))));
    }
    this.unsubscribe.push(options.standIn.on('call', (call) => this.noteCall(call)));
    if (options.webhookCalls) this.unsubscribe.push(options.webhookCalls.onCall(() => this.broadcast({ kind: 'webhook' })));
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
    for (const stream of this.streams) stream.end();
    this.streams.clear();
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sandbox.invalid');
    const path = url.pathname;
    const isApi = path.startsWith('/api/');
    this.guard(req, isApi);
    setSecurityHeaders(res);
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
    if (origin !== undefined && !this.allowedOrigins.has(origin.toLowerCase())) throw new HttpError(403, 'forbidden origin');
    const site = req.headers['sec-fetch-site'];
    if (isApi && site !== undefined && site !== 'same-origin' && site !== 'none') throw new HttpError(403, 'cross-site request');
  }

  private async servePage(path: string, res: ServerResponse): Promise<void> {
    if (path === '/favicon.ico') {
      res.writeHead(204);
      return void res.end();
    }
    const file = PAGE_FILES[path];
    if (!file) throw new HttpError(404, 'not found');
    const content = await readFile(`${PAGE_DIR}${file}`);
    res.writeHead(200, { 'content-type': CONTENT_TYPES[file.split('.').pop() ?? ''] ?? 'application/octet-stream', 'cache-control': 'no-store' });
    res.end(content);
  }

  private handleGet(path: string, query: URLSearchParams, res: ServerResponse): void {
    if (path === '/api/workspace') return sendJson(res, 200, this.workspaceInfo());
    if (path === '/api/state') return sendJson(res, 200, this.stateFor(this.person(query.get('user'))));
    if (path === '/api/events') return this.openStream(res);
    if (path === '/api/webhooks') return sendJson(res, 200, { calls: this.options.webhookCalls?.list() ?? [] });
    const file = /^\/api\/files\/([A-Z0-9]+)$/.exec(path);
    if (file?.[1]) return this.sendFile(file[1], res);
    throw new HttpError(404, 'not found');
  }

  private async handlePost(path: string, body: Json): Promise<Json> {
    switch (path) {
      case '/api/command': return this.command(body);
      case '/api/action': return this.action(body);
      case '/api/suggest': return this.suggest(body);
      case '/api/view/submit': return this.submitView(body);
      case '/api/view/close': return this.closeView(body);
      case '/api/app-home': return this.appHomeOpened(body);
      case '/api/clock': return this.advanceClock(body);
      default: throw new HttpError(404, 'not found');
    }
  }

  // ---- reading ------------------------------------------------------------------------------

  private workspaceInfo(): Json {
    const names: Record<string, string> = {};
    for (const user of this.ws.listUsers()) names[user.id] = user.realName || user.name;
    names[this.ws.botUserId] = BOT_NAME;
    const channelNames: Record<string, string> = {};
    for (const channel of this.channels) channelNames[channel.id] = channel.name;
    return {
      team: { id: this.ws.teamId, name: this.ws.teamName },
      bot: { userId: this.ws.botUserId, name: BOT_NAME },
      people: [...this.people.values()],
      channels: this.channels,
      userNames: names,
      channelNames,
      clock: this.options.clock ? { now: this.options.clock.now().toISOString() } : null,
    };
  }

  private person(id: unknown): SandboxPerson {
    const person = typeof id === 'string' ? this.people.get(id) : undefined;
    if (!person) throw new HttpError(400, 'unknown person: pick someone from the directory');
    return person;
  }

  /** What one person sees: their DM with the bot, the bot's channels, their ephemerals, Home and modals. */
  private stateFor(person: SandboxPerson): Json {
    const dm = this.ws.dmChannelId(person.slackId);
    const conversation = (id: string) => this.ws.messages(id, { includeEphemeral: true })
      .filter((m) => !m.ephemeralFor || m.ephemeralFor === person.slackId)
      .map((m) => this.messageJson(m));
    const home = this.ws.homeView(person.slackId);
    return {
      user: person,
      now: this.options.clock?.now().toISOString() ?? null,
      conversations: [
        { id: dm, kind: 'dm', name: BOT_NAME, messages: conversation(dm) },
        ...this.channels.map((c) => ({ id: c.id, kind: 'channel', name: c.name, messages: conversation(c.id) })),
      ],
      home: home ? apiView(home, this.ws) : null,
      modals: this.ws.modalStack(person.slackId).map((v) => apiView(v, this.ws)),
      problems: this.problems.filter((p) => this.concerns(p, person, dm)),
    };
  }

  private concerns(problem: SandboxProblem, person: SandboxPerson, dm: string): boolean {
    if (problem.userId) return problem.userId === person.slackId;
    if (problem.channel) return problem.channel === dm || this.channels.some((c) => c.id === problem.channel);
    return true;
  }

  private messageJson(message: StoredMessage): Json {
    return {
      ts: message.ts,
      channel: message.channel,
      text: message.text,
      blocks: message.blocks,
      threadTs: message.threadTs ?? null,
      ephemeral: Boolean(message.ephemeralFor),
      version: message.versions.length,
      files: message.files.map((id) => this.ws.file(id)).filter((f) => f !== undefined).map((f) => ({
        id: f.id, name: f.filename, title: f.title ?? f.filename, size: f.bytes?.length ?? 0, url: `/api/files/${f.id}`,
      })),
    };
  }

  private sendFile(id: string, res: ServerResponse): void {
    const file = this.ws.file(id);
    if (!file?.completed || !file.bytes) throw new HttpError(404, 'no such file');
    const ascii = file.filename.replace(/[^A-Za-z0-9._-]/g, '_') || 'download';
    res.writeHead(200, {
      'content-type': file.filename.toLowerCase().endsWith('.csv') ? 'text/csv; charset=utf-8' : 'application/octet-stream',
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

  // ---- problems: what Slack refused -------------------------------------------------------------

  private noteCall(call: ApiCall): void {
    const answer = (typeof call.answer === 'object' && call.answer !== null ? call.answer : {}) as {
      ok?: boolean; error?: string; errors?: unknown; response_metadata?: { messages?: unknown };
    };
    if (answer.ok !== false || !answer.error || !REPORTED_ERRORS.has(answer.error)) return;
    const details = [
      ...(Array.isArray(answer.errors) ? answer.errors : []),
      ...(Array.isArray(answer.response_metadata?.messages) ? answer.response_metadata.messages : []),
    ].filter((d): d is string => typeof d === 'string').map((d) => d.replace(/^\[ERROR\] /, ''));
    const what = call.method.startsWith('chat.') ? 'a message'
      : call.method === 'views.publish' ? 'an App Home tab'
        : call.method.startsWith('views.') ? 'a modal'
          : call.method.startsWith('files.') ? 'a file' : 'a request';
    const isLayout = ['invalid_blocks', 'invalid_blocks_format', 'invalid_arguments', 'view_too_large', 'msg_too_long', 'no_text'].includes(answer.error);
    this.addProblem({
      kind: 'rejected_call',
      summary: isLayout
        ? `The app sent ${what} Slack would reject: ${call.method} answered ${answer.error}`
        : `Slack refused ${call.method}: ${answer.error}`,
      details: [...new Set(details)],
      ...this.whereCallBelongs(call),
    });
  }

  private whereCallBelongs(call: ApiCall): { channel?: string; userId?: string } {
    const arg = (name: string) => (typeof call.args[name] === 'string' ? call.args[name] : undefined);
    const channel = arg('channel') ?? arg('channel_id');
    if (channel) return { channel: /^[UW]/.test(channel) ? this.ws.dmChannelId(channel) : channel };
    const trigger = arg('trigger_id');
    const triggerUser = trigger ? this.ws.trigger(trigger)?.userId : undefined;
    if (triggerUser) return { userId: triggerUser };
    const viewId = arg('view_id');
    const viewUser = viewId ? this.ws.view(viewId)?.userId : undefined;
    if (viewUser) return { userId: viewUser };
    const userId = arg('user_id');
    return userId ? { userId } : {};
  }

  private addProblem(problem: Omit<SandboxProblem, 'id' | 'at'>): SandboxProblem {
    this.problemSeq += 1;
    const stored = { id: this.problemSeq, at: new Date().toISOString(), ...problem };
    this.problems.push(stored);
    if (this.problems.length > PROBLEMS_KEPT) this.problems.shift();
    this.broadcast({ kind: 'problem', channel: stored.channel ?? null, user: stored.userId ?? null });
    return stored;
  }

  // ---- to the bot ---------------------------------------------------------------------------

  private actor(person: SandboxPerson): Actor {
    const user = this.ws.user(person.slackId);
    return {
      userId: person.slackId,
      userName: user?.name ?? person.email.split('@')[0] ?? person.slackId,
      teamId: this.ws.teamId,
      teamDomain: this.ws.teamName.toLowerCase(),
      appId: this.ws.appId,
    };
  }

  /**
   * POSTs a signed request to the bot as Slack does. A non-200 answer or no answer within 3 s is
   * what Slack reports to the person as a failed dispatch; the caller decides where to show it.
   */
  private async postToBot(body: string, contentType: SlackContentType): Promise<{ ok: boolean; status: number; json: unknown; error?: string }> {
    const signed = signRequest(this.options.signingSecret, body, contentType);
    try {
      const response = await fetch(this.options.botEventsUrl, {
        method: 'POST', headers: signed.headers, body: signed.body, redirect: 'error', signal: AbortSignal.timeout(ACK_TIMEOUT_MS),
      });
      const text = await response.text();
      let json: unknown;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      if (response.status !== 200) return { ok: false, status: response.status, json, error: 'dispatch_failed' };
      return { ok: true, status: 200, json };
    } catch (error) {
      const timedOut = error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError');
      return { ok: false, status: 0, json: undefined, error: timedOut ? 'operation_timeout' : 'dispatch_failed' };
    }
  }

  private dispatchFailed(what: string, error: string, where: { channel?: string; userId?: string }, status: number): Json {
    const problem = this.addProblem({
      kind: 'dispatch_failed',
      summary: `${what} failed with the error "${error}"`,
      details: [status ? `The app answered HTTP ${status}.` : error === 'operation_timeout' ? `The app did not answer within ${ACK_TIMEOUT_MS / 1000} seconds.` : 'The app could not be reached.'],
      ...where,
    });
    return { ok: false, error, problem };
  }

  /** `/access request github owner` typed in a conversation -> a slash command. */
  private async command(body: Json): Promise<Json> {
    const person = this.person(body.user);
    const channel = this.conversationFor(person, body.channel);
    const typed = typeof body.text === 'string' ? body.text.trim() : '';
    const match = /^(\/[a-z0-9_-]+)(?:\s+([\s\S]*))?$/i.exec(typed);
    if (!match?.[1]) throw new HttpError(400, 'type a slash command, such as /access request');
    const command = match[1].toLowerCase();
    // Slack only sends the app the commands it declared, and says so about any other.
    if (!(this.options.commands ?? ['/access']).includes(command)) {
      throw new HttpError(400, `${command} is not a valid command. In Slack, all messages that start with the "/" character are interpreted as commands.`);
    }
    const text = (match[2] ?? '').trim();
    const responseUrl = this.options.standIn.issueResponseUrl({ channelId: channel.id, userId: person.slackId });
    const answer = await this.postToBot(slashCommandBody(this.actor(person), {
      command, text, channelId: channel.id, channelName: channel.name, responseUrl,
      triggerId: this.options.standIn.issueTriggerId(person.slackId),
    }), 'application/x-www-form-urlencoded');
    if (!answer.ok) return this.dispatchFailed(command, answer.error ?? 'dispatch_failed', { channel: channel.id }, answer.status);
    this.showCommandAck(person, channel.id, answer.json);
    return { ok: true };
  }

  /** A slash command's ack body is a message: ephemeral unless `response_type: in_channel`. */
  private showCommandAck(person: SandboxPerson, channel: string, ack: unknown): void {
    if (typeof ack !== 'object' || ack === null) return;
    const { text, blocks, response_type: responseType } = ack as Json;
    if (typeof text !== 'string' && blocks === undefined) return;
    if (blocks !== undefined) {
      const problems = checkMessageBlocks(blocks);
      if (problems.length > 0) {
        this.addProblem({
          kind: 'rejected_call', channel,
          summary: 'The app sent a message Slack would reject: the slash command answer has invalid_blocks',
          details: problems.map(describeProblem),
        });
        return;
      }
    }
    this.ws.addMessage({
      channel, user: this.ws.botUserId, text: typeof text === 'string' ? text.slice(0, BLOCK_KIT_LIMITS.messageText) : '',
      blocks: Array.isArray(blocks) ? blocks : [], via: 'response_url',
      ...(responseType === 'in_channel' ? {} : { ephemeralFor: person.slackId }),
    });
  }

  private conversationFor(person: SandboxPerson, id: unknown): { id: string; name: string } {
    const dm = this.ws.dmChannelId(person.slackId);
    // Slack names a DM "directmessage" in slash commands.
    if (id === dm) return { id: dm, name: 'directmessage' };
    const channel = this.channels.find((c) => c.id === id);
    if (!channel) throw new HttpError(400, 'unknown conversation');
    return channel;
  }

  /** Resolves where an element sits; only what this person can see. */
  private container(person: SandboxPerson, raw: unknown): { container: ActionContainer; blocks: unknown; key: string; view?: StoredView } {
    const spec = (typeof raw === 'object' && raw !== null ? raw : {}) as Json;
    if (spec.type === 'view') {
      const view = this.visibleView(person, spec.viewId);
      return { container: { type: 'view', view: apiView(view, this.ws) }, blocks: view.definition.blocks, key: `view:${view.id}`, view };
    }
    if (spec.type === 'message' && typeof spec.ts === 'string') {
      const channel = this.conversationFor(person, spec.channel);
      const message = this.ws.findMessage(channel.id, spec.ts);
      if (!message || (message.ephemeralFor && message.ephemeralFor !== person.slackId)) throw new HttpError(404, 'no such message');
      const isEphemeral = Boolean(message.ephemeralFor);
      return {
        container: {
          type: 'message', channelId: channel.id, channelName: channel.name, isEphemeral,
          message: { ...apiMessage(message, this.ws), ts: message.ts },
          responseUrl: this.options.standIn.issueResponseUrl({ channelId: channel.id, userId: person.slackId, messageTs: message.ts }),
        },
        blocks: message.blocks,
        key: `message:${channel.id}:${message.ts}`,
      };
    }
    throw new HttpError(400, 'container must be {type:"message", channel, ts} or {type:"view", viewId}');
  }

  /** A modal the person has open, or their App Home. */
  private visibleView(person: SandboxPerson, viewId: unknown): StoredView {
    const view = typeof viewId === 'string' ? this.ws.view(viewId) : undefined;
    const open = view && view.userId === person.slackId && !view.closed
      && (view.type === 'home' ? this.ws.homeView(person.slackId)?.id === view.id : this.ws.modalStack(person.slackId).some((v) => v.id === view.id));
    if (!view || !open) throw new HttpError(404, 'that view is no longer open');
    return view;
  }

  private suggested(person: SandboxPerson, key: string) {
    return (blockId: string, actionId: string) => this.suggestions.get(`${person.slackId}|${key}|${blockId}|${actionId}`);
  }

  /** Keeps what the person has typed in the view, as Slack does between interactions. */
  private recordViewState(person: SandboxPerson, view: StoredView, form: PageForm, key: string): Record<string, Record<string, Json>> {
    const values = stateValues(view.definition.blocks, form, this.suggested(person, key));
    for (const [blockId, actions] of Object.entries(values)) {
      for (const [actionId, value] of Object.entries(actions)) this.ws.setViewState(view.id, blockId, actionId, value);
    }
    return values;
  }

  /** A click or a pick in a message, a modal or the App Home -> block_actions. */
  private async action(body: Json): Promise<Json> {
    const person = this.person(body.user);
    const { container, blocks, key, view } = this.container(person, body.container);
    const blockId = typeof body.blockId === 'string' ? body.blockId : '';
    const actionId = typeof body.actionId === 'string' ? body.actionId : '';
    const located = findElement(blocks, blockId, actionId);
    if (!located) throw new HttpError(404, 'no such element: the message or view has changed');
    const values = view ? this.recordViewState(person, view, pageForm(body.form), key) : {};
    const action = actionFor(located, pageInput(body.input), actionTs(), this.suggested(person, key));
    if (!action) throw new HttpError(400, 'that is not one of the element\'s options');
    const finalContainer: ActionContainer = view ? { type: 'view', view: apiView(view, this.ws) } : container;
    const answer = await this.postToBot(interactivityBody(blockActionsPayload(this.actor(person), {
      container: finalContainer, action, triggerId: this.options.standIn.issueTriggerId(person.slackId), stateValues: values,
    })), 'application/x-www-form-urlencoded');
    if (!answer.ok) {
      const where = container.type === 'message' ? { channel: container.channelId } : { userId: person.slackId };
      return this.dispatchFailed('The action', answer.error ?? 'dispatch_failed', where, answer.status);
    }
    return { ok: true };
  }

  /** An external select asks the bot for options. */
  private async suggest(body: Json): Promise<Json> {
    const person = this.person(body.user);
    const { container, blocks, key, view } = this.container(person, body.container);
    const blockId = typeof body.blockId === 'string' ? body.blockId : '';
    const actionId = typeof body.actionId === 'string' ? body.actionId : '';
    const located = findElement(blocks, blockId, actionId);
    if (!located || !String(located.element.type).includes('external_select')) throw new HttpError(404, 'no such external select');
    if (view) this.recordViewState(person, view, pageForm(body.form), key);
    const finalContainer: ActionContainer = view ? { type: 'view', view: apiView(view, this.ws) } : container;
    const answer = await this.postToBot(interactivityBody(blockSuggestionPayload(this.actor(person), {
      blockId, actionId, value: typeof body.value === 'string' ? body.value : '', container: finalContainer,
    })), 'application/x-www-form-urlencoded');
    if (!answer.ok) return { ok: false, error: answer.error, options: [] };
    const reply = (typeof answer.json === 'object' && answer.json !== null ? answer.json : {}) as Json;
    const options = elementOptions({ options: reply.options, option_groups: reply.option_groups });
    this.suggestions.set(`${person.slackId}|${key}|${blockId}|${actionId}`, options);
    const groups = Array.isArray(reply.option_groups) ? reply.option_groups : undefined;
    return { ok: true, ...(groups ? { option_groups: groups } : { options }) };
  }

  /** Submit in a modal -> view_submission; the ack's response_action decides what the modal does. */
  private async submitView(body: Json): Promise<Json> {
    const person = this.person(body.user);
    const top = this.ws.currentModal(person.slackId);
    if (!top || top.id !== body.viewId) throw new HttpError(409, 'that modal is no longer on top');
    const values = this.recordViewState(person, top, pageForm(body.form), `view:${top.id}`);
    const answer = await this.postToBot(interactivityBody(viewSubmissionPayload(this.actor(person), {
      view: apiView(top, this.ws), stateValues: values, triggerId: this.options.standIn.issueTriggerId(person.slackId),
    })), 'application/x-www-form-urlencoded');
    // Slack keeps the modal open and says it had trouble connecting.
    if (!answer.ok) return this.dispatchFailed('Submitting the form', answer.error ?? 'dispatch_failed', { userId: person.slackId }, answer.status);
    return this.applyResponseAction(person, top, answer.json);
  }

  /**
   * What Slack does with a view_submission ack (docs.slack.dev surfaces/modals): no body closes
   * the submitted view; `errors` shows messages under input blocks; `update` replaces the view;
   * `push` stacks a new one; `clear` closes them all.
   */
  private applyResponseAction(person: SandboxPerson, top: StoredView, ack: unknown): Json {
    const reply = (typeof ack === 'object' && ack !== null ? ack : {}) as Json;
    const action = reply.response_action;
    if (action === undefined) {
      this.ws.closeTopModal(person.slackId);
      return { ok: true, closed: true };
    }
    if (action === 'errors') {
      const errors = (typeof reply.errors === 'object' && reply.errors !== null ? reply.errors : {}) as Json;
      const shown: Record<string, string> = {};
      for (const [blockId, message] of Object.entries(errors)) if (typeof message === 'string') shown[blockId] = message;
      return { ok: true, errors: shown };
    }
    if (action === 'clear') {
      this.ws.closeModals(person.slackId);
      return { ok: true, closed: true };
    }
    if (action === 'update' || action === 'push') {
      const definition = reply.view;
      const problems = typeof definition === 'object' && definition !== null ? checkView(definition, 'modal') : [{ message: 'missing view', pointer: '/view' }];
      const tooLarge = viewByteLength(definition) > BLOCK_KIT_LIMITS.viewBytes;
      if (problems.length > 0 || tooLarge) {
        this.addProblem({
          kind: 'rejected_call', userId: person.slackId,
          summary: `The app sent a modal Slack would reject: response_action ${action}`,
          details: tooLarge ? ['view_too_large'] : problems.map(describeProblem),
        });
        return { ok: false, error: 'invalid_view' };
      }
      const view = definition as Json;
      if (action === 'update') {
        redefine(this.ws, top, view);
        this.ws.viewUpdated(top);
      } else {
        this.ws.pushModal(newView(this.ws, view, { userId: person.slackId, type: 'modal', rootViewId: top.rootViewId, previousViewId: top.id }));
      }
      return { ok: true };
    }
    return { ok: false, error: `unknown response_action ${String(action)}` };
  }

  /** Close / Cancel on the top modal -> view_closed when the app asked with notify_on_close. */
  private async closeView(body: Json): Promise<Json> {
    const person = this.person(body.user);
    const top = this.ws.currentModal(person.slackId);
    if (!top || top.id !== body.viewId) throw new HttpError(409, 'that modal is no longer on top');
    this.ws.closeTopModal(person.slackId);
    if (top.definition.notify_on_close !== true) return { ok: true };
    const answer = await this.postToBot(interactivityBody(viewClosedPayload(this.actor(person), {
      view: apiView(top, this.ws), isCleared: false,
    })), 'application/x-www-form-urlencoded');
    if (!answer.ok) return this.dispatchFailed('Closing the modal', answer.error ?? 'dispatch_failed', { userId: person.slackId }, answer.status);
    return { ok: true };
  }

  /** Opening the app's Home (or Messages) tab -> the app_home_opened event. */
  private async appHomeOpened(body: Json): Promise<Json> {
    const person = this.person(body.user);
    const tab = body.tab === 'messages' ? 'messages' : 'home';
    const home = this.ws.homeView(person.slackId);
    const event: Json & { type: string } = {
      type: 'app_home_opened', user: person.slackId, channel: this.ws.dmChannelId(person.slackId), tab,
      ...(tab === 'home' && home ? { view: apiView(home, this.ws) } : {}),
    };
    const answer = await this.postToBot(eventCallbackBody(this.actor(person), this.ws.botUserId, event), 'application/json');
    return answer.ok ? { ok: true } : { ok: false, error: answer.error };
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

// ---- helpers ------------------------------------------------------------------------------------

function liveHint(event: StandInEventName, payload: unknown): Json {
  const p = payload as Partial<StoredMessage & StoredView & { view: StoredView }>;
  if (event === 'view') return { kind: 'view', user: p.view?.userId ?? null };
  if (event === 'home') return { kind: 'home', user: p.userId ?? null };
  if (event === 'file') return { kind: 'file' };
  return { kind: event, channel: p.channel ?? null, ts: p.ts ?? null, user: p.ephemeralFor ?? null };
}

function actionTs(): string {
  return (Date.now() / 1000).toFixed(6);
}

/** The page's form: only string/array/null leaves survive. */
function pageForm(raw: unknown): PageForm {
  const form: PageForm = {};
  if (typeof raw !== 'object' || raw === null) return form;
  for (const [blockId, actions] of Object.entries(raw)) {
    if (typeof actions !== 'object' || actions === null) continue;
    for (const [actionId, input] of Object.entries(actions)) {
      const parsed = pageInput(input);
      if (parsed) form[blockId] = { ...form[blockId], [actionId]: parsed };
    }
  }
  return form;
}

function pageInput(raw: unknown): PageInput | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined;
  const r = raw as Json;
  const input: PageInput = {};
  const text = (v: unknown) => (typeof v === 'string' ? v : v === null ? null : undefined);
  if (text(r.value) !== undefined) input.value = text(r.value);
  if (text(r.selected) !== undefined) input.selected = text(r.selected);
  if (text(r.date) !== undefined) input.date = text(r.date);
  if (text(r.id) !== undefined) input.id = text(r.id);
  if (Array.isArray(r.selectedValues)) input.selectedValues = r.selectedValues.filter((v): v is string => typeof v === 'string');
  return input;
}

async function readJsonBody(req: IncomingMessage): Promise<Json> {
  // A JSON content type cannot be sent cross-site without a CORS preflight, which we never grant.
  if ((req.headers['content-type'] ?? '').split(';')[0]?.trim() !== 'application/json') throw new HttpError(415, 'send application/json');
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
  res.setHeader('content-security-policy',
    "default-src 'self'; img-src 'self' https: http: data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
