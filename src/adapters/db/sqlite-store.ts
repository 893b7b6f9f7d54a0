/**
 * The store port on SQLite (drizzle + better-sqlite3). All SQL lives here and in schema.ts; the
 * operations see records and conditional updates only.
 */
import type Database from 'better-sqlite3';
import { and, asc, desc, eq, gt, gte, inArray, isNotNull, lt, lte, ne, or, sql, type SQL } from 'drizzle-orm';
import { AccessError } from '../../domain/errors.js';
import { canonicalize } from '../../domain/canonical.js';
import { actorLabel, GENESIS_HASH, hashEvent, type AuditAction, type AuditEvent, type AuditEventInput } from '../../domain/audit.js';
import type {
  AccessRequest,
  DecisionRecord,
  ExtensionRecord,
  Grant,
  GrantStatus,
  IdentityBinding,
  JobPayload,
  JobRecord,
  PolicyVersionRecord,
  RequestStatus,
  StepRecord,
  StepStatus,
  TaskRecord,
} from '../../domain/records.js';
import type { GrantFilter, LeaseRecord, RequestFilter, Store, StoreTx } from '../../operations/ports.js';
import { openDatabase, type Db } from './open-database.js';
import * as t from './schema.js';

type RequestRow = typeof t.requests.$inferSelect;
type StepRow = typeof t.approvalSteps.$inferSelect;
type DecisionRow = typeof t.decisions.$inferSelect;
type GrantRow = typeof t.grants.$inferSelect;
type TaskRow = typeof t.tasks.$inferSelect;
type JobRow = typeof t.jobs.$inferSelect;
type AuditRow = typeof t.auditEvents.$inferSelect;

/** Ids per `IN (...)` list. */
const CHUNK = 500;

export class SqliteStore implements Store, StoreTx {
  private constructor(
    readonly sqlite: Database.Database,
    readonly db: Db,
  ) {}

  /**
   * Prepared statements for the queries every sweep runs thousands of times. Building a drizzle
   * query costs far more than SQLite running it (bench/sweep-bench.ts), so the hot ones are built
   * once per connection, with placeholders, and reused.
   */
  private readonly prepared = new Map<string, unknown>();

  private stmt<T>(key: string, build: () => T): T {
    let statement = this.prepared.get(key) as T | undefined;
    if (statement === undefined) {
      statement = build();
      this.prepared.set(key, statement);
    }
    return statement;
  }

  static open(path: string, options: { busyTimeoutMs?: number } = {}): SqliteStore {
    const { sqlite, db } = openDatabase(path, options);
    return new SqliteStore(sqlite, db);
  }

  transaction<T>(fn: (tx: StoreTx) => T): T {
    // better-sqlite3's .immediate() issues BEGIN IMMEDIATE: the write lock is taken before the
    // first read, so two processes cannot both read the same audit head and fork the chain.
    return this.sqlite.transaction(() => fn(this)).immediate();
  }

  close(): void {
    if (this.sqlite.open) this.sqlite.close();
  }

  // ---- requests ---------------------------------------------------------------------------

  getRequest(id: string): AccessRequest | undefined {
    const row = this.db.select().from(t.requests).where(eq(t.requests.id, id)).get();
    return row && toRequest(row);
  }

  findPendingRequest(requesterId: string, app: string, role: string): AccessRequest | undefined {
    // Prepared: every `/access request <app> <role>` runs this before the modal is updated. The
    // status is a literal, as in the partial index requests_one_pending: a bound parameter there
    // makes SQLite re-prepare the statement on every run.
    const row = this.stmt('findPendingRequest', () =>
      this.db
        .select()
        .from(t.requests)
        .where(and(eq(t.requests.requesterId, sql.placeholder('requesterId')), eq(t.requests.app, sql.placeholder('app')), eq(t.requests.role, sql.placeholder('role')), sql`${t.requests.status} = 'pending_approval'`))
        .prepare(),
    ).get({ requesterId, app, role });
    return row && toRequest(row);
  }

  listRequests(filter: RequestFilter): AccessRequest[] {
    const where: SQL[] = [];
    if (filter.status?.length) where.push(inArray(t.requests.status, filter.status));
    if (filter.requesterId) where.push(eq(t.requests.requesterId, filter.requesterId));
    if (filter.app) where.push(eq(t.requests.app, filter.app));
    if (filter.role) where.push(eq(t.requests.role, filter.role));
    return this.db
      .select()
      .from(t.requests)
      .where(and(...where))
      .orderBy(desc(t.requests.createdAt), desc(t.requests.id))
      .limit(filter.limit ?? 1000)
      .all()
      .map(toRequest);
  }

  overdueRequests(now: string, limit: number): AccessRequest[] {
    return this.db
      .select()
      .from(t.requests)
      .where(and(eq(t.requests.status, 'pending_approval'), lte(t.requests.approvalDeadline, now)))
      .orderBy(asc(t.requests.approvalDeadline))
      .limit(limit)
      .all()
      .map(toRequest);
  }

