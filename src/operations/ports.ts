/**
 * The ports the operations use to reach the world. Adapters implement them: the YAML or Okta
 * directory, SQLite storage, Slack messages, provisioners. Nothing here names a vendor type.
 */
import type { Person } from '../domain/person.js';
import type { ProvisionDescription } from '../domain/provisioning/method.js';
import type { Provision, ProvisionMethodName } from '../domain/provisioning/methods.js';

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
  /**
   * This directory as one operation sees it: within the operation the same person, groups or
   * members are read once (read-scope.ts); the next operation reads live again. A directory whose
   * reads cost nothing returns itself.
   */
  forOperation(): Directory;
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
// Provisioning

/** What a provisioning or revocation effect did. */
export type EffectOutcome =
  /**
   * The provider confirmed it: the grant moves on (active, or revoked). `details` go into the audit
   * event; `kept`, on a revoke, says the access was left in place on purpose and why (logged as
   * `grant.membershipKept`); `bookkeeping` is the provisioner's own record of it, written in the
   * transaction that records the outcome.
   */
  | {
      kind: 'done';
      details: Record<string, unknown>;
      kept?: Record<string, unknown>;
      bookkeeping?: (tx: StoreTx) => Promise<void>;
    }
  /** A person does it: a task goes to `assigneeGroup`, and the grant moves on when it is marked Done. */
  | { kind: 'task'; assigneeGroup: string }
  /** The grant left the state the effect was for before anything was done: nothing to record. */
  | { kind: 'overtaken' };

/** What a provisioner may read and write besides its provider (the store for its own bookkeeping). */
export interface ProvisionerContext {
  store: Store;
  clock: Clock;
  /**
   * Commits `write` before the effect goes on: what a repeated effect must find recorded (the
   * membership found before an add). `write` changes grant `grantId` only and appends no audit
   * event. The job runner commits it with the outcomes it has waiting (one transaction instead of
   * two); without it, a transaction of its own.
   */
  commitBeforeEffect?<T>(grantId: string, write: (tx: StoreTx) => Promise<T>): Promise<T>;
}

/**
 * Gives and takes back the access of one provisioning method (registered by the method's name in
 * `Provisioners`). Each effect is one attempt: it resolves when the provider confirmed it, throws
 * `TransientError` to be retried or `PermanentError` when a person must look, and is safe to repeat
 * (the job runner retries it). It works from the grant's provisioning snapshot, never the policy
 * in force now.
 */
export interface Provisioner<P extends Provision = Provision> {
  grant(grant: Grant, provision: P, ctx: ProvisionerContext): Promise<EffectOutcome>;
  /**
   * Optional: reads what `grant` records before its effect (the membership found before an add)
   * and returns that write, or nothing when there is none left to do. The job runner prepares the
   * grants of a claimed batch at once and commits their writes in one transaction; `grant` then
   * finds them recorded. The write resolves false when the grant left `provisioning` meanwhile.
   */
  prepareGrant?(grant: Grant, provision: P, ctx: ProvisionerContext): Promise<GrantPreparation | undefined>;
  /**
   * `undo`: the grant's revocation already ran, and a late grant effect landed after it; do the
   * revocation's effect again (as a new call where the provider dedupes: a webhook's own key).
   */
  revoke(grant: Grant, provision: P, ctx: ProvisionerContext, options: RevokeOptions): Promise<EffectOutcome>;
  /** Whether the access is in place now, as the provider says; `unknown` when it cannot tell. */
  verify(grant: Grant, provision: P): Promise<'present' | 'absent' | 'unknown'>;
  describe(provision: P): ProvisionDescription;
}

export interface RevokeOptions {
  /** The grant's revocation already ran; a late grant effect landed after it (see `Provisioner.revoke`). */
  undo: boolean;
  /**
   * For a method that manages a group membership: the grants keeping the holder's membership of
   * it (`Store.grantsKeepingMemberships`), when the caller read them for a batch of revocations
   * shortly before; without them the provisioner reads them itself.
   */
  keeping?: readonly Grant[];
}

/** A write a grant's effect needs committed before it runs (`Provisioner.prepareGrant`). */
export type GrantPreparation = (tx: StoreTx) => Promise<boolean>;

/** Every provisioning method's provisioner, by the method's name. */
export type Provisioners = { [M in ProvisionMethodName]: Provisioner<Extract<Provision, { method: M }>> };

/** The provisioner of a provisioning. */
export function provisionerFor(provisioners: Provisioners, provision: Provision): Provisioner {
  return provisioners[provision.method] as unknown as Provisioner;
}

