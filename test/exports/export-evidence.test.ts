import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CsvTableSink, FORMULA_START } from '../../src/adapters/csv/csv-table-sink.js';
import { withRawSqlite } from '../support/raw-sqlite.js';
import { hashEvent, verifyChain, type Actor, type AuditAction } from '../../src/domain/audit.js';
import { canonicalJson } from '../../src/domain/canonical.js';
import { AccessError } from '../../src/domain/errors.js';
import { exportEvidence } from '../../src/operations/exports/export-evidence.js';
import { NO_FILTERS } from '../../src/operations/exports/export-filters.js';
import type { TableSink } from '../../src/operations/exports/export-ports.js';
import { allEvents, exportOf } from './helpers.js';
import { EVE, HOSTILE, seedHistory, type SeededHistory } from './seeded-history.js';

let s: SeededHistory;
beforeEach(async () => {
  s = await seedHistory();
});
afterEach(async () => await s.h.close());

const neutralised = (text: string) => (FORMULA_START.test(text) ? `'${text}` : text);
const byId = (rows: Record<string, string>[], column: string) => new Map(rows.map((r) => [r[column]!, r]));

describe('the requests export', () => {
  it('has one row per request, with the lifecycle status of each', async () => {
    const { rows, summary } = await exportOf(s.h, 'requests');
    expect(summary.rows).toBe(14);
    const status = Object.fromEntries(
      Object.entries(s.req).map(([name, id]) => [name, byId(rows, 'request_id').get(id)?.status]),
    );
    expect(status).toEqual({
      pendingOwner: 'pending_approval',
      activeAws: 'active',
      shortenedAws: 'revoked',
      deniedAws: 'denied',
      cancelledOwner: 'cancelled',
      expiredOwner: 'approval_expired',
      failedMember: 'provisioning_failed',
      expiredBilling: 'revoked',
      relinquishedMember: 'revoked',
      revokedLaptop: 'revoked',
      offboardedMember: 'revoked',
      externalTriage: 'revoked',
      eveBilling: 'revoked',
      extension: 'approved',
    });
    const reasons = Object.fromEntries(
      Object.entries(s.req)
        .map(([name, id]) => [name, byId(rows, 'request_id').get(id)?.revocation_reason])
        .filter(([, r]) => r),
    );
    expect(reasons).toEqual({
      shortenedAws: 'expired',
      expiredBilling: 'expired',
      eveBilling: 'expired',
      relinquishedMember: 'relinquished',
      revokedLaptop: 'revoked',
      offboardedMember: 'offboarded',
      externalTriage: 'removed_externally',
    });
  });

  it('flattens each approval step into stable columns for the longest chain in the export', async () => {
    const { columns } = await exportOf(s.h, 'requests');
    const step = (n: number) =>
      ['label', 'asked', 'decided_by', 'decision', 'decided_at', 'fallback', 'escalated_at', 'escalation_asked'].map(
        (f) => `step_${n}_${f}`,
      );
    expect(columns).toEqual([
      'request_id',
      'kind',
      'extends_grant_id',
      'requester_name',
      'requester_email',
      'requester_slack_id',
      'requester_directory_id',
      'app',
      'role',
      'policy_name',
      'policy_version',
      'justification',
      'requested_seconds',
      'granted_seconds',
      'status',
      'request_status',
      'grant_status',
      'created_at',
      'decided_at',
      'decision_reason',
      ...step(1),
      ...step(2),
      ...step(3),
      'approval_summary',
      'auto_approve_rule',
      'grant_id',
      'provisioning_method',
      'provisioning_target',
      'provisioned_by',
      'provisioned_at',
      'expires_at',
      'extension_count',
      'extension_total_seconds',
      'revocation_started_at',
      'revoked_at',
      'revocation_reason',
      'revoked_by',
      'revocation_note',
      'break_glass',
      'break_glass_incident',
      'break_glass_review',
      'break_glass_reviewed_by',
      'break_glass_reviewed_at',
      'break_glass_review_reason',
    ]);
    // Only aws requests: the longest chain has one step, so one set of step columns.
    const aws = await exportOf(s.h, 'requests', { app: 'aws' });
    expect(aws.columns.filter((c) => c.startsWith('step_'))).toEqual(step(1));
  });

  it('shows who was asked, who decided, what and when, for each step', async () => {
    const rows = byId((await exportOf(s.h, 'requests')).rows, 'request_id');
    const pending = rows.get(s.req.pendingOwner)!;
    expect(pending).toMatchObject({
      requester_name: 'Ada Lovelace',
      requester_email: 'ada@example.com',
      requester_slack_id: 'U0ADA',
      requester_directory_id: 'u-ada',
      step_1_label: 'manager',
      step_1_asked: 'Marcus Chen <marcus@example.com>',
      step_1_decided_by: 'Marcus Chen <marcus@example.com>',
      step_1_decision: 'approved',
      step_2_label: 'group security-team',
      step_2_asked: 'Sam Rivera <sam@example.com>; Jordan Lee <jordan@example.com>; Kim Nguyen <kim@example.com>',
      step_2_decided_by: 'Sam Rivera <sam@example.com>',
      step_2_decision: 'open',
      step_2_decided_at: '',
      step_3_label: 'user ciso@example.com',
      step_3_asked: '',
      step_3_decision: 'waiting',
      grant_id: '',
      provisioning_method: '',
    });
    expect(pending.step_1_decided_at).toMatch(/^2026-03-05T12:\d\d:00\.000Z$/);
    expect(pending.approval_summary).toContain(
      '1. manager: approved by Marcus Chen <marcus@example.com> at 2026-03-05T',
    );
    expect(pending.approval_summary).toContain(
      '2. group security-team (2 approvals): approved by Sam Rivera <sam@example.com>',
    );
    expect(pending.approval_summary).toContain('3. user ciso@example.com: not reached');

    const denied = rows.get(s.req.deniedAws)!;
    expect(denied).toMatchObject({
      step_1_decision: 'denied',
      step_1_decided_by: 'Marcus Chen <marcus@example.com>',
      decision_reason: 'not on the project',
      step_2_label: '',
    });
    expect(denied.approval_summary).toBe(
      '1. manager: denied by Marcus Chen <marcus@example.com> at 2026-03-02T09:04:00.000Z: not on the project',
    );

    const fallback = rows.get(s.req.expiredOwner)!;
    expect(fallback.step_1_asked).toBe('Priya Patel <priya@example.com>; Grace Hopper <ciso@example.com>');
    expect(fallback.step_1_fallback).toContain('marcus@example.com has no manager in the directory');
    expect(fallback).toMatchObject({
      step_1_decision: 'closed',
      decision_reason: 'no decision within the approval timeout',
      requester_slack_id: 'U0MARCUS',
    });

    const cancelled = rows.get(s.req.cancelledOwner)!;
    expect(cancelled).toMatchObject({
      step_1_decision: 'closed',
      step_1_decided_at: '2026-03-02T09:06:00.000Z',
      decision_reason: 'cancelled by the requester',
    });
  });

  it('records durations as numbers, auto-approval, provisioning, extensions and revocation', async () => {
    const { rows, buffer } = await exportOf(s.h, 'requests');
    const r = byId(rows, 'request_id');
    const shortened = r.get(s.req.shortenedAws)!;
    expect(shortened).toMatchObject({
      requested_seconds: '7200',
      granted_seconds: '1800',
      provisioning_method: 'okta_group',
      provisioning_target: 'aws-admins',
    });
    expect(shortened.approval_summary).toContain('shortened to 1800 s');
    // Numbers are written as numbers: unquoted, no formula prefix.
    const line = buffer
      .toString('utf8')
      .split('\r\n')
      .find((l) => l.startsWith(s.req.shortenedAws))!;
    expect(line).toContain(',7200,1800,revoked,approved,revoked,');

    expect(r.get(s.req.failedMember)).toMatchObject({
      auto_approve_rule: 'approval: auto',
      approval_summary: 'auto-approved: approval: auto (the policy approves every eligible request)',
      provisioned_at: '',
      grant_status: 'provisioning_failed',
    });
    expect(r.get(s.req.expiredBilling)).toMatchObject({
      provisioning_method: 'webhook',
      provisioning_target: 'https://billing.example.com/hooks',
      provisioned_at: '2026-03-02T09:09:00.000Z',
      expires_at: '2026-03-03T09:09:00.000Z',
      revoked_by: 'system:sweep',
    });
    expect(r.get(s.req.revokedLaptop)).toMatchObject({
      provisioning_method: 'manual',
      provisioning_target: 'it-helpdesk',
      provisioned_by: 'Ian Murdock <ian@example.com>',
      revoked_by: 'priya@example.com',
      revocation_note: `'${HOSTILE.note}`,
    });
    expect(r.get(s.req.offboardedMember)).toMatchObject({
      extension_count: '1',
      extension_total_seconds: String(7 * 86400),
      revoked_by: 'system:offboarding',
      revocation_note: 'status check: directory status deprovisioned',
    });
    expect(r.get(s.req.extension)).toMatchObject({
      kind: 'extension',
      extends_grant_id: s.grant.offboardedMember,
      grant_id: '',
      requested_seconds: String(7 * 86400),
      auto_approve_rule: 'extension.approval: auto',
      justification: 'longer project',
    });
    expect(r.get(s.req.externalTriage)).toMatchObject({
      revoked_by: 'system:reconcile',
      revocation_note: 'not in github-members at reconcile',
    });
    expect(r.get(s.req.activeAws)).toMatchObject({ status: 'active', revoked_at: '', revocation_reason: '' });
  });

  it('neutralises formulas in justifications, names and notes, and keeps every other text exact', async () => {
    // A row written before the bot trimmed justifications: a leading tab must be caught too.
    withRawSqlite(s.h.dbPath, (db) =>
      db.prepare('UPDATE requests SET justification = ? WHERE id = ?').run('\t=cmd', s.req.failedMember),
    );
    const r = byId((await exportOf(s.h, 'requests')).rows, 'request_id');
    const justification = (name: keyof SeededHistory['req']) => r.get(s.req[name])!.justification;
    expect(justification('pendingOwner')).toBe(`'=HYPERLINK("http://x","y")`);
    expect(justification('shortenedAws')).toBe(`'=1+1`); // the request stored it trimmed
    expect(justification('deniedAws')).toBe(`'@SUM(1)\r\nx`);
    expect(justification('cancelledOwner')).toBe(`'-2+3`);
    expect(justification('expiredOwner')).toBe(`'+1`);
    expect(justification('failedMember')).toBe(`'\t=cmd`);
    expect(justification('expiredBilling')).toBe(HOSTILE.plain);
    expect(justification('relinquishedMember')).toBe('reviewing PRs');
    // Every stored justification comes back as stored, or with the `'` prefix when it starts a formula.
    for (const id of Object.values(s.req))
      expect(r.get(id)!.justification).toBe(neutralised((await s.h.store.getRequest(id))!.justification));
    expect(r.get(s.req.eveBilling)).toMatchObject({
      requester_name: `'${EVE.name}`,
      requester_email: EVE.email,
      justification: '',
    });
  });
});