  requestsAwaiting(approverId: string): AccessRequest[] {
    const rows = this.db
      .select({ request: t.requests })
      .from(t.requests)
      .innerJoin(t.approvalSteps, and(eq(t.approvalSteps.requestId, t.requests.id), eq(t.approvalSteps.index, t.requests.currentStep)))
      .where(
        and(
          eq(t.requests.status, 'pending_approval'),
          eq(t.approvalSteps.status, 'open'),
          sql`exists (select 1 from json_each(${t.approvalSteps.approvers}) where json_extract(value, '$.directoryId') = ${approverId})`,
          sql`not exists (select 1 from decisions d where d.request_id = ${t.requests.id} and d.approver_id = ${approverId})`,
        ),
      )
      .orderBy(asc(t.requests.createdAt))
      .all();
    return rows.map((r) => toRequest(r.request));
  }

  insertRequest(request: AccessRequest): void {
    try {
      this.db.insert(t.requests).values(fromRequest(request)).run();
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new AccessError('already_pending', `${request.requester.email} already has a pending request for ${request.app}/${request.role}`);
      }
      throw error;
    }
  }

  updateRequest(id: string, from: RequestStatus[], patch: Partial<AccessRequest>): boolean {
    const values = fromRequestPatch(patch);
    if (Object.keys(values).length === 0) return false;
    const result = this.db
      .update(t.requests)
      .set(values)
      .where(and(eq(t.requests.id, id), inArray(t.requests.status, from)))
      .run();
    return result.changes === 1;
  }

  // ---- steps and decisions ----------------------------------------------------------------

  getSteps(requestId: string): StepRecord[] {
    return this.db.select().from(t.approvalSteps).where(eq(t.approvalSteps.requestId, requestId)).orderBy(asc(t.approvalSteps.index)).all().map(toStep);
  }

  insertSteps(steps: StepRecord[]): void {
    if (steps.length) this.db.insert(t.approvalSteps).values(steps.map(fromStep)).run();
  }

  updateStep(requestId: string, index: number, from: StepStatus[], patch: Partial<StepRecord>): boolean {
    const values: Partial<StepRow> = {};
    if (patch.status !== undefined) values.status = patch.status;
    if (patch.approvers !== undefined) values.approvers = patch.approvers;
    if (patch.fallbackReason !== undefined) values.fallbackReason = patch.fallbackReason;
    if (patch.label !== undefined) values.label = patch.label;
    if (patch.notifyChannel !== undefined) values.notifyChannel = patch.notifyChannel;
    if (patch.startedAt !== undefined) values.startedAt = patch.startedAt;
    if (patch.decidedAt !== undefined) values.decidedAt = patch.decidedAt;
    const result = this.db
      .update(t.approvalSteps)
      .set(values)
      .where(and(eq(t.approvalSteps.requestId, requestId), eq(t.approvalSteps.index, index), inArray(t.approvalSteps.status, from)))
      .run();
    return result.changes === 1;
  }

  getDecisions(requestId: string): DecisionRecord[] {
    return this.db.select().from(t.decisions).where(eq(t.decisions.requestId, requestId)).orderBy(asc(t.decisions.id)).all().map(toDecision);
  }

  decisionsFor(requestIds: readonly string[]): Map<string, DecisionRecord[]> {
    const out = new Map<string, DecisionRecord[]>();
    for (let i = 0; i < requestIds.length; i += CHUNK) {
      const rows = this.db.select().from(t.decisions).where(inArray(t.decisions.requestId, requestIds.slice(i, i + CHUNK))).orderBy(asc(t.decisions.id)).all();
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
      this.db
        .insert(t.decisions)
        .values({
          requestId: decision.requestId,
          stepIndex: decision.stepIndex,
          approverId: decision.approver.directoryId,
          approverEmail: decision.approver.email,
          approverName: decision.approver.name,
          approverSlackId: decision.approver.slackId ?? null,
          decision: decision.decision,
          reason: decision.reason,
          shortenedToSeconds: decision.shortenedToSeconds,
          at: decision.at,
        })
        .run();
    } catch (error) {
      if (isUniqueViolation(error)) throw new AccessError('already_decided_step', 'You already decided a step of this request; one person decides at most one step.');
      throw error;
    }
  }

  // ---- grants -------------------------------------------------------------------------------

  getGrant(id: string): Grant | undefined {
    const row = this.stmt('getGrant', () => this.db.select().from(t.grants).where(eq(t.grants.id, sql.placeholder('id'))).prepare()).get({ id });
    return row && toGrant(row);
  }

  grantForRequest(requestId: string): Grant | undefined {
    const row = this.db.select().from(t.grants).where(eq(t.grants.requestId, requestId)).get();
    return row && toGrant(row);
  }

  findOpenGrant(holderId: string, app: string, role: string): Grant | undefined {
    // Prepared: every `/access request <app> <role>` runs this before the modal is updated.
    const row = this.stmt('findOpenGrant', () =>
      this.db
        .select()
        .from(t.grants)
        .where(and(eq(t.grants.holderId, sql.placeholder('holderId')), eq(t.grants.app, sql.placeholder('app')), eq(t.grants.role, sql.placeholder('role')), inArray(t.grants.status, ['provisioning', 'active', 'revoking'])))
        .orderBy(desc(t.grants.createdAt))
        .prepare(),
    ).get({ holderId, app, role });
    return row && toGrant(row);
  }

  listGrants(filter: GrantFilter): Grant[] {
    const where: SQL[] = [];
    if (filter.status?.length) where.push(inArray(t.grants.status, filter.status));
    if (filter.sensitive !== undefined) where.push(eq(t.grants.sensitive, filter.sensitive));
    if (filter.holderId) where.push(eq(t.grants.holderId, filter.holderId));
    if (filter.app) where.push(eq(t.grants.app, filter.app));
    if (filter.role) where.push(eq(t.grants.role, filter.role));
    return this.db
      .select()
      .from(t.grants)
      .where(and(...where))
      .orderBy(desc(t.grants.createdAt), desc(t.grants.id))
      .limit(filter.limit ?? 1000)
      .all()
      .map(toGrant);
  }

  expiredGrants(now: string, limit: number): Grant[] {
    return this.db
      .select()
      .from(t.grants)
      .where(and(eq(t.grants.status, 'active'), isNotNull(t.grants.expiresAt), lte(t.grants.expiresAt, now)))
      .orderBy(asc(t.grants.expiresAt))
      .limit(limit)
      .all()
      .map(toGrant);
  }

  grantsExpiringBefore(until: string, limit: number): Grant[] {
    return this.db
      .select()
      .from(t.grants)
      .where(and(eq(t.grants.status, 'active'), isNotNull(t.grants.expiresAt), lte(t.grants.expiresAt, until)))
      .orderBy(asc(t.grants.expiresAt))
      .limit(limit)
      .all()
      .map(toGrant);
  }

  grantsDueForReminder(now: string, leadSeconds: readonly number[], limit: number): Grant[] {
    const leads = leadSeconds.filter((l) => Number.isInteger(l) && l > 0);
    if (leads.length === 0) return [];
    const plus = (seconds: number) => new Date(Date.parse(now) + seconds * 1000).toISOString();
    const owed = or(
      ...leads.map(
        (lead) =>
          sql`(${t.grants.durationSeconds} > ${lead} and ${t.grants.expiresAt} <= ${plus(lead)} and not exists (select 1 from json_each(${t.grants.remindersSent}) where value = ${lead}))`,
      ),
    );
    return this.db
      .select()
      .from(t.grants)
      .where(and(eq(t.grants.status, 'active'), isNotNull(t.grants.expiresAt), gt(t.grants.expiresAt, now), lte(t.grants.expiresAt, plus(Math.max(...leads))), owed))
      .orderBy(asc(t.grants.expiresAt), asc(t.grants.id))
      .limit(limit)
      .all()
      .map(toGrant);
  }

  otherGrantsThroughGroup(holderId: string, group: string, exceptGrantId: string): Grant[] {
    return this.stmt('otherGrantsThroughGroup', () =>
      this.db
        .select()
        .from(t.grants)
        .where(
          and(
            eq(t.grants.holderId, sql.placeholder('holderId')),
            eq(t.grants.provisionGroup, sql.placeholder('group')),
            ne(t.grants.id, sql.placeholder('exceptGrantId')),
            or(inArray(t.grants.status, ['provisioning', 'active']), and(eq(t.grants.status, 'revoking'), eq(t.grants.alreadyMember, true))),
          ),
        )
        .prepare(),
    )
      .all({ holderId, group, exceptGrantId })
      .map(toGrant);
  }

  insertGrant(grant: Grant): void {
    this.db.insert(t.grants).values(fromGrant(grant)).run();
  }

  updateGrant(id: string, from: GrantStatus[], patch: Partial<Grant>): boolean {
    const values = fromGrantPatch(patch);
    const keys = Object.keys(values) as (keyof GrantRow)[];
    if (keys.length === 0) return false;
    // One statement per shape (columns set, statuses allowed): the code has a handful of them.
    const statement = this.stmt(`updateGrant:${keys.join(',')}:${from.join(',')}`, () =>
      this.db
        .update(t.grants)
        .set(Object.fromEntries(keys.map((k) => [k, sql.placeholder(k)])))
        .where(and(eq(t.grants.id, sql.placeholder('__id')), inArray(t.grants.status, from)))
        .prepare(),
    );
    return statement.run({ ...values, __id: id }).changes === 1;
  }

  getGrants(ids: readonly string[]): Grant[] {
    const out: Grant[] = [];
    // SQLite caps bound parameters (32,766 by default); chunks keep any list under it.
    for (let i = 0; i < ids.length; i += CHUNK) {
      out.push(...this.db.select().from(t.grants).where(inArray(t.grants.id, ids.slice(i, i + CHUNK))).all().map(toGrant));
    }
    return out;
  }

  grantsThroughGroup(group: string, filter: { holderId?: string; status?: GrantStatus[] } = {}): Grant[] {
    return this.db
      .select()
      .from(t.grants)
      .where(
        and(
          eq(t.grants.provisionGroup, group),
          filter.holderId ? eq(t.grants.holderId, filter.holderId) : undefined,
          filter.status?.length ? inArray(t.grants.status, filter.status) : undefined,
        ),
      )
      .orderBy(asc(t.grants.createdAt), asc(t.grants.id))
      .all()
      .map(toGrant);
  }

  provisionGroupsOf(status: GrantStatus[]): string[] {
    return this.db
      .selectDistinct({ group: t.grants.provisionGroup })
      .from(t.grants)
      .where(and(inArray(t.grants.status, status), isNotNull(t.grants.provisionGroup)))
      .all()
      .map((r) => r.group!)
      .sort();
  }

  holdersOf(status: GrantStatus[]): string[] {
    return this.db
      .selectDistinct({ holderId: t.grants.holderId })
      .from(t.grants)
      .where(inArray(t.grants.status, status))
      .all()
      .map((r) => r.holderId)
      .sort();
  }

  getExtensions(grantId: string): ExtensionRecord[] {
    return this.db.select().from(t.extensions).where(eq(t.extensions.grantId, grantId)).orderBy(asc(t.extensions.at)).all();
  }

  insertExtension(extension: ExtensionRecord): void {
    this.db.insert(t.extensions).values(extension).run();
  }

  // ---- manual tasks ---------------------------------------------------------------------------

  getTask(id: string): TaskRecord | undefined {
    const row = this.db.select().from(t.tasks).where(eq(t.tasks.id, id)).get();
    return row && toTask(row);
  }

  getTaskFor(grantId: string, action: 'grant' | 'revoke'): TaskRecord | undefined {
    const row = this.db.select().from(t.tasks).where(and(eq(t.tasks.grantId, grantId), eq(t.tasks.action, action))).get();
    return row && toTask(row);
  }

  openTasks(assigneeGroups: readonly string[], limit: number): TaskRecord[] {
    if (assigneeGroups.length === 0) return [];
    return this.db.select().from(t.tasks)
      .where(and(eq(t.tasks.status, 'open'), inArray(t.tasks.assigneeGroup, [...assigneeGroups])))
      .orderBy(asc(t.tasks.createdAt)).limit(limit).all().map(toTask);
  }

  insertTask(task: TaskRecord): void {
    this.db
      .insert(t.tasks)
      .values({ id: task.id, grantId: task.grantId, action: task.action, assigneeGroup: task.assigneeGroup, status: task.status, createdAt: task.createdAt })
      .onConflictDoNothing()
      .run();
  }

  updateTask(id: string, from: TaskRecord['status'][], patch: Partial<TaskRecord>): boolean {
    const values: Partial<TaskRow> = {};
    if (patch.status) values.status = patch.status;
    if (patch.completedAt !== undefined) values.completedAt = patch.completedAt;
    if (patch.completedBy) {
      values.completedById = patch.completedBy.directoryId;
      values.completedByEmail = patch.completedBy.email;
      values.completedByName = patch.completedBy.name;
    }
    return this.db.update(t.tasks).set(values).where(and(eq(t.tasks.id, id), inArray(t.tasks.status, from))).run().changes === 1;
  }

  // ---- identity -------------------------------------------------------------------------------

  bindingForSlackUser(slackUserId: string): IdentityBinding | undefined {
    // Prepared: every Slack interaction that identifies the person runs this.
    return this.stmt('bindingForSlackUser', () =>
      this.db.select().from(t.identityBindings).where(eq(t.identityBindings.slackUserId, sql.placeholder('slackUserId'))).prepare(),
    ).get({ slackUserId });
  }

  bindingForPerson(directoryId: string): IdentityBinding | undefined {
    return this.db.select().from(t.identityBindings).where(eq(t.identityBindings.directoryId, directoryId)).get();
  }

  bindIdentity(binding: IdentityBinding): void {
    try {
      this.db.insert(t.identityBindings).values(binding).run();
    } catch (error) {
      if (isUniqueViolation(error)) throw new AccessError('identity_conflict', `${binding.email} is already bound to another Slack user; an admin must run \`identity unbind\` first.`);
      throw error;
    }
  }

  unbindIdentity(slackUserId: string): boolean {
    return this.db.delete(t.identityBindings).where(eq(t.identityBindings.slackUserId, slackUserId)).run().changes === 1;
  }

  // ---- policy versions ------------------------------------------------------------------------

  latestPolicyVersions(): PolicyVersionRecord[] {
    // The version of each policy name last seen in force.
    return this.db
      .select()
      .from(t.policyVersions)
      .where(
        sql`${t.policyVersions.lastSeenAt} = (select max(p2.last_seen_at) from policy_versions p2 where p2.policy_name = ${t.policyVersions.policyName})`,
      )
      .orderBy(asc(t.policyVersions.policyName))
      .all();
  }

  getPolicyVersion(policyName: string, version: string): PolicyVersionRecord | undefined {
    return this.db.select().from(t.policyVersions).where(and(eq(t.policyVersions.policyName, policyName), eq(t.policyVersions.version, version))).get();
  }

  upsertPolicyVersion(record: PolicyVersionRecord): void {
    this.db
      .insert(t.policyVersions)
      .values(record)
      .onConflictDoUpdate({ target: [t.policyVersions.policyName, t.policyVersions.version], set: { lastSeenAt: record.lastSeenAt } })
      .run();
  }

  // ---- audit ----------------------------------------------------------------------------------

  auditHead(): { seq: number; hash: string } {
    const row = this.stmt('auditHead', () => this.db.select({ seq: t.auditEvents.seq, hash: t.auditEvents.hash }).from(t.auditEvents).orderBy(desc(t.auditEvents.id)).limit(1).prepare()).get();
    return row ?? { seq: 0, hash: GENESIS_HASH };
  }

  appendAudit(input: AuditEventInput): AuditEvent {
    const head = this.auditHead();
    const body = {
      seq: head.seq + 1,
      at: input.at,
      // Stored in canonical form (sorted keys), so the stored JSON text is exactly what the hash
      // covers and exports can pass it through without parsing and re-sorting each row.
      actor: canonicalize(input.actor),
      action: input.action,
      requestId: input.requestId ?? null,
      grantId: input.grantId ?? null,
      details: canonicalize(input.details ?? {}),
    };
    const event: AuditEvent = { ...body, prevHash: head.hash, hash: hashEvent(head.hash, body) };
    const columns = ['seq', 'at', 'actor', 'actorLabel', 'action', 'requestId', 'grantId', 'details', 'prevHash', 'hash'] as const;
    this.stmt('appendAudit', () =>
      this.db
        .insert(t.auditEvents)
        .values(Object.fromEntries(columns.map((c) => [c, sql.placeholder(c)])) as unknown as typeof t.auditEvents.$inferInsert)
        .prepare(),
    ).run({ ...event, actorLabel: actorLabel(event.actor) });
    return event;
  }

  auditEvents(options: { afterId?: number; limit?: number } = {}): (AuditEvent & { id: number })[] {
    return this.db
      .select()
      .from(t.auditEvents)
      .where(gt(t.auditEvents.id, options.afterId ?? 0))
      .orderBy(asc(t.auditEvents.id))
      .limit(options.limit ?? 1000)
      .all()
      .map((row) => ({ ...toAudit(row), id: row.id }));
  }

  auditEventsFor(filter: { requestId?: string; grantId?: string }): AuditEvent[] {
    const where: SQL[] = [];
    if (filter.requestId) where.push(eq(t.auditEvents.requestId, filter.requestId));
    if (filter.grantId) where.push(eq(t.auditEvents.grantId, filter.grantId));
    return this.db.select().from(t.auditEvents).where(or(...where)).orderBy(asc(t.auditEvents.id)).all().map(toAudit);
  }

  auditEventsBetween(from: string, to: string, actions?: readonly AuditAction[]): AuditEvent[] {
    return this.db
      .select()
      .from(t.auditEvents)
      .where(and(gte(t.auditEvents.at, from), lt(t.auditEvents.at, to), actions?.length ? inArray(t.auditEvents.action, [...actions]) : undefined))
      .orderBy(asc(t.auditEvents.id))
      .all()
      .map(toAudit);
  }

  // ---- jobs -----------------------------------------------------------------------------------

  getJob(id: number): JobRecord | undefined {
    const row = this.db.select().from(t.jobs).where(eq(t.jobs.id, id)).get();
    return row && toJob(row);
  }

  getJobByKey(key: string): JobRecord | undefined {
    const row = this.stmt('getJobByKey', () => this.db.select().from(t.jobs).where(eq(t.jobs.key, sql.placeholder('key'))).prepare()).get({ key });
    return row && toJob(row);
  }

  listJobs(filter: { status?: JobRecord['status'][]; limit?: number }): JobRecord[] {
    return this.db
      .select()
      .from(t.jobs)
      .where(filter.status?.length ? inArray(t.jobs.status, filter.status) : undefined)
      .orderBy(asc(t.jobs.id))
      .limit(filter.limit ?? 1000)
      .all()
      .map(toJob);
  }

  countJobs(status: JobRecord['status'][]): number {
    // Counted on the jobs_due index (status first); no row is read or parsed.
    return this.db.select({ n: sql<number>`count(*)` }).from(t.jobs).where(inArray(t.jobs.status, status)).get()?.n ?? 0;
  }

  enqueueJob(key: string, payload: JobPayload, runAt: string, subject: string | null = null): void {
    this.stmt('enqueueJob', () =>
      this.db
        .insert(t.jobs)
        .values({
          key: sql.placeholder('key'),
          kind: sql.placeholder('kind'),
          payload: sql.placeholder('payload'),
          status: 'pending',
          attempts: 0,
          runAt: sql.placeholder('runAt'),
          createdAt: sql.placeholder('runAt'),
          updatedAt: sql.placeholder('runAt'),
          subject: sql.placeholder('subject'),
        })
        .onConflictDoNothing({ target: t.jobs.key })
        .prepare(),
    ).run({ key, kind: payload.kind, payload, runAt, subject });
  }

  dueJobs(now: string, limit: number, kinds?: JobPayload['kind'][], subject?: string): JobRecord[] {
    return this.db
      .select()
      .from(t.jobs)
      .where(
        and(
          or(and(eq(t.jobs.status, 'pending'), lte(t.jobs.runAt, now)), and(eq(t.jobs.status, 'running'), lte(t.jobs.lockedUntil, now))),
          kinds?.length ? inArray(t.jobs.kind, kinds) : undefined,
          subject !== undefined ? eq(t.jobs.subject, subject) : undefined,
        ),
      )
      .orderBy(asc(t.jobs.runAt), asc(t.jobs.id))
      .limit(limit)
      .all()
      .map(toJob);
  }

  claimJob(id: number, worker: string, now: string, lockedUntil: string): boolean {
    const now_ = sql`${sql.placeholder('now')}`;
    return (
      this.stmt('claimJob', () =>
        this.db
          .update(t.jobs)
          .set({ status: 'running', lockedBy: sql`${sql.placeholder('worker')}`, lockedUntil: sql`${sql.placeholder('lockedUntil')}`, updatedAt: now_, attempts: sql`${t.jobs.attempts} + 1` })
          .where(
            and(
              eq(t.jobs.id, sql.placeholder('id')),
              or(and(eq(t.jobs.status, 'pending'), lte(t.jobs.runAt, now_)), and(eq(t.jobs.status, 'running'), lte(t.jobs.lockedUntil, now_))),
              // Effects on one subject run one at a time: not while another job of the subject
              // holds a live lock. Atomic with the claim: this runs under BEGIN IMMEDIATE.
              sql`(jobs.subject is null or not exists (select 1 from jobs other where other.subject = jobs.subject and other.id <> jobs.id and other.status = 'running' and other.locked_until > ${now_}))`,
            ),
          )
          .prepare(),
      ).run({ id, worker, now, lockedUntil }).changes === 1
    );
  }

  renewJob(id: number, worker: string, now: string, lockedUntil: string): boolean {
    return (
      this.db
        .update(t.jobs)
        .set({ lockedUntil, updatedAt: now })
        .where(and(eq(t.jobs.id, id), eq(t.jobs.status, 'running'), eq(t.jobs.lockedBy, worker)))
        .run().changes === 1
    );
  }

  finishJob(id: number, worker: string, now: string): boolean {
    return (
      this.stmt('finishJob', () =>
        this.db
          .update(t.jobs)
          .set({ status: 'done', lockedBy: null, lockedUntil: null, updatedAt: sql`${sql.placeholder('now')}`, lastError: null })
          .where(and(eq(t.jobs.id, sql.placeholder('id')), eq(t.jobs.status, 'running'), eq(t.jobs.lockedBy, sql.placeholder('worker'))))
          .prepare(),
      ).run({ id, worker, now }).changes === 1
    );
  }

  failJob(
    id: number, worker: string, now: string, error: string, retryAt: string | null,
    options: { refundAttempt?: boolean } = {},
  ): boolean {
    return (
      this.db
        .update(t.jobs)
        .set({
          status: retryAt ? 'pending' : 'dead', runAt: retryAt ?? now, lockedBy: null, lockedUntil: null,
          updatedAt: now,
          lastError: error.slice(0, 2000),
          ...(options.refundAttempt ? { attempts: sql`max(0, ${t.jobs.attempts} - 1)` } : {}),
        })
        .where(and(eq(t.jobs.id, id), eq(t.jobs.status, 'running'), eq(t.jobs.lockedBy, worker)))
        .run().changes === 1
    );
  }

  // ---- meta -----------------------------------------------------------------------------------

  getMeta(key: string): string | undefined {
    return this.db.select({ value: t.meta.value }).from(t.meta).where(eq(t.meta.key, key)).get()?.value;
  }

  setMeta(key: string, value: string, now: string): void {
    this.db.insert(t.meta).values({ key, value, updatedAt: now }).onConflictDoUpdate({ target: t.meta.key, set: { value, updatedAt: now } }).run();
  }

  metaWithPrefix(prefix: string): { key: string; value: string; updatedAt: string }[] {
    // A range on the primary key instead of LIKE, whose wildcards (`_`, `%`) could appear in keys.
    return this.db
      .select()
      .from(t.meta)
      .where(and(gte(t.meta.key, prefix), lt(t.meta.key, prefix + '\uffff')))
      .orderBy(asc(t.meta.key))
      .all();
  }

  deleteMeta(key: string): boolean {
    return this.db.delete(t.meta).where(eq(t.meta.key, key)).run().changes === 1;
  }

  // ---- schedule leases ------------------------------------------------------------------------

  getLease(name: string): LeaseRecord | undefined {
    return this.db.select().from(t.leases).where(eq(t.leases.name, name)).get();
  }

  acquireLease(name: string, holder: string, now: string, expiresAt: string): boolean {
    // One statement: insert the row, or take it over only when it is ours or has expired. SQLite
    // reports no change when the upsert's WHERE fails, so `changes` says who won.
    return (
      this.db
        .insert(t.leases)
        .values({ name, holder, acquiredAt: now, expiresAt })
        .onConflictDoUpdate({
          target: t.leases.name,
          set: { holder, acquiredAt: sql`case when ${t.leases.holder} = ${holder} then ${t.leases.acquiredAt} else ${now} end`, expiresAt },
          setWhere: or(eq(t.leases.holder, holder), lte(t.leases.expiresAt, now)),
        })
        .run().changes === 1
    );
  }

  renewLease(name: string, holder: string, now: string, expiresAt: string): boolean {
    // A lease that already expired is not renewed even if nobody took it yet: the holder stalled
    // past its lease, so another process may have started the same work and must be able to win.
    return (
      this.db
        .update(t.leases)
        .set({ expiresAt })
        .where(and(eq(t.leases.name, name), eq(t.leases.holder, holder), gt(t.leases.expiresAt, now)))
        .run().changes === 1
    );
  }

  releaseLease(name: string, holder: string): boolean {
    return this.db.delete(t.leases).where(and(eq(t.leases.name, name), eq(t.leases.holder, holder))).run().changes === 1;
  }
}

