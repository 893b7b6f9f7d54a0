/**
 * A local Okta for tests and benchmarks: real HTTP on 127.0.0.1, the JSON shapes, errors, paging
 * (absolute `Link` headers), rate-limit headers and 429s, System Log polling semantics, SSWS
 * tokens and OAuth private_key_jwt service apps, as the Okta SDK v8 sees them.
 * Faults can be injected (`failNext`, `goDown`), and every request is recorded.
 *
 * Where Okta refuses or lags, so does the stand-in (api-conformance review §5):
 * - System Log (okta-developer-docs `reference/system-log-query`): `since` and `after` are mutually
 *   exclusive, and `after` is opaque ("system generated for use in next links. Don't attempt to
 *   craft requests that use this value"): a crafted one is refused. Polling requests (no `until`,
 *   ascending) filter and order by persistence time and always link a next page; bounded requests
 *   filter by `published` and see only what is persisted when they run, so an event that arrives
 *   late (published inside a window already read) is missed by them. `since` over 180 days: 400
 *   E0000053.
 * - `search` "results are sourced from an eventually consistent datasource and may not reflect the
 *   latest information" (OKTA-OAS listUsers, listGroups): changes made while a test runs show in
 *   `search` only `searchLagMs` later; `GET /users/{id}` and memberships are immediate. The org as
 *   set up before (`addUser`, `addGroup`) counts as indexed, unless `{ justCreated: true }`.
 * - `q` "doesn't support pagination, but you can use limit" (users) / "You can't page a query. The
 *   default limit for a query is 300 results" (groups): never a next link.
 * - Concurrency (okta-developer-docs `reference/rl2-monitor`): past `concurrencyLimit` requests in
 *   flight, 429 whose "first two header values are always 0" and whose reset "is only an estimate".
 */
import { createPublicKey, KeyObject, randomBytes, verify, type JsonWebKey } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type RateLimitClass =
  'token' | 'users' | 'user' | 'userGroups' | 'groups' | 'group' | 'groupMembers' | 'membership' | 'logs' | 'other';

export type OktaGroupType = 'OKTA_GROUP' | 'APP_GROUP' | 'BUILT_IN';

export interface StandInUserInput {
  id: string;
  email: string;
  login?: string;
  firstName?: string;
  lastName?: string;
  displayName?: string;
  title?: string;
  status?: string;
  /** Further profile attributes (managerId, manager, costCenter, ...). */
  profile?: Record<string, unknown>;
}

export interface StandInGroupInput {
  id: string;
  name: string;
  type?: OktaGroupType;
  description?: string;
}

export interface StandInLogEventInput {
  uuid?: string;
  published: string | Date;
  eventType: string;
  target: { id: string; type: string; alternateId?: string; displayName?: string }[];
  outcome?: 'SUCCESS' | 'FAILURE';
}

/** Extra options for data set up while a test runs. */
export interface ChangeOptions {
  /** Created during the test: `search` sees it only after the index lag. */
  justCreated?: boolean;
}

export interface StandInClient {
  clientId: string;
  /** PEM, a KeyObject or a public JWK. */
  publicKey: string | KeyObject | Record<string, unknown>;
  keyId?: string;
  /** Scopes granted to the service app. */
  scopes: string[];
}

export interface OktaStandInOptions {
  /** The SSWS API token accepted. Default 'test-token'. */
  token?: string;
  clients?: StandInClient[];
  /** Okta caps `limit`; pages are never larger than this. Default 200. */
  maxPageSize?: number;
  /** Per endpoint class: requests allowed per window (default window 60 s). */
  rateLimits?: Partial<Record<RateLimitClass, { limit: number; windowMs?: number }>>;
  now?: () => number;
  /** How long a change takes to show in `search` (eventually consistent). Default 5 s; 0: at once. */
  searchLagMs?: number;
  /** Requests in flight at once before Okta answers a concurrency 429. Default 75 (Enterprise, TECH-NOTES §10). */
  concurrencyLimit?: number;
  /** Each answer waits this long (ms), so requests overlap as they do against a real org. Default 0. */
  answerDelayMs?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Epoch ms at which the request arrived. */
  at: number;
  status: number;
  bucket: RateLimitClass;
  auth: 'ssws' | 'bearer' | 'dpop' | 'none';
  /** X-Rate-Limit-Reset sent with the answer (epoch seconds). */
  reset: number;
  remaining: number;
  dpopProof: boolean;
  /** A 429 for too many requests in flight (not the per-minute bucket). */
  concurrency?: boolean;
}

type FaultKind = 500 | 502 | 503 | 504 | 429 | 'reset';

/** What an opaque System Log `after` stands for (only the stand-in can read it, like Okta's). */
type LogCursor = { mode: 'poll'; seq: number } | { mode: 'page'; published: string; seq: number };
interface Fault {
  pattern: string | RegExp;
  method?: string;
  remaining: number;
  kind: FaultKind;
  resetInSeconds: number;
}

interface StoredUser {
  id: string;
  status: string;
  created: string;
  lastUpdated: string;
  statusChanged: string | null;
  profile: Record<string, unknown>;
}

interface StoredGroup {
  id: string;
  type: OktaGroupType;
  created: string;
  profile: { name: string; description: string };
}

interface StoredEvent {
  uuid: string;
  published: string;
  /** Persistence order: polling requests read in this order, from this time. */
  seq: number;
  persistedAt: number;
  eventType: string;
  target: { id: string; type: string; alternateId?: string; displayName?: string }[];
  outcome: string;
}

const DEFAULT_LIMITS: Record<RateLimitClass, number> = {
  token: 600,
  users: 600,
  user: 2000,
  userGroups: 1200,
  groups: 600,
  group: 1000,
  groupMembers: 1200,
  membership: 1200,
  logs: 120,
  other: 1200,
};

