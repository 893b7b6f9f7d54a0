/** Every way a person or the bot can end a grant that may still be provisioning, by its revocation reason. */
import { offboardPerson, relinquishGrant, revokeGrantAsAdmin } from '../../src/operations/revoke-grant.js';
import type { Harness } from './lifecycle-harness.js';

export type Revoke = (h: Harness, grantId: string) => Promise<unknown>;

/** Ada holds (or is being given) the grant; Priya is an admin. */
export const REVOCATIONS: [reason: string, revoke: Revoke][] = [
  ['relinquished', async (h, grantId) => relinquishGrant(h.deps, { actor: await h.as('ada@example.com'), grantId })],
  [
    'revoked',
    async (h, grantId) =>
      revokeGrantAsAdmin(h.deps, { actor: await h.as('priya@example.com'), grantId, reason: 'wrong person' }),
  ],
  [
    'offboarded',
    async (h) => offboardPerson(h.deps, { directoryId: 'u-ada', source: 'test', status: 'deprovisioned' }),
  ],
];