// ---------------------------------------------------------------------------------------------
// The audit stream

/**
 * Where the audit stream delivers: a SIEM's webhook, Splunk HEC, a file (src/adapters/audit-sinks/).
 * A sink renders each batch in its format and sends it; the stream (operations/audit-stream/)
 * decides what to send and moves the sink's cursor only after `deliver` resolved.
 */
export interface AuditSink {
  readonly name: string;
  readonly type: string;
  /** Where it sends, for people (/healthz, alerts): never a secret. */
  readonly target: string;
  /** The format names people and access (OCSF): the stream reads the requests and grants events name. */
  readonly needsSubjects: boolean;
  /**
   * Sends one batch, in order. Resolves only once the sink confirmed all of it (a 2xx, Splunk's
   * indexer acknowledgement, an fsync); throws otherwise (`TransientError` may say when to retry).
   * The same batch may be sent again after a failure or a restart: a receiver dedupes by seq.
   */
  deliver(batch: AuditBatch): Promise<void>;
  /** Releases what it holds (an open file). */
  close(): Promise<void>;
}

/** Signs audit checkpoints (Ed25519): the private key never reaches the database. */
export interface CheckpointSigner {
  /** The public key's id, named in every checkpoint (see domain/checkpoint.ts `keyIdOf`). */
  readonly keyId: string;
  /** The public key, PEM (SubjectPublicKeyInfo). */
  readonly publicKeyPem: string;
  /** The signature of `payload`, base64. Synchronous computation: fine inside a transaction. */
  sign(payload: Buffer): string;
}

// ---------------------------------------------------------------------------------------------
// Messages

/** The files of the weekly digest, in the export format (`extension`). */
export interface DigestAttachment {
  extension: string;
  /** Every list of the digest in full (the message shows counts and the top lines). */
  lists: { bytes: Buffer; rows: number; sha256: string };
  /** The week's requests export. */
  requests: { bytes: Buffer; summary: ExportSummary };
}

/**
 * Delivers the messages the bot owes people (Slack; the log when no workspace is connected). The
 * notifier renders each notice from the current state when it sends it. `key` is the job's
 * idempotency key: the same key is one message, updated rather than posted twice.
 */
export interface Notifier {
  /** Where messages go, for the audit log ("slack", "log"). */
  readonly destination: string;
  deliver(notification: DeliveredNotification, key: string): Promise<void>;
  /**
   * Posts the weekly digest to `channel` (or updates the one already posted for `key`) and
   * attaches the files `attachment` makes, once per digest: when an earlier attempt attached them,
   * `attachment` is not called. Resolves with whether the files were attached by this call.
   */
  publishDigest(input: PublishDigest): Promise<{ attached: boolean }>;
  /**
   * Posts a review campaign's summary to `channel`, or brings the one posted before up to date
   * (one message per campaign, whatever `key`), and attaches the evidence CSV once per campaign:
   * when an earlier attempt attached it, `attachment` is not called.
   */
  publishReviewSummary(input: PublishReviewSummary): Promise<{ attached: boolean }>;
}

/** The weekly digest for `channel`; `key` is its job's key, `attachment` makes its files when asked. */
export interface PublishDigest {
  digest: Digest;
  channel: string;
  key: string;
  attachment: () => Promise<DigestAttachment>;
}

/** A review campaign's summary for `channel`; `attachment` makes its evidence CSV when asked. */
export interface PublishReviewSummary {
  summary: ReviewSummary;
  channel: string;
  key: string;
  attachment: () => Promise<ReviewSummaryAttachment>;
}

/** What `deliver` takes: every notice but those with a publisher of their own. */
export type DeliveredNotification = Exclude<Notification, { type: 'digest' | 'review.summary' }>;

/** A campaign's evidence CSV (the reviews export of that campaign). */
export interface ReviewSummaryAttachment {
  extension: string;
  bytes: Buffer;
  summary: ExportSummary;
}

// ---------------------------------------------------------------------------------------------
// Storage
//
// The store port: what any SQL database behind the bot provides. Every method returns a promise,
// so the operations read the same on SQLite (embedded, one host) and PostgreSQL (several replicas).
// No SQL, dialect or driver type crosses this port; adapters live in src/adapters/db/.

