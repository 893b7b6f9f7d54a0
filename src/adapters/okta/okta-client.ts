/**
 * Builds the Okta SDK client the way this bot needs it: every option passed explicitly (the SDK's
 * `Client` also reads okta.yaml files and OKTA_CLIENT_* variables, which must not change what we
 * talk to; nothing here reads them), no response cache (the SDK's default cache never expires), and
 * no SDK retries: every HTTP request goes through our `OktaCallGate` instead.
 *
 * Loaded lighter than `new Client()` (issue 20: the idle bot's memory). The SDK's entry, and every
 * generated API class (`GroupApi`, `UserApi`, ...), requires its `ObjectSerializer`, which requires
 * all of its ~1,800 generated models: some 2,000 modules and about 50 MB of the bot's resident
 * memory, for the whole Okta management API, where the bot makes nine calls and reads their JSON
 * with its own schemas. So the client here is built from the SDK's own transport, required by path
 * (the package has no `exports` map; its .d.ts files type these modules): the SDK's `Http` (auth
 * header, User-Agent, OAuth with DPoP, errors as `OktaApiError`), its `DefaultRequestExecutor`
 * (under our gate), its generated `ServerConfiguration` and `RequestContext` (URL, path and query
 * encoding as the generated API classes do it) and its `Collection` (pagination by `Link`
 * headers); only the response models are left out: each call answers the JSON Okta sent. `userApi`,
 * `groupApi` and `systemLogApi` keep the SDK's method names and parameters, and send the requests
 * the SDK's own classes send: test/okta/okta-sdk-loading.test.ts compares them on the wire and
 * checks, in a fresh process, what loading this module loads.
 */
import { createRequire } from 'node:module';
import { platform, release } from 'node:os';
import type * as CollectionModule from '@okta/okta-sdk-nodejs/src/types/collection.js';
import type * as ExecutorModule from '@okta/okta-sdk-nodejs/src/types/default-request-executor.js';
import type * as RequestContextModule from '@okta/okta-sdk-nodejs/src/types/generated/http/http.js';
import type * as HttpModule from '@okta/okta-sdk-nodejs/src/types/http.js';
import { PermanentError } from '../../domain/errors.js';
import { loadOnFirstUse } from '../load-on-first-use.js';
import type { GateResponse } from './okta-call-gate.js';
import type { OktaCallGate } from './okta-call-gate.js';

const SDK = '@okta/okta-sdk-nodejs';
// Resolved from the SDK's own src folder, where its modules resolve what they require.
const requireSdk = createRequire(createRequire(import.meta.url).resolve(`${SDK}/src/http.js`));
// The SDK's Http requires at its top what it uses only on some paths, and each costs memory
// (together about 15 MB of the bot's resident memory): its DPoP proofs (node-jose, node-forge, uuid,
// njwt: a service app's OAuth only, `generateDpopJwt`), multipart uploads (form-data: never called
// here), its response cache (lodash: off here, `cacheMiddleware: null`) and a proxy agent (only
// with HTTPS_PROXY set). Each loads when first used instead (load-on-first-use.ts).
loadOnFirstUse(requireSdk, './dpop', { functions: ['generateDpopJwt'] });
loadOnFirstUse(requireSdk, 'form-data', { callable: true });
loadOnFirstUse(requireSdk, './default-cache-middleware', { callable: true });
loadOnFirstUse(requireSdk, 'https-proxy-agent', { callable: true });
// node-fetch (the SDK's request executor) requires whatwg-url, its fallback for a Node without a
// global URL class (`Url.URL || whatwgUrl.URL`), which Node 20 never takes: 1.6 MB of Unicode tables.
// A function stands in for it, so node-fetch's `_interopDefault` does not look inside it.
loadOnFirstUse(createRequire(requireSdk.resolve('node-fetch')), 'whatwg-url', { callable: true });
const { Http } = requireSdk('./http.js') as typeof HttpModule;
const { DefaultRequestExecutor } = requireSdk('./default-request-executor.js') as typeof ExecutorModule;
const { Collection } = requireSdk('./collection.js') as typeof CollectionModule;
const { ServerConfiguration } = requireSdk('./generated/servers.js') as {
  ServerConfiguration: new (url: string) => {
    makeRequestContext(path: string, method: string, vars?: Record<string, string>): RequestContext;
  };
};
/** The SDK's OAuth (src/oauth.js), for a service app only: it loads the JWT signing libraries. */
const loadOAuth = () => (requireSdk('./oauth.js') as { OAuth: new (client: object) => HttpModule.Http['oauth'] }).OAuth;
const sdkPackage = requireSdk('../package.json') as { name: string; version: string };
/** What `new Client()` sends (src/client.js DEFAULT_USER_AGENT). */
const USER_AGENT = `${sdkPackage.name}/${sdkPackage.version} node/${process.versions.node} ${platform()}/${release()}`;

