/**
 * The ports the operations use to reach the world. Adapters implement them: the YAML or Okta
 * directory, SQLite storage, Slack messages, provisioners. Nothing here names a vendor type.
 */
import type { Person } from '../domain/person.js';

/** A group as the directory knows it. */
export interface DirectoryGroup {
  id: string;
  name: string;
  /**
   * Whether the bot can change its membership through the directory's API (Okta: only
   * `OKTA_GROUP` groups; app-sourced groups are read-only).
   */
  manageable: boolean;
  /** The directory's own type label (OKTA_GROUP, APP_GROUP, BUILT_IN, yaml). */
  type: string;
}

/**
 * The identity provider: the source of truth for people, groups, managers and employment status.
 * Every method reads live data (no stale cache on anything that decides access). Methods throw
 * `TransientError` for outages worth retrying, `PermanentError` for definite failures
 * (an unknown group on add), and `AccessError('identity_ambiguous')` when an email matches several people.
 */
export interface Directory {
  /** Which implementation this is, for logs and /healthz ("yaml", "okta"). */
  readonly kind: string;
  /** By email (case-insensitive) or login. Null when nobody matches; throws when several do. */
  findPerson(emailOrLogin: string): Promise<Person | null>;
  /** By the directory's immutable id. Null when the person no longer exists. */
  getPerson(id: string): Promise<Person | null>;
  /**
   * Names of the groups the person is a member of. `maxAgeMs`: an answer read that recently may be
   * reused, for a use that decides nothing on its own (a submission whose every approval step
   * checks eligibility again, live); without it the read is live.
   */
  groupsOf(personId: string, options?: { maxAgeMs?: number }): Promise<string[]>;
  /** Every member of the group (all pages). Throws PermanentError for an unknown group. */
  membersOf(groupName: string): Promise<Person[]>;
  /** The group by name, or null when the directory has no such group. */
  findGroup(groupName: string): Promise<DirectoryGroup | null>;
  /** The person's manager, resolved through the configured manager attribute; null when none. */
  managerOf(personId: string): Promise<Person | null>;
  isMember(personId: string, groupName: string): Promise<boolean>;
  /**
   * Resolve only once the directory confirms the change (the membership read back): nothing is
   * reported done that the directory did not confirm. A change it accepted but does not show yet
   * throws TransientError.
   */
  addToGroup(personId: string, groupName: string): Promise<void>;
  removeFromGroup(personId: string, groupName: string): Promise<void>;
}

/** Time, injected so tests and the sandbox can move it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Structured logs (JSON lines in production). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

// ---------------------------------------------------------------------------------------------
// Storage

import type { AuditAction, AuditEvent, AuditEventInput } from '../domain/audit.js';
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
} from '../domain/records.js';

export interface RequestFilter {
  status?: RequestStatus[];
  requesterId?: string;
  app?: string;
  role?: string;
  limit?: number;
}

/** A schedule lease: who runs a schedule now, and until when (see the scheduler). */
export interface LeaseRecord {
  name: string;
  holder: string;
  acquiredAt: string;
  expiresAt: string;
}

export interface GrantFilter {
  status?: GrantStatus[];
  /** Only grants of sensitive roles (true) or of the others (false). */
  sensitive?: boolean;
  holderId?: string;
  app?: string;
  role?: string;
  limit?: number;
}

/** Reads, usable inside and outside a transaction. */
export interface StoreReads {
  getRequest(id: string): AccessRequest | undefined;
  getSteps(requestId: string): StepRecord[];
  getDecisions(requestId: string): DecisionRecord[];
  /** The decisions of many requests in one read, by request id. */
  decisionsFor(requestIds: readonly string[]): Map<string, DecisionRecord[]>;
  findPendingRequest(requesterId: string, app: string, role: string): AccessRequest | undefined;
  listRequests(filter: RequestFilter): AccessRequest[];
  /** Pending requests whose approval deadline has passed. */
  overdueRequests(now: string, limit: number): AccessRequest[];
  /** Pending requests with an open step this person may decide. */
  requestsAwaiting(approverId: string): AccessRequest[];

  getGrant(id: string): Grant | undefined;
  grantForRequest(requestId: string): Grant | undefined;
  /** A grant of this role the person holds or is being given (provisioning, active, revoking). */
  findOpenGrant(holderId: string, app: string, role: string): Grant | undefined;
  listGrants(filter: GrantFilter): Grant[];
  /** Active grants whose expiry has passed. */
  expiredGrants(now: string, limit: number): Grant[];
  /** Active grants expiring before `until` (for reminders). */
  grantsExpiringBefore(until: string, limit: number): Grant[];
  /**
   * Active grants owed a reminder now: some lead time shorter than the grant has been reached
   * (`expiresAt - lead <= now < expiresAt`) and its reminder is not in `remindersSent`. Only those,
   * so grants already reminded never crowd out the ones still owed one.
   */
  grantsDueForReminder(now: string, leadSeconds: readonly number[], limit: number): Grant[];
  /** Other grants that keep the person in the same group (provisioning, active, or revoking but not yet removed). */
  otherGrantsThroughGroup(holderId: string, group: string, exceptGrantId: string): Grant[];
  /** Grants by id, in one read (missing ids are left out). */
  getGrants(ids: readonly string[]): Grant[];
  /** Grants provisioned through this directory group (from their snapshot), optionally of one holder or some statuses. */
  grantsThroughGroup(group: string, filter?: { holderId?: string; status?: GrantStatus[] }): Grant[];
  /** The distinct groups that grants in these statuses were provisioned through. */
  provisionGroupsOf(status: GrantStatus[]): string[];
  /** The distinct people holding grants in these statuses. */
  holdersOf(status: GrantStatus[]): string[];
  getExtensions(grantId: string): ExtensionRecord[];
  getTask(id: string): TaskRecord | undefined;
  getTaskFor(grantId: string, action: 'grant' | 'revoke'): TaskRecord | undefined;
  /** Open manual tasks assigned to any of these groups, oldest first. */
  openTasks(assigneeGroups: readonly string[], limit: number): TaskRecord[];