import type { AuditAction, AuditEvent, AuditEventInput } from '../domain/audit.js';
import type { AuditSinkState } from '../domain/audit-sinks.js';
import type { CheckpointRecord } from '../domain/checkpoint.js';
import type { Digest } from '../domain/digest.js';
import type { ReviewSummary } from '../domain/reviews/review-summary.js';
import type {
  AccessRequest,
  BreakGlassReview,
  BreakGlassReviewStatus,
  DecisionRecord,
  Delegation,
  ExtensionRecord,
  Grant,
  GrantStatus,
  IdentityBinding,
  JobPayload,
  JobRecord,
  JobStatus,
  Notification,
  PolicyVersionRecord,
  RequestStatus,
  StepRecord,
  StepStatus,
  TaskRecord,
} from '../domain/records.js';
import type { AuditBatch } from './audit-stream/records.js';
import type {
  RemediationStatus,
  ReviewAssignment,
  ReviewCampaign,
  ReviewCampaignStatus,
  ReviewDecision,
  ReviewerProgress,
  ReviewerRecord,
  ReviewItem,
} from '../domain/reviews/review-records.js';
import type { ExportSummary } from './exports/export-evidence.js';
import type { ExportSnapshot } from './exports/export-ports.js';

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

/** A person's membership of a directory group (a managed group: `okta_group`). */
export interface GroupMembership {
  holderId: string;
  group: string;
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

/** See `StoreReads.roleStateForSlackUser`; `held` and `pending` are about the bound person. */
export interface SlackUserRoleState {
  binding?: IdentityBinding;
  held?: Grant;
  pending?: AccessRequest;
}

/**
 * Reads, usable inside and outside a transaction. Outside one, a read sees what is committed (never
 * another operation's transaction in progress); inside one (`tx.getX`), it also sees the
 * transaction's own writes.
 */
export interface StoreReads {
  getRequest(id: string): Promise<AccessRequest | undefined>;
  /** Requests by id, in one read (missing ids are left out). */
  getRequests(ids: readonly string[]): Promise<AccessRequest[]>;
  getSteps(requestId: string): Promise<StepRecord[]>;
  getDecisions(requestId: string): Promise<DecisionRecord[]>;
  /** The decisions of many requests in one read, by request id. */
  decisionsFor(requestIds: readonly string[]): Promise<Map<string, DecisionRecord[]>>;
  findPendingRequest(requesterId: string, app: string, role: string): Promise<AccessRequest | undefined>;
  /** Newest first. */
  listRequests(filter: RequestFilter): Promise<AccessRequest[]>;
  /** Pending requests whose approval deadline has passed, earliest deadline first. */
  overdueRequests(now: string, limit: number): Promise<AccessRequest[]>;
  /**
   * Pending requests with an open step this person may decide (as one of its approvers, or one the
   * escalation added) and has not decided, oldest first.
   */
  requestsAwaiting(approverId: string): Promise<AccessRequest[]>;
  /** Open steps whose escalation time has come and that have not escalated yet, earliest first. */
  stepsDueToEscalate(now: string, limit: number): Promise<StepRecord[]>;
  /** Open steps whose next approver reminder is due (`nextReminderAt <= now`), earliest first. */
  stepsDueForApproverReminder(now: string, limit: number): Promise<StepRecord[]>;

  getGrant(id: string): Promise<Grant | undefined>;
  grantForRequest(requestId: string): Promise<Grant | undefined>;
  /** A grant of this role the person holds or is being given (provisioning, active, revoking). */
  findOpenGrant(holderId: string, app: string, role: string): Promise<Grant | undefined>;
  /** Newest first. */
  listGrants(filter: GrantFilter): Promise<Grant[]>;
  /** Active grants whose expiry has passed, earliest first. */
  expiredGrants(now: string, limit: number): Promise<Grant[]>;
  /** Active grants expiring before `until` (for reminders). */
  grantsExpiringBefore(until: string, limit: number): Promise<Grant[]>;
  /**
   * Active grants owed a reminder now: some lead time shorter than the grant has been reached
   * (`expiresAt - lead <= now < expiresAt`) and its reminder is not in `remindersSent`. Only those,
   * so grants already reminded never crowd out the ones still owed one.
   */
  grantsDueForReminder(now: string, leadSeconds: readonly number[], limit: number): Promise<Grant[]>;
  /**
   * The grants that keep these people in these groups (provisioning, active, or being revoked from
   * someone who was a member before), for any number of memberships in one read.
   */
  grantsKeepingMemberships(memberships: readonly GroupMembership[]): Promise<Grant[]>;
  /** Grants by id, in one read (missing ids are left out). Inside a transaction, locked as `tx.getGrant` locks one. */
  getGrants(ids: readonly string[]): Promise<Grant[]>;
  /**
   * Grants provisioned through this directory group (from their snapshot), optionally of one holder or some statuses.
   */
  grantsThroughGroup(group: string, filter?: { holderId?: string; status?: GrantStatus[] }): Promise<Grant[]>;
  /** The distinct groups that grants in these statuses were provisioned through, sorted. */
  provisionGroupsOf(status: GrantStatus[]): Promise<string[]>;
  /** The distinct people holding grants in these statuses, sorted. */
  holdersOf(status: GrantStatus[]): Promise<string[]>;
  getExtensions(grantId: string): Promise<ExtensionRecord[]>;

