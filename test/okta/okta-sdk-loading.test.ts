/**
 * How the bot loads the Okta SDK (src/adapters/okta/okta-client.ts, issue 20: the idle bot's
 * memory). The client is built from the SDK's own transport without its generated API classes and
 * models, and what the transport requires for paths the bot's configuration does not take loads
 * on first use. Checked here, so that an SDK upgrade that moves or changes these parts fails:
 * - in a fresh Node process (this one's module cache has seen other tests' imports), what an API
 *   token start loads while it talks to the Okta stand-in, and that a service app start still
 *   loads the JWT and DPoP libraries when it signs;
 * - on the wire, that each call the bot makes sends what the SDK's own `Client` sends for it.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Client, DefaultRequestExecutor } from '@okta/okta-sdk-nodejs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OktaCallGate } from '../../src/adapters/okta/okta-call-gate.js';
import { createOktaClient, type OktaClient } from '../../src/adapters/okta/okta-client.js';
import { LOADED_FILES, ROOT, runFresh } from '../support/fresh-process.js';

const url = (...path: string[]) => JSON.stringify(pathToFileURL(join(ROOT, ...path)).href);

interface Loaded {
  /** Files loaded per package (node_modules), without the stand-in entries of deferred modules. */
  packages: Record<string, number>;
  /** The SDK's files, relative to its folder. */
  sdkFiles: string[];
  people: string[];
}

/** In a new process: an OktaDirectory with `auth` reads people and groups from the stand-in. */
async function loadAndCall(auth: 'token' | 'private_key'): Promise<Loaded> {
  return runFresh<Loaded>(`
    ${LOADED_FILES}
    import { generateKeyPairSync } from 'node:crypto';
    const { OktaStandIn } = await import(${url('test', 'okta', 'okta-stand-in.ts')});
    const { seedOrg, directoryFor } = await import(${url('test', 'okta', 'fixtures.ts')});
    const { OKTA_SCOPES } = await import(${url('src', 'adapters', 'okta', 'okta-client.ts')});
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const okta = new OktaStandIn({ clients: [{ clientId: '0oabot', publicKey, keyId: 'k1', scopes: [...OKTA_SCOPES] }] });
    seedOrg(okta);
    const { url } = await okta.start();
    const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const auth = ${JSON.stringify(auth)} === 'token'
      ? { mode: 'token', token: okta.token }
      : { mode: 'private_key', clientId: '0oabot', privateKey: pem, keyId: 'k1' };
    const directory = directoryFor(url, { auth });
    const people = [(await directory.getPerson('00ualice'))?.id, (await directory.findPerson('bob@example.com'))?.id];
    people.push(...(await directory.membersOf('platform-team')).map((p) => p.id));
    await okta.stop();
    const files = loadedFiles();
    const packages = Object.fromEntries(Object.entries(files).map(([name, list]) => [name, list.length]));
    console.log(JSON.stringify({ packages, sdkFiles: files['@okta/okta-sdk-nodejs'] ?? [], people }));
  `);
}

