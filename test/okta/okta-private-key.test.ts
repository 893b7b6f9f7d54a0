import { generateKeyPairSync } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OKTA_SCOPES } from '../../src/adapters/okta/okta-client.js';
import { PermanentError } from '../../src/domain/errors.js';
import { OktaStandIn } from './okta-stand-in.js';
import { directoryFor, seedOrg } from './fixtures.js';

const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const privatePem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
const other = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();

let okta: OktaStandIn;
let url: string;

beforeEach(async () => {
  okta = new OktaStandIn({
    clients: [
      { clientId: '0oabot', publicKey, keyId: 'kid-1', scopes: [...OKTA_SCOPES] },
      {
        clientId: '0oareadonly',
        publicKey,
        keyId: 'kid-1',
        scopes: ['okta.users.read', 'okta.groups.read', 'okta.logs.read'],
      },
    ],
  });
  seedOrg(okta);
  ({ url } = await okta.start());
});

afterEach(async () => {
  await okta.stop();
});

const serviceApp = (clientId: string, key = privatePem) =>
  ({ mode: 'private_key', clientId, privateKey: key, keyId: 'kid-1' }) as const;

describe('OktaDirectory with an OAuth service app (private_key_jwt)', () => {
  it('gets a token with a signed client assertion and least-privilege scopes, then calls the API with it', async () => {
    const directory = directoryFor(url, { auth: serviceApp('0oabot') });
    expect((await directory.findPerson('alice@example.com'))?.id).toBe('00ualice');
    await directory.addToGroup('00ualice', 'github-owners');
    expect(okta.isMember('00gghowners', '00ualice')).toBe(true);

    const token = okta.matching('/oauth2/v1/token', 'POST');
    expect(token).toHaveLength(1); // one token, reused
    expect(token[0]?.status).toBe(200);
    expect(token[0]?.dpopProof).toBe(true);
    const api = okta.requests.filter((r) => r.path.startsWith('/api/v1/'));
    expect(api.every((r) => r.auth === 'bearer' && r.status < 400)).toBe(true);
  });

  it('fetches a new token when the old one stops working', async () => {
    const directory = directoryFor(url, { auth: serviceApp('0oabot') });
    await directory.getPerson('00ualice');
    okta.expireAccessTokens();
    expect((await directory.getPerson('00ubob'))?.id).toBe('00ubob');
    expect(okta.count('/oauth2/v1/token', 'POST')).toBe(2);
  });

  it('fails with a PermanentError when the service app was not granted a scope it needs', async () => {
    const error = await directoryFor(url, { auth: serviceApp('0oareadonly') })
      .getPerson('00ualice')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toContain(
      'invalid_scope: The following scopes are not allowed: okta.groups.manage',
    );
  });

  it('is refused with a key Okta does not have', async () => {
    const error = await directoryFor(url, { auth: serviceApp('0oabot', other) })
      .getPerson('00ualice')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PermanentError);
    expect(okta.matching('/oauth2/v1/token')[0]?.status).toBe(401);
    expect((error as Error).message).toContain('invalid_client: The client_assertion signature is invalid.');
  });
});
