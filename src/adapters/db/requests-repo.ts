/** Requests, their approval steps and the decisions on them, on SQLite. */
import { and, asc, desc, eq, inArray, isNull, lte, sql } from 'drizzle-orm';
import { AccessError } from '../../domain/errors.js';
import type { AccessRequest, DecisionRecord, RequestStatus, StepRecord, StepStatus } from '../../domain/records.js';
import type { RequestFilter } from '../../operations/ports.js';
import { isUniqueViolation, type Connection } from './open-database.js';
import {
  fromDecision,
  fromRequest,
  fromRequestPatch,
  fromStep,
  fromStepPatch,
  toDecision,
  toRequest,
  toStep,
  type StepRow,
} from './row-mappers.js';
import { inPlaceholders, limitInText, listParams } from './prepared-query.js';
import * as t from './schema.js';
import { CHUNK, placeholdersFor, toDriver, type SyncPort } from './sync-port.js';

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

export class RequestsRepo implements SyncPort<Methods> {
  constructor(private readonly c: Connection) {}

  getRequest(id: string): AccessRequest | undefined {
    const row = this.c
      .prepared('getRequest', (db) =>
        db
          .select()
          .from(t.requests)
          .where(eq(t.requests.id, sql.placeholder('id'))),
      )
      .get({ id });
    return row && toRequest(row);
  }

  getRequests(ids: readonly string[]): AccessRequest[] {
    const out: AccessRequest[] = [];
    for (let i = 0; i < ids.length; i += CHUNK) {
      out.push(
        ...this.c.db
          .select()
          .from(t.requests)
          .where(inArray(t.requests.id, ids.slice(i, i + CHUNK)))
          .all()
          .map(toRequest),
      );
    }
    return out;
  }