  getBreakGlassReview(grantId: string): Promise<BreakGlassReview | undefined>;
  /** The reviews of these grants, in one read, by grant id (grants without one are left out). */
  breakGlassReviewsFor(grantIds: readonly string[]): Promise<Map<string, BreakGlassReview>>;
  /** Newest first. */
  listBreakGlassReviews(filter: { status?: BreakGlassReviewStatus[]; limit?: number }): Promise<BreakGlassReview[]>;
  /** Pending reviews whose due time has passed, earliest due first. */
  overdueBreakGlassReviews(now: string, limit: number): Promise<BreakGlassReview[]>;

  /** Inside a transaction, locked as `tx.getGrant` locks a grant. */
  getDelegation(id: string): Promise<Delegation | undefined>;
  /**
   * Delegations by id, in one read (missing ids are left out). Inside a transaction, locked as
   * `tx.getDelegation` locks one, in id order.
   */
  getDelegations(ids: readonly string[]): Promise<Delegation[]>;
  /**
   * The person's active delegation of their own approvals, if any (at most one). With `lock`,
   * inside a transaction: the person's delegation is locked, present or not (PostgreSQL: an
   * advisory lock), so two changes of one person's delegation run one after the other. Without
   * it a plain read: asking approvers (after the audit chain) must not wait for that lock.
   */
  activeDelegationBy(delegatorId: string, options?: { lock?: boolean }): Promise<Delegation | undefined>;
  /** The active delegations these people give (at most one each), in one read and unlocked; any order. */
  activeDelegationsBy(delegatorIds: readonly string[]): Promise<Delegation[]>;
  /** Active delegations to this person (whose approvals they may decide), oldest first. */
  activeDelegationsTo(delegateId: string): Promise<Delegation[]>;
  /** Active delegations whose end has passed, earliest end first. */
  expiredDelegations(now: string, limit: number): Promise<Delegation[]>;
  /** Active delegations this person gives or receives. */
  activeDelegationsInvolving(personId: string): Promise<Delegation[]>;
  /** Newest first. */
  listDelegations(filter: { status?: Delegation['status'][]; limit?: number }): Promise<Delegation[]>;

  getTask(id: string): Promise<TaskRecord | undefined>;
  getTaskFor(grantId: string, action: 'grant' | 'revoke'): Promise<TaskRecord | undefined>;
  /** Open manual tasks assigned to any of these groups, oldest first. */
  openTasks(assigneeGroups: readonly string[], limit: number): Promise<TaskRecord[]>;

  bindingForSlackUser(slackUserId: string): Promise<IdentityBinding | undefined>;
  /**
   * What the request form reads first about a Slack user and one role, in one read where the store
   * waits on a server: the user's binding, and for the person it binds, their open grant of the
   * role that is not break-glass (the newest) and their request for it that waits. The same answers
   * as `bindingForSlackUser`, then `listGrants` (open, that role) and `findPendingRequest`.
   */
  roleStateForSlackUser(slackUserId: string, app: string, role: string): Promise<SlackUserRoleState>;
  bindingForPerson(directoryId: string): Promise<IdentityBinding | undefined>;

  latestPolicyVersions(): Promise<PolicyVersionRecord[]>;
  getPolicyVersion(policyName: string, version: string): Promise<PolicyVersionRecord | undefined>;

  /** The last event of the chain (seq 0 and GENESIS_HASH for an empty log). */
  auditHead(): Promise<{ seq: number; hash: string }>;
  /** Events in log order after the internal id `afterId`, at most `limit` (default 1000). */
  auditEvents(options?: { afterId?: number; limit?: number }): Promise<(AuditEvent & { id: number })[]>;
  auditEventsFor(filter: { requestId?: string; grantId?: string }): Promise<AuditEvent[]>;
  /** Events with `from <= at < to`, optionally of some actions only, in log order. */
  auditEventsBetween(from: string, to: string, actions?: readonly AuditAction[]): Promise<AuditEvent[]>;
  /** Events with `seq > afterSeq`, in seq order, at most `limit`: what a sink has not confirmed yet. */
  auditEventsAfterSeq(afterSeq: number, limit: number): Promise<AuditEvent[]>;