class HttpFailure extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(`HTTP ${status}`);
  }
}

const CREATED = '2024-01-01T00:00:00.000Z';

export class OktaStandIn extends EventEmitter {
  readonly token: string;
  private readonly clients: StandInClient[];
  private readonly maxPageSize: number;
  private readonly limits: Record<RateLimitClass, { limit: number; windowMs: number }>;
  private readonly now: () => number;
  private server: Server | null = null;
  private readonly sockets = new Set<Socket>();
  private port = 0;
  private baseUrl = '';

  private readonly users = new Map<string, StoredUser>();
  private readonly groups = new Map<string, StoredGroup>();
  private readonly members = new Map<string, Set<string>>();
  private readonly events: StoredEvent[] = [];
  private readonly accessTokens = new Map<string, { clientId: string; scopes: Set<string>; expiresAt: number }>();
  private readonly windows = new Map<RateLimitClass, { index: number; used: number }>();
  private readonly faults: Fault[] = [];
  private readonly holds: {
    pattern: string | RegExp;
    method?: string;
    arrived: () => void;
    released: Promise<void>;
    release: () => void;
  }[] = [];
  private readonly holding = new Set<() => void>();
  private readonly searchLagMs: number;
  private readonly concurrencyLimit: number;
  private answerDelayMs: number;
  /** What `search` sees: each user's and group's JSON as of each change (null: deleted). */
  private readonly userIndex = new Map<string, { at: number; record: StoredUser | null }[]>();
  private readonly groupIndex = new Map<string, { at: number; record: StoredGroup | null }[]>();
  private readonly logCursors = new Map<string, LogCursor>();
  private inFlight = 0;
  private eventSeq = 0;
  private requestSeq = 0;

  /** Every request answered, in order of arrival. */
  readonly requests: RecordedRequest[] = [];