describe('the access export', () => {
  it('has one row per grant: who held which role, from when to when, and how it ended', async () => {
    const { rows, summary, columns } = await exportOf(s.h, 'access');
    expect(summary.rows).toBe(9);
    expect(columns).toEqual([
      'grant_id',
      'app',
      'role',
      'holder_name',
      'holder_email',
      'holder_slack_id',
      'holder_directory_id',
      'sensitive',
      'status',
      'created_at',
      'start',
      'expires_at',
      'end',
      'granted_seconds',
      'extension_count',
      'extension_total_seconds',
      'revocation_reason',
      'revoked_by',
      'revocation_note',
      'provisioning_method',
      'already_member',
      'request_id',
      'policy_name',
      'policy_version',
      'break_glass',
      'break_glass_review',
      'break_glass_reviewed_by',
      'break_glass_reviewed_at',
    ]);
    const g = byId(rows, 'grant_id');
    expect(g.get(s.grant.activeAws)).toMatchObject({
      app: 'aws',
      role: 'admin',
      holder_email: 'ada@example.com',
      holder_slack_id: 'U0ADA',
      sensitive: 'true',
      status: 'active',
      end: '',
      request_id: s.req.activeAws,
      policy_name: 'aws-admin',
    });
    expect(g.get(s.grant.shortenedAws)).toMatchObject({
      status: 'revoked',
      start: '2026-03-02T09:02:00.000Z',
      expires_at: '2026-03-02T09:32:00.000Z',
      end: '2026-03-05T12:00:00.000Z',
      granted_seconds: '1800',
      revocation_reason: 'expired',
    });
    expect(g.get(s.grant.failedMember)).toMatchObject({
      status: 'provisioning_failed',
      start: '',
      end: '',
      holder_email: 'priya@example.com',
    });
    expect(g.get(s.grant.relinquishedMember)).toMatchObject({
      revocation_reason: 'relinquished',
      already_member: 'true',
      revoked_by: 'alan@example.com',
    });
    expect(g.get(s.grant.revokedLaptop)).toMatchObject({
      revocation_reason: 'revoked',
      revocation_note: `'${HOSTILE.note}`,
      provisioning_method: 'manual',
      already_member: '',
    });
    expect(g.get(s.grant.offboardedMember)).toMatchObject({
      revocation_reason: 'offboarded',
      extension_count: '1',
      extension_total_seconds: '604800',
      expires_at: '2026-04-09T10:05:00.000Z',
    });
    expect(g.get(s.grant.externalTriage)).toMatchObject({ revocation_reason: 'removed_externally', status: 'revoked' });
    expect(g.get(s.grant.eveBilling)).toMatchObject({ holder_name: `'${EVE.name}`, revocation_reason: 'expired' });
    const version = (await s.h.store.getGrant(s.grant.activeAws))!.policyVersion;
    expect(g.get(s.grant.activeAws)!.policy_version).toBe(version);
  });
});

