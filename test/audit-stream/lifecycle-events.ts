/** A small history for the audit stream's tests: requests decided, grants given, expired and revoked. */
import type { AuditEvent } from '../../src/domain/audit.js';
import type { SplunkHecSinkSettings, WebhookSinkSettings } from '../../src/domain/audit-sinks.js';
import { reviewRequest } from '../../src/operations/review-request.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { sweep } from '../../src/operations/sweep.js';
import type { Harness } from '../support/lifecycle-harness.js';

/** Part one: an approved and provisioned aws/admin grant, an auto-approved github/member, a denied github/owner. */
export async function grantsGiven(h: Harness): Promise<void> {
  const admin = await submitRequest(h.deps, {
    requester: await h.as('ada@example.com'),
    app: 'aws',
    role: 'admin',
    justification: 'INC-7',
  });
  if (admin.kind !== 'submitted') throw new Error(admin.kind);
  await reviewRequest(h.deps, {
    actor: await h.as('marcus@example.com'),
    requestId: admin.request.id,
    decision: 'approve',
  });
  await submitRequest(h.deps, { requester: await h.as('kim@example.com'), app: 'github', role: 'member' });
  const owner = await submitRequest(h.deps, {
    requester: await h.as('alan@example.com'),
    app: 'github',
    role: 'owner',
    justification: 'release',
    durationSeconds: 7200,
  });
  if (owner.kind !== 'submitted') throw new Error(owner.kind);
  await reviewRequest(h.deps, {
    actor: await h.as('marcus@example.com'),
    requestId: owner.request.id,
    decision: 'deny',
    reason: 'not this week',
  });
  await h.runJobs();
}

/** Part two: an hour later the aws/admin grant expires and is revoked (the group membership removed). */
export async function grantsExpired(h: Harness): Promise<void> {
  h.clock.advance(3600 + 60);
  await sweep(h.deps, { worker: 'test', baseDelaySeconds: 1, random: () => 0.999999 });
  await h.runJobs();
}

/** The whole log, as stored. */
export async function storedLog(h: Harness): Promise<AuditEvent[]> {
  return (await h.store.auditEvents({ limit: 100_000 })).map(({ id: _id, ...event }) => event);
}

/** A record a sink received (json format), back as the event it came from. */
export function eventOf(record: Record<string, unknown>): AuditEvent {
  return {
    seq: record.seq as number,
    at: record.at as string,
    actor: record.actor as AuditEvent['actor'],
    action: record.action as AuditEvent['action'],
    requestId: record.request_id as string | null,
    grantId: record.grant_id as string | null,
    details: record.details as Record<string, unknown>,
    prevHash: record.prev_hash as string,
    hash: record.hash as string,
  };
}

export function webhookSink(url: string, overrides: Partial<WebhookSinkSettings> = {}): WebhookSinkSettings {
  return {
    type: 'webhook',
    name: 'siem',
    url,
    secretEnv: 'SIEM_HOOK_SECRET',
    format: 'json',
    batchSize: 7,
    alertAfterSeconds: 15 * 60,
    timeoutSeconds: 5,
    ...overrides,
  };
}

export function hecSink(url: string, overrides: Partial<SplunkHecSinkSettings> = {}): SplunkHecSinkSettings {
  return {
    type: 'splunk_hec',
    name: 'splunk',
    url,
    tokenEnv: 'SPLUNK_HEC_TOKEN',
    format: 'json',
    batchSize: 5,
    alertAfterSeconds: 15 * 60,
    index: 'security',
    source: 'access-bot',
    sourcetype: 'access-bot:audit',
    timeoutSeconds: 5,
    ackTimeoutSeconds: 10,
    ...overrides,
  };
}

export const range = (from: number, to: number): number[] =>
  Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
