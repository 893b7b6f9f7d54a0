/**
 * Grants written straight into the store (request + grant + the activation event), for tests that
 * need many of them or people the YAML directory does not know. Everything else about them is what
 * the operations would have written.
 */
import type { AccessRequest, Grant } from '../../../src/domain/records.js';
import type { Store, StoreTx } from '../../../src/operations/ports.js';

export interface SeedGrant {
  id: string;
  holder: { directoryId: string; email: string; name: string };
  app?: string;
  role?: string;
  group?: string;
  sensitive?: boolean;
  activatedAt: string;
  expiresAt: string;
  alreadyMember?: boolean;
  status?: Grant['status'];
}

export async function seedGrantTx(tx: StoreTx, s: SeedGrant, options: { audit?: boolean } = {}): Promise<Grant> {
  const app = s.app ?? 'aws';
  const role = s.role ?? 'admin';
  const group = s.group ?? 'aws-admins';
  const durationSeconds = Math.round((Date.parse(s.expiresAt) - Date.parse(s.activatedAt)) / 1000);
  const request: AccessRequest = {
    id: `req_${s.id}`,
    kind: 'access',
    grantId: s.id,
    requester: s.holder,
    app,
    role,
    policyName: `${app}-${role}`,
    policyVersion: 'v1',
    justification: 'seeded',
    requestedSeconds: durationSeconds,
    grantedSeconds: durationSeconds,
    status: 'approved',
    autoApproveRule: null,
    currentStep: -1,
    stepCount: 0,
    createdAt: s.activatedAt,
    approvalDeadline: s.activatedAt,
    decidedAt: s.activatedAt,
    decisionReason: null,
  };
  const grant: Grant = {
    id: s.id,
    requestId: request.id,
    holder: s.holder,
    app,
    role,
    policyName: request.policyName,
    policyVersion: 'v1',
    sensitive: s.sensitive ?? true,
    breakGlass: false,
    snapshot: { provision: { method: 'okta_group', group }, policyName: request.policyName, policyVersion: 'v1' },
    alreadyMember: s.alreadyMember ?? false,
    status: s.status ?? 'active',
    durationSeconds,
    maxTotalSeconds: null,
    extensionApproval: null,
    createdAt: s.activatedAt,
    activatedAt: s.activatedAt,
    expiresAt: s.expiresAt,
    revocationReason: null,
    revocationNote: null,
    revokedBy: null,
    revocationStartedAt: null,
    revokedAt: null,
    remindersSent: [],
    failures: 0,
    lastError: null,
  };
  await tx.insertRequest({ ...request, grantId: null });
  await tx.insertGrant(grant);
  await tx.updateRequest(request.id, ['approved'], { grantId: grant.id });
  if (options.audit !== false) {
    await tx.appendAudit({
      at: s.activatedAt,
      actor: { kind: 'system', component: 'seed' },
      action: 'grant.activated',
      requestId: request.id,
      grantId: grant.id,
      details: { expiresAt: s.expiresAt },
    });
  }
  return grant;
}

export async function seedGrants(
  store: Store,
  grants: SeedGrant[],
  options: { audit?: boolean } = {},
): Promise<Grant[]> {
  return await store.transaction(async (tx) => {
    const seeded: Grant[] = [];
    for (const g of grants) seeded.push(await seedGrantTx(tx, g, options));
    return seeded;
  });
}

export function person(i: number | string) {
  return { directoryId: `u-p${i}`, email: `p${i}@example.com`, name: `Person ${i}` };
}
