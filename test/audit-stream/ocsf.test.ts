/** The OCSF 1.3 mapping of a real lifecycle's events (README, "OCSF mapping"). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS, type AuditEvent } from '../../src/domain/audit.js';
import { ocsfRecord } from '../../src/operations/audit-stream/ocsf.js';
import { auditRecord, NO_SUBJECTS, type AuditSubjects } from '../../src/operations/audit-stream/records.js';
import { createHarness, type Harness } from '../support/lifecycle-harness.js';
import { grantsExpired, grantsGiven, storedLog } from './lifecycle-events.js';

let h: Harness;
beforeEach(() => {
  h = createHarness();
});
afterEach(async () => await h.close());

async function subjects(events: AuditEvent[]): Promise<AuditSubjects> {
  const grants = await h.store.getGrants([...new Set(events.flatMap((e) => (e.grantId ? [e.grantId] : [])))]);
  const requests = await h.store.getRequests([
    ...new Set([...events.flatMap((e) => (e.requestId ? [e.requestId] : [])), ...grants.map((g) => g.requestId)]),
  ]);
  return { grants: new Map(grants.map((g) => [g.id, g])), requests: new Map(requests.map((r) => [r.id, r])) };
}

describe('OCSF records', () => {
  it('map group membership changes to Group Management, grants to User Access Management and decisions to Entity Management', async () => {
    await grantsGiven(h);
    await grantsExpired(h);
    const events = await storedLog(h);
    const records = new Map(events.map((e) => [e, ocsfRecord(e, NO_SUBJECTS)]));
    const ctx = await subjects(events);
    const of = (action: string, nth = 0) => {
      const event = events.filter((e) => e.action === action)[nth]!;
      return ocsfRecord(event, ctx);
    };
    const ada = { uid: 'u-ada', email_addr: 'ada@example.com', name: 'Ada Lovelace', type_id: 1, type: 'User' };

    expect(of('grant.provisioned')).toMatchObject({
      class_uid: 3006,
      class_name: 'Group Management',
      activity_id: 3,
      activity_name: 'Add User',
      type_uid: 300603,
      type_name: 'Group Management: Add User',
      group: { name: 'aws-admins' },
      user: ada,
      privileges: ['aws/admin'],
      resource: { uid: 'aws', name: 'aws', type: 'application' },
      status_id: 1,
    });
    expect(of('grant.activated')).toMatchObject({
      class_uid: 3005,
      activity_id: 1,
      type_uid: 300501,
      activity_name: 'Assign Privileges',
      user: ada,
      privileges: ['aws/admin'],
    });
    expect(of('grant.revoked')).toMatchObject({
      class_uid: 3006,
      activity_id: 4,
      activity_name: 'Remove User',
      group: { name: 'aws-admins' },
      user: ada,
    });
    const denied = of('request.denied');
    expect(denied).toMatchObject({
      class_uid: 3004,
      activity_id: 3,
      activity_name: 'Update',
      entity: { type: 'access_request', uid: expect.stringMatching(/^req_/), name: 'github/owner' },
      entity_result: { type: 'access_request', data: { status: 'denied' } },
      comment: 'not this week',
      user: { uid: 'u-alan', email_addr: 'alan@example.com' },
      actor: { app_name: 'access-bot', user: { uid: 'u-marcus', email_addr: 'marcus@example.com', type: 'User' } },
      message: 'Access request denied: github/owner for alan@example.com',
    });
    expect(of('request.submitted')).toMatchObject({ class_uid: 3004, activity_id: 1, activity_name: 'Create' });
    expect(of('request.autoApproved')).toMatchObject({
      class_uid: 3004,
      activity_id: 3,
      entity: { name: 'github/member' },
      actor: { user: { name: 'system:policy', type: 'System' } },
    });

    // Every record: the base attributes, the seq for dedupe, and the json record unmapped.
    for (const [event, record] of records) {
      expect(record).toMatchObject({
        category_uid: 3,
        category_name: 'Identity & Access Management',
        type_uid: (record.class_uid as number) * 100 + (record.activity_id as number),
        time: Date.parse(event.at),
        severity_id: expect.any(Number),
        metadata: {
          version: '1.3.0',
          product: { name: 'access-bot', vendor_name: 'access-bot' },
          uid: String(event.seq),
          sequence: event.seq,
          original_time: event.at,
          event_code: event.action,
        },
        unmapped: { access_bot: auditRecord(event) },
      });
    }
  });

  it('maps every audit action, with a user or privileges where the class asks for them', () => {
    for (const action of AUDIT_ACTIONS) {
      const event: AuditEvent = {
        seq: 1,
        at: '2026-03-02T09:00:00.000Z',
        actor: { kind: 'system', component: 'test' },
        action,
        requestId: null,
        grantId: null,
        details: { group: 'g', removed: true, person: { directoryId: 'u-1', email: 'p@example.com' } },
        prevHash: '0'.repeat(64),
        hash: '1'.repeat(64),
      };
      const record = ocsfRecord(event, NO_SUBJECTS);
      expect([3004, 3005, 3006], action).toContain(record.class_uid);
      expect(typeof record.activity_name, action).toBe('string');
      expect(typeof record.message, action).toBe('string');
      if (record.class_uid === 3004) expect(record.entity, action).toMatchObject({ type: expect.any(String) });
    }
  });

  it('marks emergency access High (taken, not justified, overdue) and delegations as their own entity', () => {
    const event = (action: AuditEvent['action'], details: Record<string, unknown>): AuditEvent => ({
      seq: 7,
      at: '2026-03-02T09:00:00.000Z',
      actor: { kind: 'system', component: 'test' },
      action,
      requestId: 'req_1',
      grantId: 'grt_1',
      details,
      prevHash: '0'.repeat(64),
      hash: '1'.repeat(64),
    });
    const invoked = ocsfRecord(event('breakGlass.invoked', { justification: 'payments down' }), NO_SUBJECTS);
    expect(invoked).toMatchObject({ class_uid: 3005, activity_id: 99, severity_id: 4 });
    expect(String(invoked.message)).toContain('Emergency access taken without approval');
    expect(
      ocsfRecord(event('breakGlass.reviewed', { outcome: 'not_justified', reason: 'no incident' }), NO_SUBJECTS),
    ).toMatchObject({ class_uid: 3005, severity_id: 4, message: expect.stringContaining('not justified') });
    expect(ocsfRecord(event('breakGlass.reviewed', { outcome: 'justified' }), NO_SUBJECTS)).toMatchObject({
      severity_id: 1,
    });
    expect(ocsfRecord(event('breakGlass.reviewOverdue', { day: 0 }), NO_SUBJECTS)).toMatchObject({ severity_id: 4 });
    expect(ocsfRecord(event('delegation.created', { delegationId: 'dlg_1' }), NO_SUBJECTS)).toMatchObject({
      class_uid: 3004,
      activity_id: 1,
      entity: { type: 'approval_delegation', uid: 'dlg_1' },
    });
    expect(ocsfRecord(event('delegation.ended', { delegationId: 'dlg_1', reason: 'off' }), NO_SUBJECTS)).toMatchObject({
      class_uid: 3004,
      activity_id: 4,
      entity: { type: 'approval_delegation', uid: 'dlg_1' },
    });
    expect(ocsfRecord(event('step.escalated', { step: 1 }), NO_SUBJECTS)).toMatchObject({
      class_uid: 3004,
      activity_id: 3,
    });
  });
});