type RequestContext = RequestContextModule.RequestContext;
export type OktaCollection<T = Record<string, unknown>> = CollectionModule.Collection<T>;

export type OktaAuth =
  | { mode: 'token'; token: string }
  | {
      mode: 'private_key';
      clientId: string;
      privateKey: string | Record<string, unknown>;
      keyId: string;
      scopes?: string[];
    };

/**
 * Least privilege for what the bot does: read people (and their groups), read groups and their
 * members, change memberships, read the System Log. Okta's guide "Implement OAuth for Okta"
 * says `.read` scopes cover GET and `.manage` scopes cover POST/PUT/DELETE, so both group scopes
 * are needed.
 */
export const OKTA_SCOPES = ['okta.users.read', 'okta.groups.read', 'okta.groups.manage', 'okta.logs.read'] as const;

/** Per attempt; Okta's own server-side timeout for a System Log query is 30 s. */
const DEFAULT_ATTEMPT_TIMEOUT_MS = 30_000;

interface SdkRequest {
  url?: string;
  method?: string;
  timeout?: number;
  startTime?: Date;
}

/** The SDK's executor with its retries off, sending each request through the gate. */
class GatedRequestExecutor extends DefaultRequestExecutor {
  /** Why the last OAuth token request failed (null after a success). See `tokenErrorOf`. */
  lastTokenError: string | null = null;

  constructor(
    private readonly gate: OktaCallGate,
    private readonly attemptTimeoutMs: number,
  ) {
    super({ maxRetries: 0, requestTimeout: 0 });
  }

  override async fetch(request: SdkRequest): Promise<GateResponse> {
    const response = await this.gate.run({ method: request.method ?? 'GET', url: request.url ?? '' }, () => {
      // Setting startTime first stops the parent from overwriting our per-attempt timeout.
      request.startTime ??= new Date();
      request.timeout = this.attemptTimeoutMs;
      return super.fetch(request) as Promise<GateResponse & { clone(): GateResponse }>;
    });
    if ((request.url ?? '').endsWith('/oauth2/v1/token')) await this.noteTokenAnswer(response);
    return response;
  }

  /**
   * SDK 8.1 does not check the token endpoint's status (oauth.js calls `Http.errorFilter` on the
   * module, where it is undefined), so a refused token request surfaces later as a 401
   * "Invalid token provided" on the API call. Keep Okta's real reason to put in that error.
   */
  private async noteTokenAnswer(response: GateResponse & { clone(): GateResponse }): Promise<void> {
    if (response.status < 400) {
      this.lastTokenError = null;
      return;
    }
    let reason = `HTTP ${response.status}`;
    try {
      const body = JSON.parse((await response.clone().text?.()) ?? '') as {
        error?: unknown;
        error_description?: unknown;
      };
      if (typeof body.error === 'string') reason = `${body.error}: ${String(body.error_description ?? '')}`.trim();
    } catch {
      // Not JSON: the status is all we know.
    }
    this.lastTokenError = reason;
  }
}

/** Why Okta last refused to issue an OAuth token to this client, or null. */
export function tokenErrorOf(client: OktaClient): string | null {
  return client.requestExecutor.lastTokenError;
}

