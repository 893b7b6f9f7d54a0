/**
 * Builds the Okta SDK client the way this bot needs it: every option passed explicitly (the SDK
 * also reads okta.yaml files and OKTA_CLIENT_* variables, which must not change what we talk to),
 * no response cache (the SDK's default cache never expires), and no SDK retries: every HTTP
 * request goes through our `OktaCallGate` instead.
 */
import { Client, DefaultRequestExecutor } from '@okta/okta-sdk-nodejs';
import { PermanentError } from '../../domain/errors.js';
import type { GateResponse } from './okta-call-gate.js';
import type { OktaCallGate } from './okta-call-gate.js';

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
export function tokenErrorOf(client: Client): string | null {
  const executor = (client as unknown as { requestExecutor?: unknown }).requestExecutor;
  return executor instanceof GatedRequestExecutor ? executor.lastTokenError : null;
}

export interface OktaClientOptions {
  orgUrl: string;
  auth: OktaAuth;
  gate: OktaCallGate;
  attemptTimeoutMs?: number;
}

export function createOktaClient(options: OktaClientOptions): Client {
  const orgUrl = checkOrgUrl(options.orgUrl);
  const requestExecutor = new GatedRequestExecutor(
    options.gate,
    options.attemptTimeoutMs ?? DEFAULT_ATTEMPT_TIMEOUT_MS,
  );
  const auth = checkAuth(options.auth);
  // Empty strings override whatever okta.yaml or OKTA_CLIENT_* would have supplied.
  const common = { orgUrl, cacheMiddleware: null, requestExecutor };
  if (auth.mode === 'token') {
    return new Client({
      ...common,
      authorizationMode: 'SSWS',
      token: auth.token,
      clientId: '',
      privateKey: '',
      keyId: '',
    });
  }
  return new Client({
    ...common,
    authorizationMode: 'PrivateKey',
    token: '',
    clientId: auth.clientId,
    scopes: auth.scopes ?? [...OKTA_SCOPES],
    privateKey: auth.privateKey,
    keyId: auth.keyId,
  });
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