// ---- row mapping --------------------------------------------------------------------------------

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: string })?.code ?? '';
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export function toRequest(row: RequestRow): AccessRequest {
  return {
    id: row.id,
    kind: row.kind,
    grantId: row.grantId,
    requester: { directoryId: row.requesterId, email: row.requesterEmail, name: row.requesterName, slackId: row.requesterSlackId },
    app: row.app,
    role: row.role,
    policyName: row.policyName,
    policyVersion: row.policyVersion,
    justification: row.justification,
    requestedSeconds: row.requestedSeconds,
    grantedSeconds: row.grantedSeconds,
    status: row.status,
    autoApproveRule: row.autoApproveRule,
    currentStep: row.currentStep,
    stepCount: row.stepCount,
    createdAt: row.createdAt,
    approvalDeadline: row.approvalDeadline,
    decidedAt: row.decidedAt,
    decisionReason: row.decisionReason,
  };
}

function fromRequest(r: AccessRequest): RequestRow {
  return {
    id: r.id,
    kind: r.kind,
    grantId: r.grantId,
    requesterId: r.requester.directoryId,
    requesterEmail: r.requester.email,
    requesterName: r.requester.name,
    requesterSlackId: r.requester.slackId ?? null,
    app: r.app,
    role: r.role,
    policyName: r.policyName,
    policyVersion: r.policyVersion,
    justification: r.justification,
    requestedSeconds: r.requestedSeconds,
    grantedSeconds: r.grantedSeconds,
    status: r.status,
    autoApproveRule: r.autoApproveRule,
    currentStep: r.currentStep,
    stepCount: r.stepCount,
    createdAt: r.createdAt,
    approvalDeadline: r.approvalDeadline,
    decidedAt: r.decidedAt,
    decisionReason: r.decisionReason,
  };
}

