/** Requests, their approval steps and the decisions on them, on PostgreSQL. */
import { and, asc, desc, eq, inArray, isNull, lte, sql, type SQL } from 'drizzle-orm';
import { AccessError } from '../../../domain/errors.js';
import type { AccessRequest, DecisionRecord, RequestStatus, StepRecord, StepStatus } from '../../../domain/records.js';
import type { RequestFilter, StoreTx } from '../../../operations/ports.js';
import {
  fromDecision,
  fromRequest,
  fromRequestPatch,
  fromStep,
  fromStepPatch,
  toDecision,
  toRequest,
  toStep,
} from '../row-mappers.js';
import { uniqueViolation } from './connection.js';
import * as t from './schema.js';
import { textArray, type PgSession } from './session.js';

type Methods =
  | 'getRequest'
  | 'getRequests'
  | 'findPendingRequest'
  | 'listRequests'
  | 'overdueRequests'
  | 'requestsAwaiting'
  | 'stepsDueToEscalate'
  | 'stepsDueForApproverReminder'
  | 'insertRequest'
  | 'updateRequest'
  | 'getSteps'
  | 'insertSteps'
  | 'updateStep'
  | 'getDecisions'
  | 'decisionsFor'
  | 'insertDecision';

export class PgRequestsRepo implements Pick<StoreTx, Methods> {
  constructor(private readonly s: PgSession) {}

  async getRequest(id: string): Promise<AccessRequest | undefined> {
    // In a transaction the request is locked: whoever decides it next waits for this one to commit.
    const query = this.s.db.select().from(t.requests).where(eq(t.requests.id, id));
    const [row] = this.s.inTransaction ? await query.for('update') : await query;
    return row && toRequest(row);
  }

  async getRequests(ids: readonly string[]): Promise<AccessRequest[]> {
    if (ids.length === 0) return [];
    const rows = await this.s.db
      .select()
      .from(t.requests)
      .where(sql`${t.requests.id} = any(${textArray(ids)})`);
    return rows.map(toRequest);
  }

  async findPendingRequest(requesterId: string, app: string, role: string): Promise<AccessRequest | undefined> {
    // Locks the (person, role) pair: two submissions for it run one after the other, so the
    // second sees the first's pending request or grant (findOpenGrant takes the same lock).
    await this.s.lockNamed(personRoleLock(requesterId, app, role));
    // The request form reads it at every open: prepared.
    const [row] = await this.s
      .prepared('pending_request_for_role', (db, name) =>
        db
          .select()
          .from(t.requests)
          .where(
            and(
              eq(t.requests.requesterId, sql.placeholder('requesterId')),
              eq(t.requests.app, sql.placeholder('app')),
              eq(t.requests.role, sql.placeholder('role')),
              sql`${t.requests.status} = 'pending_approval'`,
            ),
          )
          .prepare(name),
      )
      .execute({ requesterId, app, role });
    return row && toRequest(row);
  }

  async listRequests(filter: RequestFilter): Promise<AccessRequest[]> {
    const where: SQL[] = [];
    if (filter.status?.length) where.push(inArray(t.requests.status, filter.status));
    if (filter.requesterId) where.push(eq(t.requests.requesterId, filter.requesterId));
    if (filter.app) where.push(eq(t.requests.app, filter.app));
    if (filter.role) where.push(eq(t.requests.role, filter.role));
    const rows = await this.s.db
      .select()
      .from(t.requests)
      .where(and(...where))
      .orderBy(desc(t.requests.createdAt), desc(t.requests.id))
      .limit(filter.limit ?? 1000);
    return rows.map(toRequest);
  }

  async overdueRequests(now: string, limit: number): Promise<AccessRequest[]> {
    const rows = await this.s.db
      .select()
      .from(t.requests)
      .where(and(eq(t.requests.status, 'pending_approval'), lte(t.requests.approvalDeadline, now)))
      .orderBy(asc(t.requests.approvalDeadline))
      .limit(limit);
    return rows.map(toRequest);
  }

  async requestsAwaiting(approverId: string): Promise<AccessRequest[]> {
    const rows = await this.s.db
      .select({ request: t.requests })
      .from(t.requests)
      .innerJoin(
        t.approvalSteps,
        and(eq(t.approvalSteps.requestId, t.requests.id), eq(t.approvalSteps.index, t.requests.currentStep)),
      )
      .where(
        and(
          eq(t.requests.status, 'pending_approval'),
          eq(t.approvalSteps.status, 'open'),
          sql`(${t.approvalSteps.approvers} @> ${JSON.stringify([{ directoryId: approverId }])}::jsonb
            or ${t.approvalSteps.escalationApprovers} @> ${JSON.stringify([{ directoryId: approverId }])}::jsonb)`,
          sql`not exists (select 1 from decisions d where d.request_id = ${t.requests.id}
            and (d.approver_id = ${approverId} or d.on_behalf_of_id = ${approverId}))`,
        ),
      )
      .orderBy(asc(t.requests.createdAt), asc(t.requests.pos));
    return rows.map((r) => toRequest(r.request));
  }