  /** Every audit sink's delivery state, by name (a sink that never delivered a batch has none yet). */
  auditSinkStates(): Promise<AuditSinkState[]>;
  /** The signed checkpoints recorded, in seq order, with `seq > afterSeq`, at most `limit` (default all). */
  auditCheckpoints(options?: { afterSeq?: number; limit?: number }): Promise<CheckpointRecord[]>;
  /** The checkpoint with the highest seq, if any. */
  latestAuditCheckpoint(): Promise<CheckpointRecord | undefined>;

  getJob(id: number): Promise<JobRecord | undefined>;
  getJobByKey(key: string): Promise<JobRecord | undefined>;
  listJobs(filter: { status?: JobStatus[]; limit?: number }): Promise<JobRecord[]>;
  /** How many jobs are in these statuses (and of these kinds): one counting query, however long the backlog. */
  countJobs(status: JobStatus[], kinds?: JobPayload['kind'][]): Promise<number>;
  /**
   * Jobs due now, oldest first: pending and due, or running with an expired lock (a dead
   * worker's); optionally of some kinds, or only those of some subjects (in one read, however
   * many). Reading them claims nothing: `claimJob` decides who runs each.
   */
  dueJobs(now: string, limit: number, kinds?: JobPayload['kind'][], subjects?: readonly string[]): Promise<JobRecord[]>;

  getMeta(key: string): Promise<string | undefined>;
  /** Every meta entry whose key starts with `prefix`, by key. */
  metaWithPrefix(prefix: string): Promise<{ key: string; value: string; updatedAt: string }[]>;

  getLease(name: string): Promise<LeaseRecord | undefined>;

  // Access reviews.
  getReviewCampaign(id: string): Promise<ReviewCampaign | undefined>;
  /** Newest first. */
  listReviewCampaigns(filter: ReviewCampaignFilter): Promise<ReviewCampaign[]>;
  /** Open campaigns whose due time has passed, earliest first. */
  dueReviewCampaigns(now: string, limit: number): Promise<ReviewCampaign[]>;
  getReviewItem(id: string): Promise<ReviewItem | undefined>;
  /** A campaign's items in their order, from position `after` (exclusive; -1 for the start). */
  reviewItems(campaignId: string, filter: ReviewItemFilter): Promise<ReviewItem[]>;
  /** The items given to one reviewer, in order, with when they first saw each. */
  reviewerItems(
    campaignId: string,
    reviewerId: string,
    filter: { offset?: number; limit: number; decision?: ReviewDecision[] },
  ): Promise<{ item: ReviewItem; firstSeenAt: string | null }[]>;
  /** Who else has an item in their list (every reviewer it was given to). */
  assignmentsOf(itemId: string): Promise<ReviewAssignment[]>;
  getReviewer(campaignId: string, reviewerId: string): Promise<ReviewerRecord | undefined>;
  /** A campaign's reviewers, by email. */
  reviewersOf(campaignId: string): Promise<ReviewerRecord[]>;
  /** Items given and items still undecided, per reviewer (or for one), in one counting query. */
  reviewerProgress(campaignId: string, reviewerId?: string): Promise<ReviewerProgress[]>;
  /** Undecided items given to this person in open campaigns, oldest campaign first, in order. */
  openReviewItemsFor(reviewerId: string, limit: number): Promise<ReviewItem[]>;
  /** Items about this grant (any campaign). */
  reviewItemsOfGrant(grantId: string): Promise<ReviewItem[]>;
  /** Standing memberships a review decided to remove, whose removal is not verified yet. */
  unverifiedRemovals(limit: number): Promise<ReviewItem[]>;
}

export interface ReviewCampaignFilter {
  reviewId?: string;
  status?: ReviewCampaignStatus[];
  limit?: number;
}

export interface ReviewItemFilter {
  /** Position to start after (exclusive); default -1, the start. */
  after?: number;
  limit: number;
  decision?: ReviewDecision[];
  remediation?: RemediationStatus[];
}

/**
 * A transaction: the reads above plus the writes, which exist only here, so each state change
 * commits together with its audit event and the jobs it causes, or not at all.
 *
 * A method that throws (the typed `AccessError`s below for a unique conflict) ends the usefulness
 * of the transaction: let the error leave the callback, which rolls everything back. (PostgreSQL
 * cannot go on after a failed statement; code that catches inside the callback and continues would
 * work on SQLite only.)
 */
export interface StoreTx extends StoreReads {
  /** Throws `AccessError('already_pending')` when the person has a pending request for the role. */
  insertRequest(request: AccessRequest): Promise<void>;
  /** Conditional update: applies only while the request is in one of `from`. Returns whether it did. */
  updateRequest(id: string, from: RequestStatus[], patch: Partial<AccessRequest>): Promise<boolean>;
  insertSteps(steps: StepRecord[]): Promise<void>;
  updateStep(requestId: string, index: number, from: StepStatus[], patch: Partial<StepRecord>): Promise<boolean>;
  /**
   * Throws `AccessError('already_decided_step')` when this person already decided a step of the
   * request, or someone already decided one on behalf of the same person.
   */
  insertDecision(decision: DecisionRecord): Promise<void>;