  bindingForSlackUser(slackUserId: string): IdentityBinding | undefined;
  bindingForPerson(directoryId: string): IdentityBinding | undefined;

  latestPolicyVersions(): PolicyVersionRecord[];
  getPolicyVersion(policyName: string, version: string): PolicyVersionRecord | undefined;

  auditHead(): { seq: number; hash: string };
  auditEvents(options?: { afterId?: number; limit?: number }): (AuditEvent & { id: number })[];
  auditEventsFor(filter: { requestId?: string; grantId?: string }): AuditEvent[];
  /** Events with `from <= at < to`, optionally of some actions only, in log order. */
  auditEventsBetween(from: string, to: string, actions?: readonly AuditAction[]): AuditEvent[];

  getJob(id: number): JobRecord | undefined;
  getJobByKey(key: string): JobRecord | undefined;
  listJobs(filter: { status?: JobRecord['status'][]; limit?: number }): JobRecord[];
  /** How many jobs are in these statuses (one indexed count, no rows loaded). */
  countJobs(status: JobRecord['status'][]): number;

  getMeta(key: string): string | undefined;
  /** Every meta entry whose key starts with `prefix`. */
  metaWithPrefix(prefix: string): { key: string; value: string; updatedAt: string }[];

  getLease(name: string): LeaseRecord | undefined;
}

/** Writes, only inside `Store.transaction`, so each state change commits with its audit event and jobs. */
export interface StoreTx extends StoreReads {
  insertRequest(request: AccessRequest): void;
  /** Conditional update: applies only while the request is in one of `from`. Returns whether it did. */
  updateRequest(id: string, from: RequestStatus[], patch: Partial<AccessRequest>): boolean;
  insertSteps(steps: StepRecord[]): void;
  updateStep(requestId: string, index: number, from: StepStatus[], patch: Partial<StepRecord>): boolean;
  /** Throws `AccessError('already_decided_step')` when this person already decided a step of the request. */
  insertDecision(decision: DecisionRecord): void;

  insertGrant(grant: Grant): void;
  updateGrant(id: string, from: GrantStatus[], patch: Partial<Grant>): boolean;
  insertExtension(extension: ExtensionRecord): void;
  insertTask(task: TaskRecord): void;
  updateTask(id: string, from: TaskRecord['status'][], patch: Partial<TaskRecord>): boolean;

  bindIdentity(binding: IdentityBinding): void;
  unbindIdentity(slackUserId: string): boolean;

  upsertPolicyVersion(record: PolicyVersionRecord): void;

  /** Appends to the hash chain; the write lock taken at BEGIN keeps the chain from forking. */
  appendAudit(event: AuditEventInput): AuditEvent;

  /**
   * Records an effect to perform after commit. A key already used is ignored (idempotent intent).
   * `subject` names what the effect acts on (see `claimJob`).
   */
  enqueueJob(key: string, payload: JobPayload, runAt: string, subject?: string | null): void;
  /**
   * Claims a due job for this worker until `lockedUntil`; false when someone else has it, or when
   * another job of the same subject is running under a lock that has not expired. The check and
   * the claim must be atomic against other claims of that subject, whatever the database: SQLite's
   * write lock (BEGIN IMMEDIATE) does it; on PostgreSQL, lock the subject first (an advisory
   * transaction lock on its hash, or `SELECT ... FOR UPDATE` of a per-subject row).
   */
  claimJob(id: number, worker: string, now: string, lockedUntil: string): boolean;
  /** Extends the lock of a job this worker still holds (a long effect's heartbeat); false when it was lost. */
  renewJob(id: number, worker: string, now: string, lockedUntil: string): boolean;
  finishJob(id: number, worker: string, now: string): boolean;
  /**
   * Records a failed run: pending again at `retryAt`, or dead when null. `refundAttempt` gives
   * back the attempt the claim counted (a rate-limited run that only has to wait).
   */
  failJob(
    id: number, worker: string, now: string, error: string, retryAt: string | null,
    options?: { refundAttempt?: boolean },
  ): boolean;
  /** Jobs due now: pending and due, or running with an expired lock (a dead worker's); optionally of one subject. */
  dueJobs(now: string, limit: number, kinds?: JobPayload['kind'][], subject?: string): JobRecord[];

  setMeta(key: string, value: string, now: string): void;
  deleteMeta(key: string): boolean;

  /**
   * Takes the named lease for `holder` until `expiresAt`: succeeds when nobody holds it, when this
   * holder already does, or when the previous holder's lease expired (`expiresAt <= now`: a dead
   * process). A conditional write, so of two processes racing for it exactly one wins.
   */
  acquireLease(name: string, holder: string, now: string, expiresAt: string): boolean;
  /** Extends a lease this holder still holds; false when it was lost (expired and taken over). */
  renewLease(name: string, holder: string, now: string, expiresAt: string): boolean;
  /** Gives the lease up so another process need not wait for it to expire; false when not held. */
  releaseLease(name: string, holder: string): boolean;
}

export interface Store extends StoreReads {
  /** Runs `fn` in one write transaction that takes the write lock at its start (BEGIN IMMEDIATE). */
  transaction<T>(fn: (tx: StoreTx) => T): T;
  close(): void;
}