  constructor(options: OktaStandInOptions = {}) {
    super();
    this.token = options.token ?? 'test-token';
    this.clients = options.clients ?? [];
    this.maxPageSize = options.maxPageSize ?? 200;
    this.now = options.now ?? Date.now;
    const limits = {} as Record<RateLimitClass, { limit: number; windowMs: number }>;
    for (const key of Object.keys(DEFAULT_LIMITS) as RateLimitClass[]) {
      const configured = options.rateLimits?.[key];
      limits[key] = { limit: configured?.limit ?? DEFAULT_LIMITS[key], windowMs: configured?.windowMs ?? 60_000 };
    }
    this.limits = limits;
    this.searchLagMs = options.searchLagMs ?? 5_000;
    this.concurrencyLimit = options.concurrencyLimit ?? 75;
    this.answerDelayMs = options.answerDelayMs ?? 0;
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<{ url: string }> {
    await this.listen(0);
    return { url: this.baseUrl };
  }

  async stop(): Promise<void> {
    await this.goDown();
  }

  get url(): string {
    return this.baseUrl;
  }

  /** Closes the listener and every open connection: clients get ECONNREFUSED / ECONNRESET. */
  async goDown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
      for (const s of this.sockets) s.destroy();
    });
  }

  /** Listens again on the same port after `goDown()`. */
  async comeBackUp(): Promise<void> {
    if (this.server) return;
    await this.listen(this.port);
  }

  private listen(port: number): Promise<void> {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ errorCode: 'E0000009', errorSummary: `Internal Server Error: ${String(error)}` }));
        }
      });
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        this.port = (server.address() as AddressInfo).port;
        this.baseUrl = `http://127.0.0.1:${this.port}`;
        resolve();
      });
    });
  }

  // ---------------------------------------------------------------- data helpers

  addUser(input: StandInUserInput, options: ChangeOptions = {}): this {
    const login = input.login ?? input.email;
    this.users.set(input.id, {
      id: input.id,
      status: input.status ?? 'ACTIVE',
      created: CREATED,
      lastUpdated: CREATED,
      statusChanged: null,
      profile: {
        login,
        email: input.email,
        firstName: input.firstName ?? null,
        lastName: input.lastName ?? null,
        ...(input.displayName !== undefined ? { displayName: input.displayName } : {}),
        ...(input.title !== undefined ? { title: input.title } : {}),
        ...input.profile,
      },
    });
    this.indexUser(input.id, options.justCreated ? this.now() : -Infinity);
    return this;
  }

  removeUser(id: string): this {
    this.users.delete(id);
    for (const set of this.members.values()) set.delete(id);
    this.indexUser(id, this.now());
    return this;
  }

  setStatus(id: string, status: string): this {
    const user = this.mustUser(id);
    user.status = status;
    user.statusChanged = new Date(this.now()).toISOString();
    user.lastUpdated = user.statusChanged;
    this.indexUser(id, this.now());
    return this;
  }

  setProfile(id: string, attributes: Record<string, unknown>): this {
    Object.assign(this.mustUser(id).profile, attributes);
    this.indexUser(id, this.now());
    return this;
  }

  addGroup(input: StandInGroupInput, options: ChangeOptions = {}): this {
    this.groups.set(input.id, {
      id: input.id,
      type: input.type ?? 'OKTA_GROUP',
      created: CREATED,
      profile: { name: input.name, description: input.description ?? '' },
    });
    if (!this.members.has(input.id)) this.members.set(input.id, new Set());
    this.indexGroup(input.id, options.justCreated ? this.now() : -Infinity);
    return this;
  }

  removeGroup(id: string): this {
    this.groups.delete(id);
    this.members.delete(id);
    this.indexGroup(id, this.now());
    return this;
  }

  /** Records the user as `search` will see it once the index catches up with `at`. */
  private indexUser(id: string, at: number): void {
    const user = this.users.get(id);
    const history = at === -Infinity ? [] : (this.userIndex.get(id) ?? []);
    history.push({ at, record: user ? structuredClone(user) : null });
    this.userIndex.set(id, history);
  }

  private indexGroup(id: string, at: number): void {
    const group = this.groups.get(id);
    const history = at === -Infinity ? [] : (this.groupIndex.get(id) ?? []);
    history.push({ at, record: group ? structuredClone(group) : null });
    this.groupIndex.set(id, history);
  }

  /** What the search index holds now: every record as of `searchLagMs` ago. */
  private indexed<T>(index: Map<string, { at: number; record: T | null }[]>): T[] {
    const asOf = this.now() - this.searchLagMs;
    const out: T[] = [];
    for (const history of index.values()) {
      const seen = history.filter((h) => h.at <= asOf).at(-1);
      if (seen?.record) out.push(seen.record);
    }
    return out;
  }

  addMember(groupId: string, userId: string): this {
    if (!this.groups.has(groupId)) throw new Error(`stand-in: no group ${groupId}`);
    this.mustUser(userId);
    this.members.get(groupId)!.add(userId);
    return this;
  }

  removeMember(groupId: string, userId: string): this {
    this.members.get(groupId)?.delete(userId);
    return this;
  }

  isMember(groupId: string, userId: string): boolean {
    return this.members.get(groupId)?.has(userId) ?? false;
  }

  memberIds(groupId: string): string[] {
    return [...(this.members.get(groupId) ?? [])];
  }

  /**
   * Persists an event now. Its `published` time may be earlier than events already served: a
   * late event, which a bounded request over its `published` time, read before, did not see.
   */
  appendLogEvent(input: StandInLogEventInput): this {
    this.eventSeq++;
    this.events.push({
      uuid: input.uuid ?? `evt${String(this.eventSeq).padStart(6, '0')}`,
      published: new Date(input.published).toISOString(),
      seq: this.eventSeq,
      persistedAt: this.now(),
      eventType: input.eventType,
      target: input.target,
      outcome: input.outcome ?? 'SUCCESS',
    });
    return this;
  }

  // ---------------------------------------------------------------- faults and counters

  /**
   * The next `count` requests whose path matches (substring or RegExp; optionally only one HTTP
   * method) get `kind`: a 5xx, a 429 with its reset `resetInSeconds` ahead, or a dropped socket.
   */
  failNext(
    pattern: string | RegExp,
    count: number,
    kind: FaultKind,
    options: { method?: string; resetInSeconds?: number } = {},
  ): this {
    this.faults.push({
      pattern,
      method: options.method?.toUpperCase(),
      remaining: count,
      kind,
      resetInSeconds: options.resetInSeconds ?? 2,
    });
    return this;
  }

  /**
   * Holds the next request whose path matches (optionally of one method) before Okta acts on it:
   * the change lands, and the answer goes out, only at `release()`. `arrived` resolves when the
   * request is being held. For provoking races with a slow Okta without sleeping.
   */
  hold(pattern: string | RegExp, options: { method?: string } = {}): { arrived: Promise<void>; release: () => void } {
    let arrived!: () => void;
    let release!: () => void;
    const arrivedP = new Promise<void>((resolve) => (arrived = resolve));
    const released = new Promise<void>((resolve) => (release = resolve));
    this.holds.push({ pattern, method: options.method?.toUpperCase(), arrived, released, release });
    return { arrived: arrivedP, release };
  }

  /** Lets every held request go and forgets holds nothing has hit yet (a test's clean-up). */
  releaseHolds(): void {
    for (const release of this.holding) release();
    this.holding.clear();
    this.holds.length = 0;
  }

  /** From now on every answer waits `ms` (like the `answerDelayMs` option; 0 turns it off): a slow Okta. */
  delayEvery(ms: number): this {
    this.answerDelayMs = ms;
    return this;
  }

  /** Requests whose path matches (substring or RegExp), optionally of one method. */
  count(pattern: string | RegExp, method?: string): number {
    return this.matching(pattern, method).length;
  }

  matching(pattern: string | RegExp, method?: string): RecordedRequest[] {
    return this.requests.filter((r) => matches(pattern, r.path) && (!method || r.method === method.toUpperCase()));
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  /** Resolves with the next request (answered after this call) that satisfies `predicate`. */
  nextRequest(predicate: (r: RecordedRequest) => boolean, timeoutMs = 10_000): Promise<RecordedRequest> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('request', listener);
        reject(new Error('stand-in: timed out waiting for a request'));
      }, timeoutMs);
      const listener = (r: RecordedRequest) => {
        if (!predicate(r)) return;
        clearTimeout(timer);
        this.off('request', listener);
        resolve(r);
      };
      this.on('request', listener);
    });
  }

  // ---------------------------------------------------------------- HTTP

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const arrivedAt = this.now();
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname;
    const body = await readBody(req);
    const bucket = classify(method, path);
    const record: RecordedRequest = {
      method,
      path,
      query: Object.fromEntries(url.searchParams),
      at: arrivedAt,
      status: 0,
      bucket,
      auth: 'none',
      reset: 0,
      remaining: 0,
      dpopProof: typeof req.headers['dpop'] === 'string',
    };
    const authz = req.headers['authorization'] ?? '';
    if (authz.startsWith('SSWS ')) record.auth = 'ssws';
    else if (authz.startsWith('Bearer ')) record.auth = 'bearer';
    else if (authz.startsWith('DPoP ')) record.auth = 'dpop';

    const held = this.holds.findIndex((h) => matches(h.pattern, path) && (!h.method || h.method === method));
    if (held >= 0) {
      const [hold] = this.holds.splice(held, 1);
      this.holding.add(hold!.release);
      hold!.arrived();
      await hold!.released;
      this.holding.delete(hold!.release);
    }

    const fault = this.takeFault(method, path);
    if (fault?.kind === 'reset') {
      record.status = -1;
      this.finish(record);
      req.socket.destroy();
      return;
    }

    this.inFlight++;
    try {
      await this.answer(req, res, { method, path, url, body, bucket, fault, record });
    } finally {
      this.inFlight--;
    }
  }

  private async answer(
    req: IncomingMessage,
    res: ServerResponse,
    r: {
      method: string;
      path: string;
      url: URL;
      body: string;
      bucket: RateLimitClass;
      fault: Fault | undefined;
      record: RecordedRequest;
    },
  ): Promise<void> {
    const { method, path, url, body, bucket, fault, record } = r;
    if (this.inFlight > this.concurrencyLimit) {
      // Concurrency is not a per-minute bucket: "The first two header values are always 0 for
      // concurrent rate limit errors", and the reset is "only a suggested value" (rl2-monitor).
      const reset = Math.ceil((this.now() + 1_000) / 1000);
      record.status = 429;
      record.concurrency = true;
      record.reset = reset;
      res.writeHead(429, {
        'content-type': 'application/json',
        'x-rate-limit-limit': '0',
        'x-rate-limit-remaining': '0',
        'x-rate-limit-reset': String(reset),
        'x-okta-request-id': requestId(),
      });
      res.end(JSON.stringify(oktaError('E0000047', 'API call exceeded rate limit due to too many requests.')));
      this.finish(record);
      return;
    }
    if (this.answerDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.answerDelayMs));
    let status: number;
    let payload: unknown;
    let headers: Record<string, string>;
    const rate = this.spend(bucket, fault?.kind === 429 ? fault : undefined);
    try {
      if (fault && fault.kind !== 429 && fault.kind !== 'reset') throw faultFailure(fault.kind);
      if (rate.exceeded) {
        throw new HttpFailure(429, {
          errorCode: 'E0000047',
          errorSummary: 'API call exceeded rate limit due to too many requests.',
          errorLink: 'E0000047',
          errorId: requestId(),
          errorCauses: [],
        });
      }
      const result = this.route(method, path, url, body, req);
      status = result.status;
      payload = result.body;
      headers = result.headers ?? {};
    } catch (error) {
      if (!(error instanceof HttpFailure)) throw error;
      status = error.status;
      payload = error.body;
      headers = error.headers;
    }
    record.status = status;
    record.reset = rate.reset;
    record.remaining = rate.remaining;
    const allHeaders: Record<string, string> = {
      'x-rate-limit-limit': String(rate.limit),
      'x-rate-limit-remaining': String(rate.remaining),
      'x-rate-limit-reset': String(rate.reset),
      'x-okta-request-id': requestId(),
      ...headers,
    };
    if (typeof payload === 'string') {
      res.writeHead(status, { 'content-type': 'text/html', ...allHeaders });
      res.end(payload);
    } else if (payload === undefined) {
      res.writeHead(status, allHeaders);
      res.end();
    } else {
      res.writeHead(status, { 'content-type': 'application/json', ...allHeaders });
      res.end(JSON.stringify(payload));
    }
    this.finish(record);
  }

  private finish(record: RecordedRequest): void {
    this.requestSeq++;
    this.requests.push(record);
    this.emit('request', record);
  }

  private takeFault(method: string, path: string): Fault | undefined {
    const index = this.faults.findIndex((f) => matches(f.pattern, path) && (!f.method || f.method === method));
    if (index < 0) return undefined;
    const fault = this.faults[index]!;
    fault.remaining--;
    if (fault.remaining <= 0) this.faults.splice(index, 1);
    return fault;
  }

  /** Fixed windows aligned to multiples of the window length, like Okta's per-minute windows. */
  private spend(
    bucket: RateLimitClass,
    forced429?: Fault,
  ): { limit: number; remaining: number; reset: number; exceeded: boolean } {
    const { limit, windowMs } = this.limits[bucket];
    const now = this.now();
    if (forced429) {
      return { limit, remaining: 0, reset: Math.ceil((now + forced429.resetInSeconds * 1000) / 1000), exceeded: true };
    }
    const index = Math.floor(now / windowMs);
    let window = this.windows.get(bucket);
    if (!window || window.index !== index) {
      window = { index, used: 0 };
      this.windows.set(bucket, window);
    }
    const reset = Math.ceil(((index + 1) * windowMs) / 1000);
    if (window.used >= limit) return { limit, remaining: 0, reset, exceeded: true };
    window.used++;
    return { limit, remaining: limit - window.used, reset, exceeded: false };
  }

  private route(
    method: string,
    path: string,
    url: URL,
    body: string,
    req: IncomingMessage,
  ): { status: number; body?: unknown; headers?: Record<string, string> } {
    if (method === 'POST' && path === '/oauth2/v1/token') return this.issueToken(body);
    if (!path.startsWith('/api/v1/')) throw notFound('Resource');
    const scopes = this.authenticate(req);
    const parts = path.split('/').slice(3).map(decodeURIComponent); // after /api/v1/
    const [collection, id, sub, subId] = parts;

    if (collection === 'users') {
      if (method !== 'GET') throw methodNotAllowed();
      requireScope(scopes, 'okta.users.read');
      if (!id) return this.listUsers(url);
      const user = this.findUser(id);
      if (!user) throw notFound(`${id} (User)`);
      if (!sub) return { status: 200, body: this.userJson(user) };
      if (sub === 'groups' && !subId) {
        // No paging parameters on this endpoint (OKTA-OAS listUserGroups): every group at once.
        const groups = [...this.groups.values()].filter((g) => this.members.get(g.id)?.has(user.id));
        const link = `<${url.href}>; rel="self"`;
        return { status: 200, body: groups.map((g) => this.groupJson(g)), headers: { link } };
      }
      throw notFound('Resource');
    }

    if (collection === 'groups') {
      if (!id) {
        if (method !== 'GET') throw methodNotAllowed();
        requireScope(scopes, 'okta.groups.read');
        return this.listGroups(url);
      }
      const group = this.groups.get(id);
      if (!sub) {
        if (method !== 'GET') throw methodNotAllowed();
        requireScope(scopes, 'okta.groups.read');
        if (!group) throw notFound(`${id} (UserGroup)`);
        return { status: 200, body: this.groupJson(group) };
      }
      if (sub === 'users' && !subId) {
        if (method !== 'GET') throw methodNotAllowed();
        requireScope(scopes, 'okta.groups.read');
        if (!group) throw notFound(`${id} (UserGroup)`);
        const users = [...(this.members.get(group.id) ?? [])]
          .map((u) => this.users.get(u))
          .filter((u): u is StoredUser => !!u);
        return this.page(
          url,
          users,
          (u) => u.id,
          (u) => this.userJson(u),
          this.maxPageSize,
        );
      }
      if (sub === 'users' && subId && (method === 'PUT' || method === 'DELETE')) {
        requireScope(scopes, 'okta.groups.manage');
        if (!group) throw notFound(`${id} (UserGroup)`);
        const user = this.users.get(subId);
        if (!user) throw notFound(`${subId} (User)`);
        if (group.type !== 'OKTA_GROUP') {
          // What Okta answers for membership changes on APP_GROUP / BUILT_IN groups, even for a
          // super admin (okta/terraform-provider-okta PR #118).
          throw new HttpFailure(
            403,
            oktaError('E0000006', 'You do not have permission to perform the requested action'),
          );
        }
        if (method === 'PUT') this.members.get(group.id)!.add(user.id);
        else this.members.get(group.id)!.delete(user.id);
        return { status: 204 };
      }
      throw notFound('Resource');
    }

    if (collection === 'logs' && !id) {
      if (method !== 'GET') throw methodNotAllowed();
      requireScope(scopes, 'okta.logs.read');
      return this.listLogs(url);
    }
    throw notFound('Resource');
  }

  // ---------------------------------------------------------------- auth

  /** Returns the granted scopes (null = SSWS: everything the token's admin may do). */
  private authenticate(req: IncomingMessage): Set<string> | null {
    const header = req.headers['authorization'] ?? '';
    if (header === `SSWS ${this.token}`) return null;
    const bearer = /^(?:Bearer|DPoP) (.+)$/.exec(header);
    if (bearer) {
      const token = this.accessTokens.get(bearer[1]!);
      if (token && token.expiresAt > this.now()) return token.scopes;
    }
    throw new HttpFailure(401, oktaError('E0000011', 'Invalid token provided'));
  }

  private issueToken(body: string): { status: number; body: unknown } {
    const form = new URLSearchParams(body);
    const fail = (status: number, error: string, description: string) =>
      new HttpFailure(status, { error, error_description: description });
    if (form.get('grant_type') !== 'client_credentials')
      throw fail(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
    if (form.get('client_assertion_type') !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      throw fail(401, 'invalid_client', 'client_assertion_type is missing or unsupported');
    }
    const jwt = form.get('client_assertion') ?? '';
    const [h, p, s] = jwt.split('.');
    if (!h || !p || !s) throw fail(401, 'invalid_client', 'client_assertion is not a JWT');
    let header: { alg?: string; kid?: string };
    let claims: { iss?: string; sub?: string; aud?: string; exp?: number; iat?: number };
    try {
      header = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as typeof header;
      claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as typeof claims;
    } catch {
      throw fail(401, 'invalid_client', 'client_assertion is not a JWT');
    }
    const client = this.clients.find((c) => c.clientId === claims.iss);
    if (!client) throw fail(401, 'invalid_client', "Invalid value for 'client_id' parameter.");
    if (claims.sub !== client.clientId)
      throw fail(401, 'invalid_client', 'The client_assertion sub claim must be the client id');
    if (claims.aud !== `${this.baseUrl}/oauth2/v1/token`)
      throw fail(401, 'invalid_client', `The audience [${claims.aud}] is invalid`);
    const nowS = Math.floor(this.now() / 1000);
    if (typeof claims.exp !== 'number' || claims.exp <= nowS)
      throw fail(401, 'invalid_client', 'The client_assertion token is expired.');
    if (client.keyId && header.kid !== client.keyId)
      throw fail(401, 'invalid_client', 'The client_assertion kid is unknown');
    const key =
      client.publicKey instanceof KeyObject
        ? client.publicKey
        : typeof client.publicKey === 'string'
          ? createPublicKey(client.publicKey)
          : createPublicKey({ key: client.publicKey as JsonWebKey, format: 'jwk' });
    const data = Buffer.from(`${h}.${p}`);
    const signature = Buffer.from(s, 'base64url');
    let valid = false;
    if (header.alg === 'RS256') valid = verify('RSA-SHA256', data, key, signature);
    else if (header.alg === 'ES256') valid = verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, signature);
    if (!valid) throw fail(401, 'invalid_client', 'The client_assertion signature is invalid.');

    const requested = (form.get('scope') ?? '').split(' ').filter((x) => x !== '');
    const notAllowed = requested.filter((x) => !client.scopes.includes(x));
    if (requested.length === 0 || notAllowed.length > 0) {
      throw fail(
        400,
        'invalid_scope',
        `The following scopes are not allowed: ${notAllowed.join(', ') || '(none requested)'}`,
      );
    }
    const accessToken = randomBytes(24).toString('base64url');
    this.accessTokens.set(accessToken, {
      clientId: client.clientId,
      scopes: new Set(requested),
      expiresAt: this.now() + 3_600_000,
    });
    return {
      status: 200,
      body: { token_type: 'Bearer', expires_in: 3600, access_token: accessToken, scope: requested.join(' ') },
    };
  }

  /** Makes every issued access token invalid, as if it expired: the SDK must fetch a new one. */
  expireAccessTokens(): void {
    this.accessTokens.clear();
  }

  // ---------------------------------------------------------------- collections

  private listUsers(url: URL): { status: number; body: unknown; headers: Record<string, string> } {
    const search = url.searchParams.get('search');
    const filter = url.searchParams.get('filter');
    const q = url.searchParams.get('q');
    if (search) {
      // Eventually consistent: the index as of `searchLagMs` ago.
      const expr = parseExpression(search);
      const found = this.indexed(this.userIndex).filter((u) => evaluate(expr, this.userJson(u)));
      return this.page(
        url,
        found,
        (u) => u.id,
        (u) => this.userJson(u),
        this.maxPageSize,
      );
    }
    let users = [...this.users.values()];
    if (filter) users = users.filter((u) => evaluate(parseExpression(filter), this.userJson(u)));
    else users = users.filter((u) => u.status !== 'DEPROVISIONED'); // Okta lists omit them unless asked
    if (q) {
      // "matched against firstName, lastName, or email"; "doesn't support pagination, but you can use limit".
      const needle = q.toLowerCase();
      const starts = (u: StoredUser) =>
        ['firstName', 'lastName', 'email'].some((k) =>
          String(u.profile[k] ?? '')
            .toLowerCase()
            .startsWith(needle),
        );
      const matched = users.filter(starts);
      return this.unpaged(
        url,
        matched.map((u) => this.userJson(u)),
        10,
      );
    }
    return this.page(
      url,
      users,
      (u) => u.id,
      (u) => this.userJson(u),
      this.maxPageSize,
    );
  }

  private listGroups(url: URL): { status: number; body: unknown; headers: Record<string, string> } {
    const search = url.searchParams.get('search');
    const filter = url.searchParams.get('filter');
    const q = url.searchParams.get('q');
    if (search) {
      const expr = parseExpression(search);
      const found = this.indexed(this.groupIndex).filter((g) => evaluate(expr, this.groupJson(g)));
      return this.page(
        url,
        found,
        (g) => g.id,
        (g) => this.groupJson(g),
        this.maxPageSize,
      );
    }
    let groups = [...this.groups.values()];
    if (filter) groups = groups.filter((g) => evaluate(parseExpression(filter), this.groupJson(g)));
    if (q) {
      // "You can't page a query. The default limit for a query is 300 results."
      const matched = groups.filter((g) => g.profile.name.toLowerCase().startsWith(q.toLowerCase()));
      return this.unpaged(
        url,
        matched.map((g) => this.groupJson(g)),
        300,
      );
    }
    return this.page(
      url,
      groups,
      (g) => g.id,
      (g) => this.groupJson(g),
      this.maxPageSize,
    );
  }

  /** A `q` answer: at most `limit` (or the default) results and never a next link. */
  private unpaged(
    url: URL,
    items: unknown[],
    defaultLimit: number,
  ): { status: number; body: unknown; headers: Record<string, string> } {
    const limit = clamp(url.searchParams.get('limit'), defaultLimit, Math.max(defaultLimit, this.maxPageSize));
    return { status: 200, body: items.slice(0, limit), headers: { link: `<${url.href}>; rel="self"` } };
  }

  /**
   * GET /api/v1/logs, as the System Log reference describes it: polling requests (no `until`,
   * ascending) by persistence, bounded ones by `published` over what is persisted now; `after`
   * only from a next link, never with `since`.
   */
  private listLogs(url: URL): { status: number; body: unknown; headers: Record<string, string> } {
    const p = url.searchParams;
    const until = p.get('until');
    const since = p.get('since');
    const afterToken = p.get('after');
    if (since && afterToken) {
      const summary =
        "Api validation failed: since and after are mutually exclusive and can't be specified simultaneously";
      throw new HttpFailure(400, oktaError('E0000001', summary));
    }
    let cursor: LogCursor | undefined;
    if (afterToken) {
      cursor = this.logCursors.get(afterToken);
      if (!cursor) {
        const summary = 'Api validation failed: after is not a value from a next link';
        throw new HttpFailure(400, oktaError('E0000001', summary));
      }
    }
    const untilMs = until ? Date.parse(until) : this.now();
    const sinceMs = since ? Date.parse(since) : untilMs - 7 * 24 * 3_600_000;
    if (Number.isNaN(untilMs) || Number.isNaN(sinceMs))
      throw new HttpFailure(400, oktaError('E0000001', 'Api validation failed: since/until'));
    if (since && sinceMs < this.now() - 180 * 24 * 3_600_000) {
      const summary = 'Invalid parameter: The since parameter is over 180 days prior to the current day.';
      throw new HttpFailure(400, oktaError('E0000053', summary));
    }
    const descending = p.get('sortOrder') === 'DESCENDING';
    const filter = p.get('filter');
    const expr = filter ? parseExpression(filter) : null;
    const limit = clamp(p.get('limit'), 100, 1000);
    const matchesFilter = (e: StoredEvent) => !expr || evaluate(expr, e as unknown as Record<string, unknown>);
    const polling = !until && !descending;
    const links = [`<${url.href}>; rel="self"`];
    const next = (c: LogCursor) => {
      const token = randomBytes(12).toString('base64url');
      this.logCursors.set(token, c);
      const link = new URL(url.href);
      link.searchParams.delete('since'); // the next link carries `after` instead
      link.searchParams.set('after', token);
      link.searchParams.set('limit', String(limit));
      links.push(`<${link.href}>; rel="next"`);
    };

    if (polling) {
      // By persistence: `since` bounds the persistence time; the next link always comes.
      const start = cursor?.mode === 'poll' ? cursor.seq : 0;
      const events = this.events
        .filter((e) => (cursor ? e.seq > start : e.persistedAt >= sinceMs) && matchesFilter(e))
        .sort((a, b) => a.seq - b.seq);
      const slice = events.slice(0, limit);
      const lastSeq = slice.at(-1)?.seq ?? (cursor?.mode === 'poll' ? cursor.seq : this.eventSeq);
      next({ mode: 'poll', seq: lastSeq });
      return { status: 200, body: slice.map((e) => this.eventJson(e)), headers: { link: links.join(', ') } };
    }

    // Bounded (or descending): by `published`, over the events persisted by now.
    const byPublished = (a: StoredEvent, b: StoredEvent) =>
      a.published < b.published ? -1 : a.published > b.published ? 1 : a.seq - b.seq;
    let events = this.events
      .filter((e) => {
        const t = Date.parse(e.published);
        return t >= sinceMs && t < untilMs && matchesFilter(e);
      })
      .sort(byPublished);
    if (descending) events = events.reverse();
    if (cursor?.mode === 'page') {
      const at = cursor;
      const order = (e: StoredEvent) => byPublished(e, { ...e, published: at.published, seq: at.seq });
      events = events.filter((e) => (descending ? order(e) < 0 : order(e) > 0));
    }
    const slice = events.slice(0, limit);
    const last = slice.at(-1);
    if (events.length > limit && last) next({ mode: 'page', published: last.published, seq: last.seq });
    return { status: 200, body: slice.map((e) => this.eventJson(e)), headers: { link: links.join(', ') } };
  }

  private page<T>(
    url: URL,
    items: T[],
    keyOf: (item: T) => string,
    toJson: (item: T) => unknown,
    defaultLimit: number,
  ): { status: number; body: unknown; headers: Record<string, string> } {
    const limit = clamp(url.searchParams.get('limit'), defaultLimit, this.maxPageSize);
    const after = url.searchParams.get('after');
    let start = 0;
    if (after) {
      const i = items.findIndex((item) => keyOf(item) === after);
      start = i < 0 ? items.length : i + 1;
    }
    const slice = items.slice(start, start + limit);
    const links = [`<${url.href}>; rel="self"`];
    if (start + limit < items.length) {
      const next = new URL(url.href);
      next.searchParams.set('after', keyOf(slice.at(-1)!));
      next.searchParams.set('limit', String(limit));
      links.push(`<${next.href}>; rel="next"`);
    }
    return { status: 200, body: slice.map(toJson), headers: { link: links.join(', ') } };
  }

  // ---------------------------------------------------------------- JSON shapes

  private findUser(idOrLogin: string): StoredUser | undefined {
    const byId = this.users.get(idOrLogin);
    if (byId) return byId;
    const wanted = idOrLogin.toLowerCase();
    return [...this.users.values()].find((u) => String(u.profile['login']).toLowerCase() === wanted);
  }

  private mustUser(id: string): StoredUser {
    const user = this.users.get(id);
    if (!user) throw new Error(`stand-in: no user ${id}`);
    return user;
  }

  private userJson(u: StoredUser): Record<string, unknown> {
    return {
      id: u.id,
      status: u.status,
      created: u.created,
      activated: u.created,
      statusChanged: u.statusChanged,
      lastLogin: null,
      lastUpdated: u.lastUpdated,
      passwordChanged: null,
      type: { id: 'oty1' },
      profile: { ...u.profile },
      credentials: { provider: { type: 'OKTA', name: 'OKTA' } },
      _links: { self: { href: `${this.baseUrl}/api/v1/users/${u.id}` } },
    };
  }

  private groupJson(g: StoredGroup): Record<string, unknown> {
    return {
      id: g.id,
      created: g.created,
      lastUpdated: g.created,
      lastMembershipUpdated: g.created,
      objectClass: ['okta:user_group'],
      type: g.type,
      profile: { ...g.profile },
      _links: { self: { href: `${this.baseUrl}/api/v1/groups/${g.id}` } },
    };
  }

  private eventJson(e: StoredEvent): Record<string, unknown> {
    return {
      uuid: e.uuid,
      published: e.published,
      eventType: e.eventType,
      version: '0',
      displayMessage: e.eventType,
      severity: 'INFO',
      legacyEventType: null,
      outcome: { result: e.outcome, reason: null },
      actor: { id: '00uadmin', type: 'User', alternateId: 'admin@example.com', displayName: 'Admin' },
      target: e.target,
    };
  }
}