  insertGrant(grant: Grant): Promise<void>;
  updateGrant(id: string, from: GrantStatus[], patch: Partial<Grant>): Promise<boolean>;
  /**
   * Locks these grants until commit, as `getGrants` in a transaction does, without reading them:
   * for the lock order (see `Store`) when the caller already has what it needs of them. On SQLite,
   * whose transaction holds the database's write lock, there is nothing more to lock.
   */
  lockGrants(ids: readonly string[]): Promise<void>;
  insertExtension(extension: ExtensionRecord): Promise<void>;
  insertBreakGlassReview(review: BreakGlassReview): Promise<void>;
  /** Conditional update: applies only while the review is in one of `from`. Returns whether it did. */
  updateBreakGlassReview(
    grantId: string,
    from: BreakGlassReviewStatus[],
    patch: Partial<BreakGlassReview>,
  ): Promise<boolean>;
  /** Throws `AccessError('invalid_delegation')` when the delegator already has an active delegation. */
  insertDelegation(delegation: Delegation): Promise<void>;
  /** Conditional update: applies only while the delegation is in one of `from`. Returns whether it did. */
  updateDelegation(id: string, from: Delegation['status'][], patch: Partial<Delegation>): Promise<boolean>;
  /** A task already recorded for the grant and action is left as it is. */
  insertTask(task: TaskRecord): Promise<void>;
  updateTask(id: string, from: TaskRecord['status'][], patch: Partial<TaskRecord>): Promise<boolean>;

  /** Throws `AccessError('identity_conflict')` when the directory person is bound to another Slack user. */
  bindIdentity(binding: IdentityBinding): Promise<void>;
  unbindIdentity(slackUserId: string): Promise<boolean>;

  upsertPolicyVersion(record: PolicyVersionRecord): Promise<void>;

  /**
   * Appends the next event to the hash chain and returns it. The actor and details are stored in
   * canonical form (sorted keys), so the stored text is what the hash covers (exports pass it on).
   *
   * Single writer: the audit chain has one head, so appends are serialised across every connection
   * and process that shares the database. The store takes the audit-head lock before it reads the
   * head and holds it until the transaction ends; a second transaction that appends waits for the
   * first to commit and then chains onto its last event. Two appends never read the same head, so
   * the chain never forks. (SQLite: the database write lock `BEGIN IMMEDIATE` takes before the
   * first statement. PostgreSQL: a transaction-scoped lock on the head, such as
   * `pg_advisory_xact_lock` or `SELECT ... FOR UPDATE` on a head row.)
   */
  appendAudit(event: AuditEventInput): Promise<AuditEvent>;

  /**
   * Moves an audit sink's state on, but only while its cursor is still at `fromSeq` (what the
   * caller read before sending the batch); the first update of a sink creates its state at 0.
   * Returns whether it applied: false when another process moved the cursor meanwhile, so a
   * cursor never moves back and a batch is never counted twice. `patch.deliveredSeq`, when given,
   * must not be below `fromSeq`.
   */
  updateAuditSink(
    name: string,
    fromSeq: number,
    patch: Partial<Omit<AuditSinkState, 'name'>> & { updatedAt: string },
  ): Promise<boolean>;
  /** Records a signed checkpoint (with the `audit.checkpointed` event, in the same transaction). */
  recordAuditCheckpoint(checkpoint: CheckpointRecord): Promise<void>;