  findPendingRequest(requesterId: string, app: string, role: string): AccessRequest | undefined {
    // The status is a literal, as in the partial index requests_one_pending: a bound parameter
    // there makes SQLite re-prepare the statement on every run.
    const row = this.c
      .prepared('findPendingRequest', (db) =>
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
          ),
      )
      .get({ requesterId, app, role });
    return row && toRequest(row);
  }

  listRequests(filter: RequestFilter): AccessRequest[] {
    const { status = [], requesterId, app, role } = filter;
    // One statement per filter shape (which filters, how many statuses, the limit), built once.
    const limit = filter.limit ?? 1000;
    const shape = [status.length, !!requesterId, !!app, !!role, limit].join();
    const statement = this.c.prepared(`listRequests:${shape}`, (db) =>
      db
        .select()
        .from(t.requests)
        .where(
          and(
            status.length ? inPlaceholders(t.requests.status, 'status', status.length) : undefined,
            requesterId ? eq(t.requests.requesterId, sql.placeholder('requesterId')) : undefined,
            app ? eq(t.requests.app, sql.placeholder('app')) : undefined,
            role ? eq(t.requests.role, sql.placeholder('role')) : undefined,
          ),
        )
        .orderBy(desc(t.requests.createdAt), desc(t.requests.id))
        .limit(limitInText(limit)),
    );
    return statement.all({ ...listParams('status', status), requesterId, app, role }).map(toRequest);
  }

  overdueRequests(now: string, limit: number): AccessRequest[] {
    return this.c
      .prepared(`overdueRequests:${limit}`, (db) =>
        db
          .select()
          .from(t.requests)
          .where(
            and(eq(t.requests.status, 'pending_approval'), lte(t.requests.approvalDeadline, sql.placeholder('now'))),
          )
          .orderBy(asc(t.requests.approvalDeadline))
          .limit(limitInText(limit)),
      )
      .all({ now })
      .map(toRequest);
  }

  requestsAwaiting(approverId: string): AccessRequest[] {
    const approver = sql.placeholder('approverId');
    const rows = this.c
      .prepared('requestsAwaiting', (db) =>
        db
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
              sql`(exists (select 1 from json_each(${t.approvalSteps.approvers}) where json_extract(value, '$.directoryId') = ${approver})
                or exists (select 1 from json_each(${t.approvalSteps.escalationApprovers}) where json_extract(value, '$.directoryId') = ${approver}))`,
              sql`not exists (select 1 from decisions d where d.request_id = ${t.requests.id} and (d.approver_id = ${approver} or d.on_behalf_of_id = ${approver}))`,
            ),
          )
          .orderBy(asc(t.requests.createdAt)),
      )
      .all({ approverId });
    return rows.map((r) => toRequest(r.request));
  }

  stepsDueToEscalate(now: string, limit: number): StepRecord[] {
    return this.c
      .prepared(`stepsDueToEscalate:${limit}`, (db) =>
        db
          .select()
          .from(t.approvalSteps)
          .where(
            and(
              sql`${t.approvalSteps.status} = 'open'`,
              lte(t.approvalSteps.escalateAt, sql.placeholder('now')),
              isNull(t.approvalSteps.escalatedAt),
            ),
          )
          .orderBy(asc(t.approvalSteps.escalateAt))
          .limit(limitInText(limit)),
      )
      .all({ now })
      .map(toStep);
  }

  stepsDueForApproverReminder(now: string, limit: number): StepRecord[] {
    return this.c
      .prepared(`stepsDueForApproverReminder:${limit}`, (db) =>
        db
          .select()
          .from(t.approvalSteps)
          .where(
            and(sql`${t.approvalSteps.status} = 'open'`, lte(t.approvalSteps.nextReminderAt, sql.placeholder('now'))),
          )
          .orderBy(asc(t.approvalSteps.nextReminderAt))
          .limit(limitInText(limit)),
      )
      .all({ now })
      .map(toStep);
  }

  insertRequest(request: AccessRequest): void {
    try {
      this.c.insert(t.requests, fromRequest(request));
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new AccessError(
          'already_pending',
          `${request.requester.email} already has a pending request for ${request.app}/${request.role}`,
        );
      }
      throw error;
    }
  }

  updateRequest(id: string, from: RequestStatus[], patch: Partial<AccessRequest>): boolean {
    const values = fromRequestPatch(patch);
    const keys = Object.keys(values);
    if (keys.length === 0) return false;
    // One statement per shape (columns set, statuses allowed): the code has a handful of them.
    const statement = this.c.prepared(`updateRequest:${keys.join(',')}:${from.join(',')}`, (db) =>
      db
        .update(t.requests)
        .set(placeholdersFor(t.requests, keys))
        .where(and(eq(t.requests.id, sql.placeholder('__id')), inArray(t.requests.status, from))),
    );
    return statement.run({ ...toDriver(t.requests, values), __id: id }).changes === 1;
  }

  // ---- steps and decisions ----------------------------------------------------------------

  getSteps(requestId: string): StepRecord[] {
    return this.c
      .prepared('getSteps', (db) =>
        db
          .select()
          .from(t.approvalSteps)
          .where(eq(t.approvalSteps.requestId, sql.placeholder('requestId')))
          .orderBy(asc(t.approvalSteps.index)),
      )
      .all({ requestId })
      .map(toStep);
  }

  insertSteps(steps: StepRecord[]): void {
    for (const step of steps) this.c.insert(t.approvalSteps, fromStep(step));
  }

  updateStep(requestId: string, index: number, from: StepStatus[], patch: Partial<StepRecord>): boolean {
    const values = fromStepPatch(patch);
    const keys = Object.keys(values) as (keyof StepRow)[];
    if (keys.length === 0) return false;
    const statement = this.c.prepared(`updateStep:${keys.join(',')}:${from.join(',')}`, (db) =>
      db
        .update(t.approvalSteps)
        .set(placeholdersFor(t.approvalSteps, keys))
        .where(
          and(
            eq(t.approvalSteps.requestId, sql.placeholder('__id')),
            eq(t.approvalSteps.index, sql.placeholder('__index')),
            inArray(t.approvalSteps.status, from),
          ),
        ),
    );
    return statement.run({ ...toDriver(t.approvalSteps, values), __id: requestId, __index: index }).changes === 1;
  }

  getDecisions(requestId: string): DecisionRecord[] {
    return this.c
      .prepared('getDecisions', (db) =>
        db
          .select()
          .from(t.decisions)
          .where(eq(t.decisions.requestId, sql.placeholder('requestId')))
          .orderBy(asc(t.decisions.id)),
      )
      .all({ requestId })
      .map(toDecision);
  }

  decisionsFor(requestIds: readonly string[]): Map<string, DecisionRecord[]> {
    const out = new Map<string, DecisionRecord[]>();
    for (let i = 0; i < requestIds.length; i += CHUNK) {
      const rows = this.c.db
        .select()
        .from(t.decisions)
        .where(inArray(t.decisions.requestId, requestIds.slice(i, i + CHUNK)))
        .orderBy(asc(t.decisions.id))
        .all();
      for (const row of rows) {
        const list = out.get(row.requestId) ?? [];
        list.push(toDecision(row));
        out.set(row.requestId, list);
      }
    }
    return out;
  }

  insertDecision(decision: DecisionRecord): void {
    try {
      this.c.insert(t.decisions, fromDecision(decision));
    } catch (error) {
      if (isUniqueViolation(error))
        throw new AccessError(
          'already_decided_step',
          'You already decided a step of this request (or someone did for the same approver); one person decides at most one step.',
        );
      throw error;
    }
  }
}