// ---------------------------------------------------------------- helpers

function classify(method: string, path: string): RateLimitClass {
  if (path.startsWith('/oauth2/')) return 'token';
  const parts = path
    .split('/')
    .filter((s) => s !== '')
    .slice(2);
  const [collection, id, sub, subId] = parts;
  if (collection === 'logs') return 'logs';
  if (collection === 'users') {
    if (!id) return 'users';
    if (!sub) return method === 'GET' ? 'user' : 'other';
    return sub === 'groups' ? 'userGroups' : 'other';
  }
  if (collection === 'groups') {
    if (!id) return 'groups';
    if (!sub) return 'group';
    if (sub === 'users') return subId ? 'membership' : 'groupMembers';
  }
  return 'other';
}

function faultFailure(kind: Exclude<FaultKind, 429 | 'reset'>): HttpFailure {
  if (kind === 500) return new HttpFailure(500, oktaError('E0000009', 'Internal Server Error'));
  // Load balancers in front of Okta answer 502/503/504 with HTML, not Okta JSON.
  return new HttpFailure(kind, `<html><body><h1>${kind} Service Unavailable</h1></body></html>`);
}

function oktaError(code: string, summary: string): Record<string, unknown> {
  return { errorCode: code, errorSummary: summary, errorLink: code, errorId: requestId(), errorCauses: [] };
}