type Query = Record<string, string | number | undefined>;
/** As the generated API classes send it (src/generated/apis/*.js). */
const ACCEPT = 'application/json, */*;q=0.8';

/**
 * The calls the bot makes, as the SDK's `Client` names them, over the SDK's transport. Query
 * parameters are listed in the order the generated classes set them, so the URLs are the same.
 */
export class OktaClient {
  readonly baseUrl: string;
  readonly http: HttpModule.Http;
  readonly authorizationMode: 'SSWS' | 'PrivateKey';
  // Read by the SDK's OAuth (src/oauth.js, src/jwt.js, src/dpop.js) as they read them from `Client`.
  readonly clientId?: string;
  readonly scopes?: string[];
  readonly privateKey?: string;
  readonly keyId?: string;
  private readonly server: InstanceType<typeof ServerConfiguration>;

  readonly userApi = {
    getUser: (p: { userId: string }) => this.one('GET', '/api/v1/users/{userId}', { userId: p.userId }),
    listUsers: (p: { search?: string; filter?: string; q?: string; after?: string; limit?: number } = {}) =>
      this.list('/api/v1/users', {}, { search: p.search, filter: p.filter, q: p.q, after: p.after, limit: p.limit }),
    listUserGroups: (p: { userId: string }) => this.list('/api/v1/users/{userId}/groups', { userId: p.userId }),
  };

  readonly groupApi = {
    getGroup: (p: { groupId: string }) => this.one('GET', '/api/v1/groups/{groupId}', { groupId: p.groupId }),
    listGroups: (p: { search?: string; filter?: string; q?: string; after?: string; limit?: number } = {}) =>
      this.list('/api/v1/groups', {}, { search: p.search, filter: p.filter, q: p.q, after: p.after, limit: p.limit }),
    listGroupUsers: (p: { groupId: string; after?: string; limit?: number }) =>
      this.list('/api/v1/groups/{groupId}/users', { groupId: p.groupId }, { after: p.after, limit: p.limit }),
    assignUserToGroup: async (p: { groupId: string; userId: string }): Promise<void> => {
      await this.one('PUT', '/api/v1/groups/{groupId}/users/{userId}', { groupId: p.groupId, userId: p.userId });
    },
    unassignUserFromGroup: async (p: { groupId: string; userId: string }): Promise<void> => {
      await this.one('DELETE', '/api/v1/groups/{groupId}/users/{userId}', { groupId: p.groupId, userId: p.userId });
    },
  };

  readonly systemLogApi = {
    listLogEvents: (
      p: {
        since?: string;
        until?: string;
        after?: string;
        filter?: string;
        q?: string;
        limit?: number;
        sortOrder?: 'ASCENDING' | 'DESCENDING';
      } = {},
    ) =>
      this.list(
        '/api/v1/logs',
        {},
        {
          since: p.since,
          until: p.until,
          after: p.after,
          filter: p.filter,
          q: p.q,
          limit: p.limit,
          sortOrder: p.sortOrder,
        },
      ),
  };

  constructor(
    orgUrl: string,
    auth: OktaAuth,
    readonly requestExecutor: GatedRequestExecutor,
  ) {
    this.baseUrl = orgUrl.replace(/\/$/, '');
    this.authorizationMode = auth.mode === 'token' ? 'SSWS' : 'PrivateKey';
    let oauth: HttpModule.Http['oauth'] | undefined;
    if (auth.mode === 'private_key') {
      this.clientId = auth.clientId;
      this.scopes = auth.scopes ?? [...OKTA_SCOPES];
      // The SDK's config loader turns a JWK object into its JSON text before `Client` keeps it.
      this.privateKey = typeof auth.privateKey === 'string' ? auth.privateKey : JSON.stringify(auth.privateKey);
      this.keyId = auth.keyId;
      oauth = new (loadOAuth())(this);
    }
    this.http = new Http({ cacheMiddleware: null, requestExecutor, oauth: oauth! });
    if (auth.mode === 'token') this.http.defaultHeaders.Authorization = `SSWS ${auth.token}`;
    this.http.defaultHeaders['User-Agent'] = USER_AGENT;
    this.server = new ServerConfiguration(orgUrl);
  }

