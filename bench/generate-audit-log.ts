/**
 * A SQLite database whose audit log holds N valid, hash-chained events, written by direct SQL
 * inserts (the real migrations make the schema): a realistic mix of requests, decisions, grants
 * and revocations, with justifications that contain commas, quotes, line breaks and formulas.
 * Shared by the export and audit stream benchmarks.
 */
import Database from 'better-sqlite3';
import { SqliteStore } from '../src/adapters/db/sqlite-store.js';
import { actorLabel, GENESIS_HASH, hashEvent, type Actor, type AuditAction } from '../src/domain/audit.js';

/** N valid chained events, inserted in large transactions through one prepared statement. */
export async function generate(path: string, n: number): Promise<void> {
  await SqliteStore.open(path).close(); // the schema, through the real migrations
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  const insert = db.prepare(
    'INSERT INTO audit_events (seq, at, actor, actor_label, action, request_id, grant_id, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  );
  const people = Array.from({ length: 2000 }, (_, i) => ({
    directoryId: `00u${i.toString(36).padStart(6, '0')}`,
    email: `person${i}@example.com`,
    slackId: `U${(100000 + i).toString(36).toUpperCase()}`,
  }));
  const justifications = [
    'on-call for incident INC-4411, need to roll back the deploy',
    'quarterly access review, "read only", as agreed with Marcus',
    'migrating the billing exports;\nsee ticket OPS-212',
    '=HYPERLINK("http://evil.example","click")',
    'debugging a customer issue, ticket 5521',
  ];
  let prev = GENESIS_HASH;
  let seq = 0;
  let ms = Date.parse('2025-01-01T00:00:00.000Z');
  const insertMany = db.transaction((count: number) => {
    for (let i = 0; i < count; i++) {
      seq++;
      ms += 1000 + (seq % 7) * 250;
      const person = people[(seq * 7919) % people.length]!;
      const requestId = `req_${Math.floor(seq / 8)
        .toString(36)
        .padStart(9, '0')}a1b2c3d4e5f6`;
      const grantId = `grt_${Math.floor(seq / 8)
        .toString(36)
        .padStart(9, '0')}f6e5d4c3b2a1`;
      let actor: Actor;
      let action: AuditAction;
      let details: Record<string, unknown>;
      let withGrant = true;
      switch (seq % 8) {
        case 0:
          actor = { kind: 'person', directoryId: person.directoryId, email: person.email, slackId: person.slackId };
          action = 'request.submitted';
          details = {
            app: 'github',
            role: 'owner',
            policy: 'github-owner-jit',
            version: 'cee04e1e1a13a253fe9fb459cb90a01f6acd23ceb3667d1a5e3f5e81dc4a9c58',
            requestedSeconds: 3600,
            justification: justifications[seq % justifications.length],
            eligibility: 'member of platform-team',
            chain: ['manager', 'group security-team'],
          };
          withGrant = false;
          break;
        case 1:
          actor = { kind: 'system', component: 'chain' };
          action = 'step.started';
          details = {
            step: 1,
            of: 2,
            label: 'manager',
            required: 1,
            approvers: [people[(seq + 1) % people.length]!.email],
          };
          withGrant = false;
          break;
        case 2:
          actor = {
            kind: 'person',
            directoryId: people[(seq + 1) % people.length]!.directoryId,
            email: people[(seq + 1) % people.length]!.email,
          };
          action = 'step.approved';
          details = { step: 1, approvals: 1, required: 1, reason: null };
          withGrant = false;
          break;
        case 3:
          actor = { kind: 'system', component: 'chain' };
          action = 'grant.provisioningStarted';
          details = {
            method: 'okta_group',
            provision: { method: 'okta_group', group: 'github-owners' },
            durationSeconds: 3600,
          };
          break;
        case 4:
          actor = { kind: 'system', component: 'provisioner' };
          action = 'grant.provisioned';
          details = { method: 'okta_group', group: 'github-owners', alreadyMember: false, confirmed: true };
          break;
        case 5:
          actor = { kind: 'system', component: 'provisioner' };
          action = 'grant.activated';
          details = { expiresAt: new Date(ms + 3600_000).toISOString(), durationSeconds: 3600, method: 'okta_group' };
          break;
        case 6:
          actor = { kind: 'system', component: 'sweep' };
          action = 'grant.revocationStarted';
          details = { reason: 'expired', note: null, method: 'okta_group' };
          break;
        default:
          actor = { kind: 'system', component: 'provisioner' };
          action = 'grant.revoked';
          details = { reason: 'expired', note: null, by: 'system:sweep', method: 'okta_group', removed: true };
      }
      const body = {
        seq,
        at: new Date(ms).toISOString(),
        actor,
        action,
        requestId,
        grantId: withGrant ? grantId : null,
        details,
      };
      const hash = hashEvent(prev, body);
      insert.run(
        seq,
        body.at,
        JSON.stringify(actor),
        actorLabel(actor),
        action,
        requestId,
        body.grantId,
        JSON.stringify(details),
        prev,
        hash,
      );
      prev = hash;
    }
  });
  for (let done = 0; done < n; done += 50_000) insertMany(Math.min(50_000, n - done));
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
}