  async stepsDueToEscalate(now: string, limit: number): Promise<StepRecord[]> {
    const rows = await this.s.db
      .select()
      .from(t.approvalSteps)
      .where(
        and(
          sql`${t.approvalSteps.status} = 'open'`,
          lte(t.approvalSteps.escalateAt, now),
          isNull(t.approvalSteps.escalatedAt),
        ),
      )
      .orderBy(asc(t.approvalSteps.escalateAt))
      .limit(limit);
    return rows.map(toStep);
  }

  async stepsDueForApproverReminder(now: string, limit: number): Promise<StepRecord[]> {
    const rows = await this.s.db
      .select()
      .from(t.approvalSteps)
      .where(and(sql`${t.approvalSteps.status} = 'open'`, lte(t.approvalSteps.nextReminderAt, now)))
      .orderBy(asc(t.approvalSteps.nextReminderAt))
      .limit(limit);
    return rows.map(toStep);
  }

  async insertRequest(request: AccessRequest): Promise<void> {
    try {
      await this.s.db.insert(t.requests).values(fromRequest(request));
    } catch (error) {
      if (uniqueViolation(error) === 'requests_one_pending') {
        throw new AccessError(
          'already_pending',
          `${request.requester.email} already has a pending request for ${request.app}/${request.role}`,
        );
      }
      throw error;
    }
  }

  async updateRequest(id: string, from: RequestStatus[], patch: Partial<AccessRequest>): Promise<boolean> {
    const values = fromRequestPatch(patch);
    if (Object.keys(values).length === 0) return false;
    const result = await this.s.db
      .update(t.requests)
      .set(values)
      .where(and(eq(t.requests.id, id), inArray(t.requests.status, from)));
    return result.rowCount === 1;
  }

  // ---- steps and decisions ----------------------------------------------------------------

  async getSteps(requestId: string): Promise<StepRecord[]> {
    const rows = await this.s.db
      .select()
      .from(t.approvalSteps)
      .where(eq(t.approvalSteps.requestId, requestId))
      .orderBy(asc(t.approvalSteps.index));
    return rows.map(toStep);
  }

  async insertSteps(steps: StepRecord[]): Promise<void> {
    if (steps.length) await this.s.db.insert(t.approvalSteps).values(steps.map(fromStep));
  }

  async updateStep(requestId: string, index: number, from: StepStatus[], patch: Partial<StepRecord>): Promise<boolean> {
    const values = fromStepPatch(patch);
    if (Object.keys(values).length === 0) return false;
    const result = await this.s.db
      .update(t.approvalSteps)
      .set(values)
      .where(
        and(
          eq(t.approvalSteps.requestId, requestId),
          eq(t.approvalSteps.index, index),
          inArray(t.approvalSteps.status, from),
        ),
      );
    return result.rowCount === 1;
  }

  async getDecisions(requestId: string): Promise<DecisionRecord[]> {
    const rows = await this.s.db
      .select()
      .from(t.decisions)
      .where(eq(t.decisions.requestId, requestId))
      .orderBy(asc(t.decisions.id));
    return rows.map(toDecision);
  }

  async decisionsFor(requestIds: readonly string[]): Promise<Map<string, DecisionRecord[]>> {
    const out = new Map<string, DecisionRecord[]>();
    if (requestIds.length === 0) return out;
    // One array parameter, however many ids: no statement grows with the list.
    const rows = await this.s.db
      .select()
      .from(t.decisions)
      .where(sql`${t.decisions.requestId} = any(${textArray(requestIds)})`)
      .orderBy(asc(t.decisions.id));
    for (const row of rows) {
      const list = out.get(row.requestId) ?? [];
      list.push(toDecision(row));
      out.set(row.requestId, list);
    }
    return out;
  }

  async insertDecision(decision: DecisionRecord): Promise<void> {
    try {
      await this.s.db.insert(t.decisions).values(fromDecision(decision));
    } catch (error) {
      const constraint = uniqueViolation(error);
      if (constraint === 'decisions_one_per_person' || constraint === 'decisions_one_per_delegator')
        throw new AccessError(
          'already_decided_step',
          'You already decided a step of this request (or someone did for the same approver); one person decides at most one step.',
        );
      throw error;
    }
  }
}

/** The lock name of one person's requests and grants of one role (see findPendingRequest). */
export function personRoleLock(personId: string, app: string, role: string): string {
  return `person-role:${personId}:${app}:${role}`;
}