describe('the events export', () => {
  it('has every event with its actor, canonical details and hashes: the chain re-verifies from the CSV alone', async () => {
    const before = await allEvents(s.h);
    const { rows, summary } = await exportOf(s.h, 'events');
    expect(rows).toHaveLength(before.length);
    expect(summary.rows).toBe(before.length);
    let prev = '0'.repeat(64);
    rows.forEach((row, i) => {
      const stored = before[i]!;
      expect(Number(row.seq)).toBe(stored.seq);
      expect(row.details).toBe(canonicalJson(stored.details));
      const actor: Actor =
        row.actor_kind === 'system'
          ? { kind: 'system', component: row.actor_component! }
          : {
              kind: 'person',
              directoryId: row.actor_directory_id!,
              email: row.actor_email!,
              ...(row.actor_slack_id ? { slackId: row.actor_slack_id } : {}),
            };
      const event = {
        seq: Number(row.seq),
        at: row.at!,
        actor,
        action: row.action as AuditAction,
        requestId: row.request_id || null,
        grantId: row.grant_id || null,
        details: JSON.parse(row.details!),
      };
      expect(row.prev_hash).toBe(prev);
      expect(hashEvent(row.prev_hash!, event)).toBe(row.hash);
      prev = row.hash!;
    });
    expect(prev).toBe(summary.auditHead);
    const byAction = (action: string) => rows.filter((r) => r.action === action);
    expect(
      byAction('step.approved').some(
        (r) =>
          r.actor_kind === 'person' &&
          r.actor_email === 'marcus@example.com' &&
          r.actor_directory_id === 'u-marcus' &&
          r.actor_slack_id === 'U0MARCUS',
      ),
    ).toBe(true);
    expect(
      byAction('grant.revoked')
        .map((r) => JSON.parse(r.details!).reason)
        .sort(),
    ).toEqual(['expired', 'expired', 'expired', 'offboarded', 'relinquished', 'removed_externally', 'revoked']);
  });
});