function fromRequestPatch(patch: Partial<AccessRequest>): Partial<RequestRow> {
  const out: Partial<RequestRow> = {};
  if (patch.status !== undefined) out.status = patch.status;
  if (patch.grantedSeconds !== undefined) out.grantedSeconds = patch.grantedSeconds;
  if (patch.currentStep !== undefined) out.currentStep = patch.currentStep;
  if (patch.decidedAt !== undefined) out.decidedAt = patch.decidedAt;
  if (patch.decisionReason !== undefined) out.decisionReason = patch.decisionReason;
  if (patch.autoApproveRule !== undefined) out.autoApproveRule = patch.autoApproveRule;
  if (patch.grantId !== undefined) out.grantId = patch.grantId;
  return out;
}

export function toStep(row: StepRow): StepRecord {
  return {
    requestId: row.requestId,
    index: row.index,
    step: row.step,
    label: row.label,
    required: row.required,
    status: row.status,
    approvers: row.approvers,
    fallbackReason: row.fallbackReason,
    notifyChannel: row.notifyChannel,
    startedAt: row.startedAt,
    decidedAt: row.decidedAt,
  };
}

function fromStep(s: StepRecord): StepRow {
  return { ...s };
}

export function toDecision(row: DecisionRow): DecisionRecord {
  return {
    requestId: row.requestId,
    stepIndex: row.stepIndex,
    approver: { directoryId: row.approverId, email: row.approverEmail, name: row.approverName, slackId: row.approverSlackId },
    decision: row.decision,
    reason: row.reason,
    shortenedToSeconds: row.shortenedToSeconds,
    at: row.at,
  };
}