describe('the Okta SDK, loaded for what the bot uses', () => {
  it('an API token start loads the SDK transport only: no generated APIs or models, no JWT, DPoP or cache libraries', async () => {
    const loaded = await loadAndCall('token');
    expect(loaded.people).toEqual(['00ualice', '00ubob', '00ualice', '00ubob']);
    // The transport: http, request executors, collection, errors, the generated request context.
    for (const file of ['src/http.js', 'src/default-request-executor.js', 'src/collection.js', 'src/api-error.js'])
      expect(loaded.sdkFiles).toContain(file);
    expect(loaded.sdkFiles.filter((f) => /^src\/generated\/(apis|models|types)\//.test(f))).toEqual([]);
    expect(loaded.sdkFiles).not.toContain('src/index.js');
    expect(loaded.sdkFiles).not.toContain('src/client.js');
    expect(loaded.sdkFiles.length).toBeLessThan(20);
    for (const unused of ['node-jose', 'node-forge', 'njwt', 'uuid', 'lodash', 'form-data', 'whatwg-url', 'js-yaml'])
      expect(loaded.packages[unused], unused).toBeUndefined();
    expect(loaded.sdkFiles).not.toContain('src/dpop.js');
    expect(loaded.sdkFiles).not.toContain('src/oauth.js');
  });

  it('a service app start loads the JWT and DPoP libraries when it first asks for a token', async () => {
    const loaded = await loadAndCall('private_key');
    expect(loaded.people).toEqual(['00ualice', '00ubob', '00ualice', '00ubob']);
    expect(loaded.sdkFiles).toEqual(expect.arrayContaining(['src/oauth.js', 'src/dpop.js', 'src/jwt.js']));
    expect(loaded.packages['node-jose']).toBeGreaterThan(0);
    expect(loaded.packages['njwt']).toBeGreaterThan(0);
    expect(loaded.sdkFiles.filter((f) => /^src\/generated\/(apis|models|types)\//.test(f))).toEqual([]);
  });
});

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
}

describe("the bot's Okta calls on the wire", () => {
  let server: Server;
  let orgUrl: string;
  const seen: Seen[] = [];

  beforeAll(async () => {
    // Records each request and answers as Okta does: 204 for membership changes, a list or an object.
    server = createServer((req, res) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers });
      if (req.method !== 'GET') return void res.writeHead(204).end();
      const path = req.url!.split('?')[0]!;
      const body = /\/(users|groups|logs)$/.test(path)
        ? [{ id: 'x1', status: 'ACTIVE', profile: { login: 'a@example.com', name: 'g' } }]
        : { id: 'x1', status: 'ACTIVE', type: 'OKTA_GROUP', profile: { login: 'a@example.com', name: 'g' } };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening));
    orgUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((closed) => server.close(() => closed())));

  /** Runs `call` through a client and answers the requests it sent. */
  async function sent(call: (client: OktaClient) => Promise<unknown>, client: OktaClient): Promise<Seen[]> {
    seen.length = 0;
    const result = await call(client);
    if (result && typeof result === 'object' && Symbol.asyncIterator in result)
      for await (const item of result as AsyncIterable<unknown>) void item;
    return seen.map((s) => ({ ...s, headers: { ...s.headers, host: 'h' } }));
  }

  it('sends for each call what the SDK Client sends: method, URL, query, Accept, User-Agent and SSWS token', async () => {
    const ours = createOktaClient({ orgUrl, auth: { mode: 'token', token: 'tok' }, gate: new OktaCallGate({}) });
    const sdk = new Client({
      orgUrl,
      token: 'tok',
      authorizationMode: 'SSWS',
      clientId: '',
      privateKey: '',
      keyId: '',
      cacheMiddleware: null,
      requestExecutor: new DefaultRequestExecutor({ maxRetries: 0, requestTimeout: 0 }),
    }) as unknown as OktaClient;
    const calls: ((c: OktaClient) => Promise<unknown>)[] = [
      (c) => c.userApi.getUser({ userId: 'ada@example.com' }),
      (c) => c.userApi.listUsers({ search: 'profile.email eq "a b@example.com"', limit: 200 }),
      (c) => c.userApi.listUserGroups({ userId: '00u1' }),
      (c) => c.groupApi.getGroup({ groupId: '00g1' }),
      (c) => c.groupApi.listGroups({ search: 'profile.name eq "github-owners"', limit: 200 }),
      (c) => c.groupApi.listGroupUsers({ groupId: '00g1', limit: 200 }),
      (c) => c.groupApi.assignUserToGroup({ groupId: '00g1', userId: '00u/1' }),
      (c) => c.groupApi.unassignUserFromGroup({ groupId: '00g1', userId: '00u1' }),
      (c) =>
        c.systemLogApi.listLogEvents({
          since: '2026-01-01T00:00:00.000Z',
          filter: 'eventType eq "user.lifecycle.deactivate"',
          sortOrder: 'ASCENDING',
          limit: 100,
        }),
    ];
    for (const call of calls) {
      const expected = await sent(call, sdk);
      expect(expected).toHaveLength(1);
      expect(await sent(call, ours)).toEqual(expected);
    }
    expect(seen[0]?.headers['user-agent']).toMatch(/^@okta\/okta-sdk-nodejs\/\d/);
    expect(seen[0]?.headers.authorization).toBe('SSWS tok');
  });
});