describe('the policies export', () => {
  it('has every policy version with its definition and the period it was in force', async () => {
    const { rows, columns } = await exportOf(s.h, 'policies');
    expect(columns).toEqual([
      'policy_name',
      'version',
      'app',
      'role',
      'first_seen_at',
      'last_seen_at',
      'in_force_until',
      'current',
      'definition',
    ]);
    expect(rows).toHaveLength(7);
    const owner = rows.filter((r) => r.policy_name === 'github-owner-jit');
    expect(owner.map((r) => [r.first_seen_at, r.in_force_until, r.current])).toEqual([
      ['2026-03-01T08:00:00.000Z', '2026-03-04T08:00:00.000Z', 'false'],
      ['2026-03-04T08:00:00.000Z', '', 'true'],
    ]);
    for (const row of rows) {
      const stored = (await s.h.store.getPolicyVersion(row.policy_name!, row.version!))!;
      expect(row.definition).toBe(canonicalJson(stored.definition));
    }
    expect(JSON.parse(owner[1]!.definition!).role.duration).toEqual({ default: '1h', max: '8h' });
  });
});

describe('the export as evidence', () => {
  it('prints the audit head the export was read at: the head verifyChain finds, and the prevHash of the export event', async () => {
    const before = verifyChain(await allEvents(s.h));
    const { summary } = await exportOf(s.h, 'requests');
    expect(summary.auditHead).toBe(before.head);
    expect(summary.auditHeadSeq).toBe(before.count);
    const after = await allEvents(s.h);
    const own = after.at(-1)!;
    expect(own).toMatchObject({ seq: summary.exportEventSeq, action: 'export.created', prevHash: summary.auditHead });
    // `audit verify --expect-head` accepts the printed head later.
    expect(verifyChain(after, summary.auditHead)).toMatchObject({ ok: true, count: before.count + 1 });
  });

  it('logs itself once complete: who, which export, the filters, the row count and the file SHA-256', async () => {
    const { summary, buffer } = await exportOf(s.h, 'requests', { from: '2026-03-02', to: '2026-03-03', app: 'aws' });
    const sha = createHash('sha256').update(buffer).digest('hex');
    expect(summary).toMatchObject({
      rows: 2,
      sha256: sha,
      bytes: buffer.length,
      period: { from: '2026-03-02T00:00:00.000Z', to: '2026-03-03T00:00:00.000Z' },
    });
    const event = (await allEvents(s.h)).at(-1)!;
    expect(event).toMatchObject({
      action: 'export.created',
      actor: { kind: 'system', component: 'test' },
      requestId: null,
      grantId: null,
      details: {
        export: 'requests',
        filters: { from: '2026-03-02T00:00:00.000Z', to: '2026-03-03T00:00:00.000Z', app: 'aws' },
        rows: 2,
        sha256: sha,
        bytes: buffer.length,
        auditHead: summary.auditHead,
        auditHeadSeq: summary.auditHeadSeq,
        destination: 'test',
      },
    });
  });

  it('lets only admins export, checked live, and logs the admin as the actor', async () => {
    const eventsBefore = (await allEvents(s.h)).length;
    const refused = await exportOf(s.h, 'events', {}, { kind: 'admin', admin: await s.h.as('alan@example.com') }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(AccessError);
    expect((refused as AccessError).code).toBe('not_admin');
    expect(await allEvents(s.h)).toHaveLength(eventsBefore); // nothing exported, nothing logged

    await exportOf(s.h, 'access', {}, { kind: 'admin', admin: await s.h.as('priya@example.com') });
    expect((await allEvents(s.h)).at(-1)!.actor).toEqual({
      kind: 'person',
      directoryId: 'u-priya',
      email: 'priya@example.com',
    });

    await s.h.yaml.removeFromGroup('u-priya', 'access-admins');
    const again = await exportOf(s.h, 'access', {}, { kind: 'admin', admin: await s.h.as('priya@example.com') }).catch(
      (e: unknown) => e,
    );
    expect((again as AccessError).code).toBe('not_admin');
  });

  it('reads one snapshot: events the bot writes during a long export are not in it, and the head still matches the rows', async () => {
    const headBefore = await s.h.store.auditHead();
    const chunks: Buffer[] = [];
    const csv = new CsvTableSink(new Writable({ write: (chunk: Buffer, _e, cb) => (chunks.push(chunk), cb()) }));
    let written = 0;
    // The bot keeps working while the export is being written.
    const busy: TableSink = {
      start: (columns) => csv.start(columns),
      write: async (rows) => {
        await s.h.store.transaction(
          async (tx) =>
            await tx.appendAudit({
              at: '2026-03-06T00:00:00.000Z',
              actor: { kind: 'system', component: 'sweep' },
              action: 'job.failed',
              details: { n: ++written },
            }),
        );
        await csv.write(rows);
      },
      finish: () => csv.finish(),
      abort: (e) => csv.abort(e),
    };
    const summary = await exportEvidence(
      s.h.deps,
      { kind: 'events', filters: NO_FILTERS, requestedBy: { kind: 'system', component: 'test' }, destination: 'test' },
      busy,
      { batchSize: 10 },
    );
    expect(written).toBeGreaterThan(5);
    expect(summary).toMatchObject({ rows: headBefore.seq, auditHead: headBefore.hash, auditHeadSeq: headBefore.seq });
    expect(Buffer.concat(chunks).toString('utf8')).not.toContain('job.failed');
    // Other events came between the head and the export's own event, and the chain is whole.
    expect(summary.exportEventSeq).toBe(headBefore.seq + written + 1);
    expect(verifyChain(await allEvents(s.h), summary.auditHead).ok).toBe(true);
  });

  it('logs nothing when the file cannot be written', async () => {
    const before = (await allEvents(s.h)).length;
    const failing = new Writable({ write: (_chunk, _e, cb) => cb(new Error('disk full')) });
    const promise = exportEvidence(
      s.h.deps,
      { kind: 'events', filters: NO_FILTERS, requestedBy: { kind: 'system', component: 'test' }, destination: 'test' },
      new CsvTableSink(failing),
      { batchSize: 10 },
    );
    await expect(promise).rejects.toThrow('disk full');
    expect(await allEvents(s.h)).toHaveLength(before);
  });

  it('reads in batches of any size to the same bytes', async () => {
    const whole = await exportOf(s.h, 'requests', {}, { kind: 'system', component: 'test' }, { batchSize: 1000 });
    const small = await exportOf(s.h, 'requests', {}, { kind: 'system', component: 'test' }, { batchSize: 3 });
    expect(small.summary.sha256).toBe(whole.summary.sha256);
    const events = await exportOf(
      s.h,
      'events',
      { to: '2026-03-05T12:00:00Z' },
      { kind: 'system', component: 'test' },
      { batchSize: 7 },
    );
    const eventsWhole = await exportOf(
      s.h,
      'events',
      { to: '2026-03-05T12:00:00Z' },
      { kind: 'system', component: 'test' },
    );
    expect(events.summary.sha256).toBe(eventsWhole.summary.sha256);
  });
});