export function toGrant(row: GrantRow): Grant {
  return {
    id: row.id,
    requestId: row.requestId,
    holder: { directoryId: row.holderId, email: row.holderEmail, name: row.holderName, slackId: row.holderSlackId },
    app: row.app,
    role: row.role,
    policyName: row.policyName,
    policyVersion: row.policyVersion,
    sensitive: row.sensitive,
    snapshot: row.snapshot,
    alreadyMember: row.alreadyMember,
    status: row.status,
    durationSeconds: row.durationSeconds,
    maxTotalSeconds: row.maxTotalSeconds,
    extensionApproval: row.extensionApproval,
    createdAt: row.createdAt,
    activatedAt: row.activatedAt,
    expiresAt: row.expiresAt,
    revocationReason: row.revocationReason,
    revocationNote: row.revocationNote,
    revokedBy: row.revokedBy,
    revocationStartedAt: row.revocationStartedAt,
    revokedAt: row.revokedAt,
    remindersSent: row.remindersSent,
    failures: row.failures,
    lastError: row.lastError,
  };
}

function fromGrant(g: Grant): GrantRow {
  return {
    id: g.id,
    requestId: g.requestId,
    holderId: g.holder.directoryId,
    holderEmail: g.holder.email,
    holderName: g.holder.name,
    holderSlackId: g.holder.slackId ?? null,
    app: g.app,
    role: g.role,
    policyName: g.policyName,
    policyVersion: g.policyVersion,
    sensitive: g.sensitive,
    snapshot: g.snapshot,
    provisionGroup: g.snapshot.provision.method === 'okta_group' ? g.snapshot.provision.group : null,
    alreadyMember: g.alreadyMember,
    status: g.status,
    durationSeconds: g.durationSeconds,
    maxTotalSeconds: g.maxTotalSeconds,
    extensionApproval: g.extensionApproval,
    createdAt: g.createdAt,
    activatedAt: g.activatedAt,
    expiresAt: g.expiresAt,
    revocationReason: g.revocationReason,
    revocationNote: g.revocationNote,
    revokedBy: g.revokedBy,
    revocationStartedAt: g.revocationStartedAt,
    revokedAt: g.revokedAt,
    remindersSent: g.remindersSent,
    failures: g.failures,
    lastError: g.lastError,
  };
}