function notFound(what: string): HttpFailure {
  return new HttpFailure(404, oktaError('E0000007', `Not found: Resource not found: ${what}`));
}

function methodNotAllowed(): HttpFailure {
  return new HttpFailure(405, oktaError('E0000022', 'The endpoint does not support the provided HTTP method'));
}

function requireScope(granted: Set<string> | null, scope: string): void {
  if (granted === null || granted.has(scope)) return;
  throw new HttpFailure(403, oktaError('E0000006', 'You do not have permission to perform the requested action'), {
    'www-authenticate': `Bearer authorization_uri="", realm="IdpMyAccountAPI", scope="${scope}", error="insufficient_scope", error_description="The access token provided does not contain the required scopes."`,
  });
}

function requestId(): string {
  return randomBytes(9).toString('base64url');
}

function clamp(raw: string | null, fallback: number, max: number): number {
  const n = raw === null ? fallback : Number.parseInt(raw, 10);
  if (!Number.isFinite(n) || n < 1) return fallback;
  return Math.min(n, max);
}

function matches(pattern: string | RegExp, path: string): boolean {
  return typeof pattern === 'string' ? path.includes(pattern) : pattern.test(path);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// ---------------------------------------------------------------- Okta filter / search expressions

type Expr =
  | { kind: 'and' | 'or'; left: Expr; right: Expr }
  | { kind: 'cmp'; attr: string; op: string; value: string | number | boolean | null };

/** Parses `profile.email eq "x" or (status eq "ACTIVE" and id eq "y")`; 400 E0000031 otherwise. */
export function parseExpression(source: string): Expr {
  const tokens = tokenize(source);
  let i = 0;
  const invalid = () => new HttpFailure(400, oktaError('E0000031', `Invalid search criteria. ${source}`));
  const peek = () => tokens[i];
  const take = () => {
    const t = tokens[i++];
    if (t === undefined) throw invalid();
    return t;
  };
  const parseOr = (): Expr => {
    let left = parseAnd();
    while (peek()?.type === 'word' && peek()!.text.toLowerCase() === 'or') {
      i++;
      left = { kind: 'or', left, right: parseAnd() };
    }
    return left;
  };
  const parseAnd = (): Expr => {
    let left = parseFactor();
    while (peek()?.type === 'word' && peek()!.text.toLowerCase() === 'and') {
      i++;
      left = { kind: 'and', left, right: parseFactor() };
    }
    return left;
  };
  const parseFactor = (): Expr => {
    const t = take();
    if (t.type === 'lparen') {
      const inner = parseOr();
      if (take().type !== 'rparen') throw invalid();
      return inner;
    }
    if (t.type !== 'word') throw invalid();
    const op = take();
    if (op.type !== 'word') throw invalid();
    const opName = op.text.toLowerCase();
    if (opName === 'pr') return { kind: 'cmp', attr: t.text, op: 'pr', value: null };
    if (!['eq', 'ne', 'sw', 'co', 'gt', 'ge', 'lt', 'le'].includes(opName)) throw invalid();
    const v = take();
    let value: string | number | boolean | null;
    if (v.type === 'string') value = v.text;
    else if (v.type === 'word' && (v.text === 'true' || v.text === 'false')) value = v.text === 'true';
    else if (v.type === 'word' && v.text === 'null') value = null;
    else if (v.type === 'word' && /^-?\d+(\.\d+)?$/.test(v.text)) value = Number(v.text);
    else throw invalid();
    return { kind: 'cmp', attr: t.text, op: opName, value };
  };
  const expr = parseOr();
  if (i !== tokens.length) throw invalid();
  return expr;
}

function tokenize(source: string): { type: 'word' | 'string' | 'lparen' | 'rparen'; text: string }[] {
  const out: { type: 'word' | 'string' | 'lparen' | 'rparen'; text: string }[] = [];
  let i = 0;
  while (i < source.length) {
    const c = source[i]!;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      out.push({ type: c === '(' ? 'lparen' : 'rparen', text: c });
      i++;
    } else if (c === '"') {
      let text = '';
      i++;
      while (i < source.length && source[i] !== '"') {
        if (source[i] === '\\' && i + 1 < source.length) i++;
        text += source[i];
        i++;
      }
      if (source[i] !== '"') throw new HttpFailure(400, oktaError('E0000031', `Invalid search criteria. ${source}`));
      i++;
      out.push({ type: 'string', text });
    } else {
      let text = '';
      while (i < source.length && /[^\s()"]/.test(source[i]!)) text += source[i++];
      out.push({ type: 'word', text });
    }
  }
  return out;
}

export function evaluate(expr: Expr, subject: Record<string, unknown>): boolean {
  if (expr.kind !== 'cmp') {
    return expr.kind === 'and'
      ? evaluate(expr.left, subject) && evaluate(expr.right, subject)
      : evaluate(expr.left, subject) || evaluate(expr.right, subject);
  }
  const actual = expr.attr
    .split('.')
    .reduce<unknown>((o, k) => (o && typeof o === 'object' ? (o as Record<string, unknown>)[k] : undefined), subject);
  if (expr.op === 'pr') return actual !== undefined && actual !== null && actual !== '';
  // Okta compares strings case-insensitively in search and filter.
  const a = typeof actual === 'string' ? actual.toLowerCase() : actual;
  const b = typeof expr.value === 'string' ? expr.value.toLowerCase() : expr.value;
  switch (expr.op) {
    case 'eq':
      return a === b;
    case 'ne':
      return a !== b;
    case 'sw':
      return typeof a === 'string' && typeof b === 'string' && a.startsWith(b);
    case 'co':
      return typeof a === 'string' && typeof b === 'string' && a.includes(b);
    case 'gt':
      return a !== null && b !== null && a !== undefined && (a as string | number) > (b as string | number);
    case 'ge':
      return a !== null && b !== null && a !== undefined && (a as string | number) >= (b as string | number);
    case 'lt':
      return a !== null && b !== null && a !== undefined && (a as string | number) < (b as string | number);
    case 'le':
      return a !== null && b !== null && a !== undefined && (a as string | number) <= (b as string | number);
    default:
      return false;
  }
}