  /**
   * Records an effect to perform after commit. A key already used is ignored (idempotent intent).
   * `subject` names what the effect acts on (see `claimJob`).
   */
  enqueueJob(key: string, payload: JobPayload, runAt: string, subject?: string | null): Promise<void>;
  /**
   * Claims a due job for this worker until `lockedUntil`; false when someone else has it, or when
   * another job of the same subject is running under a lock that has not expired. The check and
   * the claim must be atomic against other claims of that subject, whatever the database: SQLite's
   * write lock (BEGIN IMMEDIATE) does it; on PostgreSQL, lock the subject first (an advisory
   * transaction lock on its hash, or `SELECT ... FOR UPDATE` of a per-subject row). A transaction
   * that claims several jobs claims those with a subject in the order of their subjects, so two
   * such transactions never wait for each other's subject locks in a cycle.
   */
  claimJob(id: number, worker: string, now: string, lockedUntil: string): Promise<boolean>;
  /**
   * `claimJob` for several jobs (in one statement where the database allows): returns the ids
   * claimed. Of two jobs of one subject given together, at most one is claimed. Jobs with a
   * subject are given in the order of their subjects (the lock order of `claimJob`).
   */
  claimJobs(ids: number[], worker: string, now: string, lockedUntil: string): Promise<number[]>;
  /** Extends the lock of a job this worker still holds (a long effect's heartbeat); false when it was lost. */
  renewJob(id: number, worker: string, now: string, lockedUntil: string): Promise<boolean>;
  finishJob(id: number, worker: string, now: string): Promise<boolean>;
  /** `finishJob` for several jobs: returns the ids finished (those this worker still held). */
  finishJobs(ids: number[], worker: string, now: string): Promise<number[]>;
  /**
   * Gives back a job this worker claimed but did not run (a batch cut short by a shutdown): due
   * again at once for any worker, the attempt the claim counted refunded, its last error kept.
   */
  releaseJob(id: number, worker: string, now: string): Promise<boolean>;
  /**
   * Records a failed run: pending again at `retryAt`, or dead when null. `refundAttempt` gives
   * back the attempt the claim counted (a rate-limited run that only has to wait).
   */
  failJob(
    id: number,
    worker: string,
    now: string,
    error: string,
    retryAt: string | null,
    options?: { refundAttempt?: boolean },
  ): Promise<boolean>;

  /**
   * Housekeeping: deletes up to `limit` finished jobs (`done`, or `dead`: given up) last updated
   * before `before`, oldest first, and returns how many. A job waiting or running is never deleted.
   * Once deleted, a job's key may be used again: `before` must be older than any day an alert key
   * is about (the settings require a retention of at least a week).
   */
  pruneJobs(before: string, limit: number): Promise<number>;

  setMeta(key: string, value: string, now: string): Promise<void>;
  deleteMeta(key: string): Promise<boolean>;

  /**
   * Takes the named lease for `holder` until `expiresAt`: succeeds when nobody holds it, when this
   * holder already does, or when the previous holder's lease expired (`expiresAt <= now`: a dead
   * process). A conditional write, so of two processes racing for it exactly one wins.
   */
  acquireLease(name: string, holder: string, now: string, expiresAt: string): Promise<boolean>;
  /** Extends a lease this holder still holds; false when it was lost (expired and taken over). */
  renewLease(name: string, holder: string, now: string, expiresAt: string): Promise<boolean>;
  /** Gives the lease up so another process need not wait for it to expire; false when not held. */
  releaseLease(name: string, holder: string): Promise<boolean>;