function fromGrantPatch(patch: Partial<Grant>): Partial<GrantRow> {
  const out: Partial<GrantRow> = {};
  const keys = [
    'alreadyMember',
    'status',
    'durationSeconds',
    'activatedAt',
    'expiresAt',
    'revocationReason',
    'revocationNote',
    'revokedBy',
    'revocationStartedAt',
    'revokedAt',
    'remindersSent',
    'failures',
    'lastError',
  ] as const;
  for (const key of keys) if (patch[key] !== undefined) (out as Record<string, unknown>)[key] = patch[key];
  return out;
}

function toTask(row: TaskRow): TaskRecord {
  return {
    id: row.id,
    grantId: row.grantId,
    action: row.action,
    assigneeGroup: row.assigneeGroup,
    status: row.status,
    createdAt: row.createdAt,
    completedBy: row.completedById ? { directoryId: row.completedById, email: row.completedByEmail ?? '', name: row.completedByName ?? '' } : null,
    completedAt: row.completedAt,
  };
}

function toJob(row: JobRow): JobRecord {
  return {
    id: row.id,
    key: row.key,
    payload: row.payload,
    status: row.status,
    attempts: row.attempts,
    runAt: row.runAt,
    lastError: row.lastError,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
    subject: row.subject,
  };
}

export function toAudit(row: AuditRow): AuditEvent {
  return {
    seq: row.seq,
    at: row.at,
    actor: row.actor,
    action: row.action as AuditAction,
    requestId: row.requestId,
    grantId: row.grantId,
    details: row.details,
    prevHash: row.prevHash,
    hash: row.hash,
  };
}