  private request(method: string, path: string, vars: Record<string, string>, query: Query = {}): RequestContext {
    const context = this.server.makeRequestContext(path, method, vars);
    context.setHeaderParam('Accept', ACCEPT);
    for (const [name, value] of Object.entries(query))
      if (value !== undefined) context.setQueryParam(name, value as string);
    return context;
  }

  /** One request; the JSON Okta answered (undefined for 204). Non-2xx throws the SDK's OktaApiError. */
  private async one(method: string, path: string, vars: Record<string, string>): Promise<unknown> {
    const response = await this.http.send(this.request(method, path, vars)).toPromise();
    const text = await response.body.text();
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  }

  /** A collection the SDK pages through by its `Link` headers, as its list methods return it. */
  private async list(path: string, vars: Record<string, string>, query: Query = {}): Promise<OktaCollection> {
    const context = this.request('GET', path, vars, query);
    const json = {
      parseResponse: async (response: RequestContextModule.ResponseContext) =>
        JSON.parse(await response.body.text()) as unknown,
    };
    return new Collection(this.http, context.getUrl(), json, context);
  }

  /** A collection starting at an absolute link Okta returned (a stored System Log `next` link). */
  follow(url: string): OktaCollection {
    return new Collection(this.http, url, {} as never);
  }
}

export interface OktaClientOptions {
  orgUrl: string;
  auth: OktaAuth;
  gate: OktaCallGate;
  attemptTimeoutMs?: number;
}

export function createOktaClient(options: OktaClientOptions): OktaClient {
  const orgUrl = checkOrgUrl(options.orgUrl);
  const requestExecutor = new GatedRequestExecutor(
    options.gate,
    options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
  );
  return new OktaClient(orgUrl, checkAuth(options.auth), requestExecutor);
}

function checkOrgUrl(raw: string | undefined): string {
  if (!raw || raw.trim() === '') {
    throw new PermanentError('Okta settings: orgUrl is missing (your Okta org URL, e.g. https://example.okta.com)');
  }
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new PermanentError(`Okta settings: orgUrl "${raw}" is not a URL (expected e.g. https://example.okta.com)`);
  }
  const local = url.hostname === '127.0.0.1' || url.hostname === 'localhost' || url.hostname === '::1';
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && local)) {
    throw new PermanentError(`Okta settings: orgUrl must use https (got ${url.protocol}//${url.host})`);
  }
  if (/-admin\./.test(url.hostname)) {
    throw new PermanentError(
      `Okta settings: orgUrl ${url.origin} is the admin console; use the org URL without "-admin" (${url.origin.replace('-admin.', '.')})`,
    );
  }
  if (url.pathname !== '/' || url.search !== '') {
    throw new PermanentError(`Okta settings: orgUrl must be the bare org URL (${url.origin}), without a path`);
  }
  return url.origin;
}

function checkAuth(auth: OktaAuth | undefined): OktaAuth {
  if (!auth) {
    throw new PermanentError(
      'Okta settings: auth is missing (an API token, or a service app clientId + privateKey + keyId)',
    );
  }
  if (auth.mode === 'token') {
    if (!auth.token || auth.token.trim() === '') {
      throw new PermanentError('Okta settings: the API token is missing (auth.token)');
    }
    return auth;
  }
  if (auth.mode === 'private_key') {
    const missing = [
      !auth.clientId ? 'clientId' : null,
      !auth.privateKey ? 'privateKey' : null,
      !auth.keyId ? 'keyId' : null,
    ].filter((m): m is string => m !== null);
    if (missing.length > 0) {
      throw new PermanentError(`Okta settings: private-key auth is missing ${missing.join(', ')} (auth.${missing[0]})`);
    }
    return auth;
  }
  throw new PermanentError(
    `Okta settings: unknown auth mode "${(auth as { mode?: unknown }).mode}" (token | private_key)`,
  );
}