  /**
   * Throws `AccessError('review_open')` when the review has an open campaign, or a campaign for
   * the same schedule slot: of two processes starting the same review, one wins.
   */
  insertReviewCampaign(campaign: ReviewCampaign): Promise<void>;
  updateReviewCampaign(id: string, from: ReviewCampaignStatus[], patch: Partial<ReviewCampaign>): Promise<boolean>;
  /** Any number of items (the store splits them into statements as its database needs). */
  insertReviewItems(items: ReviewItem[]): Promise<void>;
  insertReviewAssignments(assignments: ReviewAssignment[]): Promise<void>;
  insertReviewers(reviewers: ReviewerRecord[]): Promise<void>;
  /**
   * Conditional update: applies only while the item's decision (and remediation, when given) is
   * one of those named. Returns whether it did.
   */
  updateReviewItem(
    id: string,
    from: { decision?: ReviewDecision[]; remediation?: RemediationStatus[] },
    patch: Partial<ReviewItem>,
  ): Promise<boolean>;
  /** Records that a reviewer saw these items now, where they had not been seen before; returns how many. */
  markReviewItemsSeen(reviewerId: string, itemIds: readonly string[], at: string): Promise<number>;
  updateReviewer(
    campaignId: string,
    reviewerId: string,
    patch: Pick<ReviewerRecord, 'remindersSent'>,
  ): Promise<boolean>;
}

/**
 * What a notifier posted, per message slot (the Slack adapter's `slack_messages`): where it is, so
 * a retried job updates the message instead of posting it again. Owned by the notifier adapter;
 * the operations never read it. Each write commits on its own.
 */
export interface PostedMessage {
  slot: string;
  channel: string;
  /** The message's id in its channel (Slack's `ts`). */
  ts: string;
  requestId: string | null;
  stepIndex: number | null;
  recipient: string;
  notificationType: string;
  postedAt: string;
  updatedAt: string;
}

export interface PostedMessages {
  get(slot: string): Promise<PostedMessage | undefined>;
  forRequest(requestId: string): Promise<PostedMessage[]>;
  /** Every message whose slot starts with `prefix` (all copies of one task message). */
  withSlotPrefix(prefix: string): Promise<PostedMessage[]>;
  /** Records a posted message; a second post for the same slot replaces the first (it was re-posted). */
  save(message: PostedMessage): Promise<void>;
  touch(slot: string, at: string): Promise<void>;
  /**
   * Housekeeping: deletes up to `limit` records of messages nothing will update again, oldest
   * first, and returns how many. A record goes when it was posted and last updated before `before`
   * and it is about no request, or about a request that ended before `before` (denied, cancelled
   * or expired; or approved, and its grant revoked). A request still pending, a grant still held
   * or being revoked keeps every record of its messages: a later update edits them (buttons that
   * no longer apply go, the new state shows).
   */
  prune(before: string, limit: number): Promise<number>;
}

/**
 * The store. Reads run on committed data; every write runs in `transaction`.
 *
 * Transactions:
 * - `transaction(fn)` runs `fn` in one write transaction and commits when the promise it returns
 *   resolves; when it rejects (or throws), everything is rolled back and the error is rethrown.
 * - The callback may await the transaction's own methods and nothing else: no directory, Slack,
 *   webhook or timer inside a transaction (effects are jobs, run after commit). A transaction
 *   holds the write lock (SQLite) or the audit-head lock (PostgreSQL) while it is open, so it must
 *   be short.
 * - Transactions of one store never interleave: a second one waits for the first to finish. A
 *   transaction started inside a running one (or `store.getX` used inside one instead of `tx.getX`)
 *   is a programming error and throws at once; it never waits on itself.
 * - Transactions of different stores (processes, replicas) on one database are isolated from each
 *   other: conditional updates (`updateX(id, from, patch) -> boolean`) decide every race, and
 *   audit appends are serialised (see `appendAudit`).
 * - Lock order: inside a transaction, `tx.getX(id)` of one record locks it until commit
 *   (PostgreSQL: `FOR UPDATE`), so a re-check reads what the previous holder committed. Read (lock)
 *   every record the transaction will change before its first `appendAudit`: the audit lock is
 *   held to commit, and a transaction holding it while it waits for a record another transaction
 *   holds (which waits for the audit lock) deadlocks. PostgreSQL breaks such a cycle and the store
 *   retries the loser, but each costs a second (`deadlock_timeout`).
 */
export interface Store extends StoreReads {
  /** The kind of database, for logs and /healthz ("sqlite", "postgres"). */
  readonly kind: string;
  /**
   * Whether a read waits on a database server (true) or is synchronous work in this process (false):
   * only the first are worth starting early, to overlap other waits (a Slack call); the second would
   * only run ahead of whatever else the process has to do.
   */
  readonly readsWait: boolean;
  /** Where the data is, for people (a file path; never a password). */
  readonly location: string;
  transaction<T>(fn: (tx: StoreTx) => Promise<T>): Promise<T>;
  /**
   * A consistent read-only view for an export: every read of the snapshot sees the database as it
   * was when the snapshot was opened, however long the export takes and whatever is written
   * meanwhile. Close it when done.
   */
  openSnapshot(): Promise<ExportSnapshot>;
  /** The notifier adapter's record of posted messages. */
  readonly messages: PostedMessages;
  /**
   * Rows per table, for /healthz and operators watching growth: `{ requests: 1200, jobs: 9800, ... }`,
   * every table of the store, by its name in the database. Exact counts: callers cache them.
   */
  tableSizes(): Promise<Record<string, number>>;
  /** Closes the connections; waits for a transaction in progress. */
  close(): Promise<void>;
}
