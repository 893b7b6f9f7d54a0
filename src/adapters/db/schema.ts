/**
 * SQLite tables (drizzle). Times are ISO 8601 UTC text, which sorts correctly and reads well in
 * exports. Migrations in drizzle/ are generated from this file by drizzle-kit; never edit them.
 */
import { sql } from 'drizzle-orm';
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core';
import type { Actor } from '../../domain/audit.js';
import type { ApprovalStep, PeopleRule } from '../../domain/policy.js';
import type { JobPayload, PersonRef, ProvisionSnapshot } from '../../domain/records.js';
import type { ReviewerRule } from '../../domain/reviews/review-definition.js';
import type { ItemSource, RuleReviewed } from '../../domain/reviews/review-records.js';

export const requests = sqliteTable(
  'requests',
  {
    id: text('id').primaryKey(),
    kind: text('kind', { enum: ['access', 'extension', 'break_glass'] }).notNull(),
    grantId: text('grant_id'),
    requesterId: text('requester_id').notNull(),
    requesterEmail: text('requester_email').notNull(),
    requesterName: text('requester_name').notNull(),
    requesterSlackId: text('requester_slack_id'),
    app: text('app').notNull(),
    role: text('role').notNull(),
    policyName: text('policy_name').notNull(),
    policyVersion: text('policy_version').notNull(),
    justification: text('justification').notNull(),
    requestedSeconds: integer('requested_seconds').notNull(),
    grantedSeconds: integer('granted_seconds'),
    status: text('status', {
      enum: ['pending_approval', 'approved', 'denied', 'cancelled', 'approval_expired'],
    }).notNull(),
    autoApproveRule: text('auto_approve_rule'),
    currentStep: integer('current_step').notNull(),
    stepCount: integer('step_count').notNull(),
    createdAt: text('created_at').notNull(),
    approvalDeadline: text('approval_deadline').notNull(),
    decidedAt: text('decided_at'),
    decisionReason: text('decision_reason'),
  },
  (t) => [
    // A person's requests, newest last; not by status, so deciding a request leaves it in place.
    index('requests_requester').on(t.requesterId, t.createdAt),
    index('requests_status_deadline').on(t.status, t.approvalDeadline),
    index('requests_created').on(t.createdAt),
    // One pending request per person and role: a second one points to the first.
    uniqueIndex('requests_one_pending')
      .on(t.requesterId, t.app, t.role)
      .where(sql`status = 'pending_approval'`),
  ],
);

export const approvalSteps = sqliteTable(
  'approval_steps',
  {
    requestId: text('request_id')
      .notNull()
      .references(() => requests.id),
    index: integer('idx').notNull(),
    step: text('step', { mode: 'json' }).$type<ApprovalStep>().notNull(),
    label: text('label').notNull(),
    required: integer('required').notNull(),
    status: text('status', { enum: ['waiting', 'open', 'approved', 'denied', 'closed'] }).notNull(),
    approvers: text('approvers', { mode: 'json' }).$type<PersonRef[]>().notNull(),
    fallbackReason: text('fallback_reason'),
    notifyChannel: text('notify_channel'),
    startedAt: text('started_at'),
    decidedAt: text('decided_at'),
    escalateAt: text('escalate_at'),
    escalatedAt: text('escalated_at'),
    escalationApprovers: text('escalation_approvers', { mode: 'json' }).$type<PersonRef[]>().notNull().default([]),
    nextReminderAt: text('next_reminder_at'),
    remindersSent: text('reminders_sent', { mode: 'json' }).$type<number[]>().notNull().default([]),
  },
  (t) => [
    primaryKey({ columns: [t.requestId, t.index] }),
    // The sweep's look-ups: open steps due to escalate, open steps whose approvers are owed a reminder.
    // Only the steps with a time set are in them (the look-ups compare it, so they need no others):
    // a policy without escalation or reminders writes neither index when a step opens or closes.
    index('approval_steps_escalate')
      .on(t.status, t.escalateAt)
      .where(sql`escalate_at is not null`),
    index('approval_steps_remind')
      .on(t.status, t.nextReminderAt)
      .where(sql`next_reminder_at is not null`),
  ],
);

export const decisions = sqliteTable(
  'decisions',
  {
    id: integer('id').primaryKey(),
    requestId: text('request_id')
      .notNull()
      .references(() => requests.id),
    stepIndex: integer('step_index').notNull(),
    approverId: text('approver_id').notNull(),
    approverEmail: text('approver_email').notNull(),
    approverName: text('approver_name').notNull(),
    approverSlackId: text('approver_slack_id'),
    decision: text('decision', { enum: ['approve', 'deny'] }).notNull(),
    reason: text('reason'),
    shortenedToSeconds: integer('shortened_to_seconds'),
    at: text('at').notNull(),
    /** The approver the decider stood in for (a delegation); null when they decided for themselves. */
    onBehalfOfId: text('on_behalf_of_id'),
    onBehalfOfEmail: text('on_behalf_of_email'),
    onBehalfOfName: text('on_behalf_of_name'),
    onBehalfOfSlackId: text('on_behalf_of_slack_id'),
  },
  // One person decides at most one step of a request, once, and is stood in for at most once: the
  // database enforces it too.
  (t) => [
    uniqueIndex('decisions_one_per_person').on(t.requestId, t.approverId),
    uniqueIndex('decisions_one_per_delegator')
      .on(t.requestId, t.onBehalfOfId)
      .where(sql`on_behalf_of_id is not null`),
  ],
);

export const grants = sqliteTable(
  'grants',
  {
    id: text('id').primaryKey(),
    requestId: text('request_id')
      .notNull()
      .references(() => requests.id),
    holderId: text('holder_id').notNull(),
    holderEmail: text('holder_email').notNull(),
    holderName: text('holder_name').notNull(),
    holderSlackId: text('holder_slack_id'),
    app: text('app').notNull(),
    role: text('role').notNull(),
    policyName: text('policy_name').notNull(),
    policyVersion: text('policy_version').notNull(),
    sensitive: integer('sensitive', { mode: 'boolean' }).notNull(),
    breakGlass: integer('break_glass', { mode: 'boolean' }).notNull().default(false),
    snapshot: text('snapshot', { mode: 'json' }).$type<ProvisionSnapshot>().notNull(),
    /** The target Okta group, denormalised from the snapshot for the "another grant through this group" check. */
    provisionGroup: text('provision_group'),
    alreadyMember: integer('already_member', { mode: 'boolean' }),
    status: text('status', {
      enum: ['provisioning', 'active', 'revoking', 'revoked', 'provisioning_failed'],
    }).notNull(),
    durationSeconds: integer('duration_seconds').notNull(),
    maxTotalSeconds: integer('max_total_seconds'),
    extensionApproval: text('extension_approval', { enum: ['same', 'auto'] }),
    createdAt: text('created_at').notNull(),
    activatedAt: text('activated_at'),
    expiresAt: text('expires_at'),
    revocationReason: text('revocation_reason', {
      enum: ['expired', 'relinquished', 'revoked', 'offboarded', 'removed_externally', 'review'],
    }),
    revocationNote: text('revocation_note'),
    revokedBy: text('revoked_by'),
    revocationStartedAt: text('revocation_started_at'),
    revokedAt: text('revoked_at'),
    remindersSent: text('reminders_sent', { mode: 'json' }).$type<number[]>().notNull(),
    failures: integer('failures').notNull(),
    lastError: text('last_error'),
  },
  (t) => [
    index('grants_status_expires').on(t.status, t.expiresAt),
    index('grants_holder').on(t.holderId, t.status),
    index('grants_group').on(t.provisionGroup, t.status),
    index('grants_request').on(t.requestId),
  ],
);

export const extensions = sqliteTable(
  'extensions',
  {
    id: text('id').primaryKey(),
    grantId: text('grant_id')
      .notNull()
      .references(() => grants.id),
    requestId: text('request_id')
      .notNull()
      .references(() => requests.id),
    addedSeconds: integer('added_seconds').notNull(),
    previousExpiresAt: text('previous_expires_at').notNull(),
    newExpiresAt: text('new_expires_at').notNull(),
    at: text('at').notNull(),
  },
  (t) => [index('extensions_grant').on(t.grantId)],
);

/** The review each break-glass grant owes (one per grant). */
export const breakGlassReviews = sqliteTable(
  'break_glass_reviews',
  {
    grantId: text('grant_id')
      .primaryKey()
      .references(() => grants.id),
    requestId: text('request_id')
      .notNull()
      .references(() => requests.id),
    reviewers: text('reviewers', { mode: 'json' }).$type<PeopleRule>().notNull(),
    incident: text('incident'),
    createdAt: text('created_at').notNull(),
    dueAt: text('due_at').notNull(),
    status: text('status', { enum: ['pending', 'justified', 'not_justified'] }).notNull(),
    reviewerId: text('reviewer_id'),
    reviewerEmail: text('reviewer_email'),
    reviewerName: text('reviewer_name'),
    reviewerSlackId: text('reviewer_slack_id'),
    reason: text('reason'),
    reviewedAt: text('reviewed_at'),
  },
  (t) => [index('break_glass_reviews_due').on(t.status, t.dueAt)],
);

/** Approvals handed to someone else while a person is away. */
export const delegations = sqliteTable(
  'delegations',
  {
    id: text('id').primaryKey(),
    delegatorId: text('delegator_id').notNull(),
    delegatorEmail: text('delegator_email').notNull(),
    delegatorName: text('delegator_name').notNull(),
    delegatorSlackId: text('delegator_slack_id'),
    delegateId: text('delegate_id').notNull(),
    delegateEmail: text('delegate_email').notNull(),
    delegateName: text('delegate_name').notNull(),
    delegateSlackId: text('delegate_slack_id'),
    startsAt: text('starts_at').notNull(),
    endsAt: text('ends_at').notNull(),
    status: text('status', { enum: ['active', 'ended'] }).notNull(),
    createdAt: text('created_at').notNull(),
    endedAt: text('ended_at'),
    endedReason: text('ended_reason', {
      enum: ['off', 'expired', 'replaced', 'delegator_inactive', 'delegate_inactive'],
    }),
  },
  (t) => [
    // One active delegation per person: a new one replaces the old (ended in the same transaction).
    uniqueIndex('delegations_one_active')
      .on(t.delegatorId)
      .where(sql`status = 'active'`),
    index('delegations_delegate').on(t.delegateId, t.status),
    index('delegations_status_ends').on(t.status, t.endsAt),
  ],
);

export const tasks = sqliteTable(
  'tasks',
  {
    id: text('id').primaryKey(),
    grantId: text('grant_id')
      .notNull()
      .references(() => grants.id),
    action: text('action', { enum: ['grant', 'revoke'] }).notNull(),
    assigneeGroup: text('assignee_group').notNull(),
    status: text('status', { enum: ['open', 'done', 'cancelled'] }).notNull(),
    createdAt: text('created_at').notNull(),
    completedById: text('completed_by_id'),
    completedByEmail: text('completed_by_email'),
    completedByName: text('completed_by_name'),
    completedAt: text('completed_at'),
  },
  (t) => [uniqueIndex('tasks_one_per_action').on(t.grantId, t.action)],
);

export const policyVersions = sqliteTable(
  'policy_versions',
  {
    policyName: text('policy_name').notNull(),
    version: text('version').notNull(),
    app: text('app').notNull(),
    role: text('role').notNull(),
    definition: text('definition', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    firstSeenAt: text('first_seen_at').notNull(),
    lastSeenAt: text('last_seen_at').notNull(),
  },
  (t) => [primaryKey({ columns: [t.policyName, t.version] })],
);

export const identityBindings = sqliteTable(
  'identity_bindings',
  {
    slackUserId: text('slack_user_id').primaryKey(),
    directoryId: text('directory_id').notNull(),
    email: text('email').notNull(),
    boundAt: text('bound_at').notNull(),
  },
  (t) => [uniqueIndex('identity_one_slack_user_per_person').on(t.directoryId)],
);

export const jobs = sqliteTable(
  'jobs',
  {
    id: integer('id').primaryKey(),
    key: text('key').notNull(),
    kind: text('kind').notNull(),
    payload: text('payload', { mode: 'json' }).$type<JobPayload>().notNull(),
    status: text('status', { enum: ['pending', 'running', 'done', 'dead'] }).notNull(),
    attempts: integer('attempts').notNull(),
    runAt: text('run_at').notNull(),
    lockedUntil: text('locked_until'),
    lockedBy: text('locked_by'),
    lastError: text('last_error'),
    createdAt: text('created_at').notNull(),
    updatedAt: text('updated_at').notNull(),
    /**
     * What the job's effect acts on (a person's membership of one Okta group, one grant's webhook):
     * jobs with the same subject never run at the same time (see `claimJob`). Null for messages.
     */
    subject: text('subject'),
    /**
     * Where the key sorts in `jobs_key`: the time part of the first id the key names (9 characters
     * after its first `_`: ids are `<prefix>_<time in base 36><random>`), any text for a key without
     * one. Computed, never stored (a virtual column). Look-ups by key give it too (`byKey` in jobs-queue.ts).
     */
    keyOrder: text('key_order').generatedAlwaysAs(sql`substr(key, instr(key, '_') + 1, 9)`, { mode: 'virtual' }),
  },
  (t) => [
    // Unique keys, ordered by the time in the id they name (`notify:approval:req_<time><random>:…`,
    // `provision:grt_<time><random>`): a request's jobs, whatever their kind, are inserted next to
    // each other at the end of the index (one page per commit), where ordered by the key itself each
    // kind prefix is an insert point (a page) of its own. The key alone stays unique: the index is
    // on the key, sorted first by a function of it.
    uniqueIndex('jobs_key').on(t.keyOrder, t.key),
    index('jobs_due').on(t.status, t.runAt),
    // Only the jobs with a subject (a message has none): its look-ups compare the subject, so they
    // need no others, and a message's job writes nothing here as it is claimed and finished.
    index('jobs_subject')
      .on(t.subject, t.status)
      .where(sql`subject is not null`),
  ],
);

export const auditEvents = sqliteTable(
  'audit_events',
  {
    // Insertion order (rowid) is kept apart from seq so that a reordered log can be told apart.
    id: integer('id').primaryKey(),
    seq: integer('seq').notNull(),
    at: text('at').notNull(),
    actor: text('actor', { mode: 'json' }).$type<Actor>().notNull(),
    actorLabel: text('actor_label').notNull(),
    action: text('action').notNull(),
    requestId: text('request_id'),
    grantId: text('grant_id'),
    details: text('details', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    prevHash: text('prev_hash').notNull(),
    hash: text('hash').notNull(),
  },
  (t) => [
    uniqueIndex('audit_seq').on(t.seq),
    index('audit_at').on(t.at),
    index('audit_request').on(t.requestId),
    // Only the events about a grant: its look-ups compare grant_id, so they need no others.
    index('audit_grant')
      .on(t.grantId)
      .where(sql`grant_id is not null`),
  ],
);

/**
 * The audit stream: one row per sink, its cursor (the last seq the sink confirmed) and the state
 * of its failures. The cursor only moves forward, and only while it is where the mover read it.
 */
export const auditSinks = sqliteTable('audit_sinks', {
  name: text('name').primaryKey(),
  deliveredSeq: integer('delivered_seq').notNull(),
  deliveredAt: text('delivered_at'),
  failingSince: text('failing_since'),
  failures: integer('failures').notNull(),
  lastError: text('last_error'),
  alertedAt: text('alerted_at'),
  updatedAt: text('updated_at').notNull(),
});

/** Signed checkpoints of the audit chain's head (each also logged as an `audit.checkpointed` event). */
export const auditCheckpoints = sqliteTable('audit_checkpoints', {
  seq: integer('seq').primaryKey(),
  hash: text('hash').notNull(),
  at: text('at').notNull(),
  signature: text('signature').notNull(),
  keyId: text('key_id').notNull(),
  eventSeq: integer('event_seq').notNull(),
});

/** Small named values: cursors (Okta System Log), schedule leases. */
export const meta = sqliteTable('meta', {
  key: text('key').primaryKey(),
  value: text('value').notNull(),
  updatedAt: text('updated_at').notNull(),
});

/**
 * Schedule leases: one row per schedule (sweep, reconcile, digest). A process runs a schedule only
 * while it holds the lease; a lease whose holder died expires at `expiresAt` and can be taken over.
 */
export const leases = sqliteTable('leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  acquiredAt: text('acquired_at').notNull(),
  expiresAt: text('expires_at').notNull(),
});

/**
 * Slack adapter: every message the bot posted, so a retried job updates instead of posting again
 * and a decision updates every copy of a step's message. `slot` names what the message is about:
 * `approval:<request>:<step>:<recipient>` for approval messages (one per approver or channel),
 * `job:<job key>` for everything else. Slack ids never reach the domain records.
 */
export const slackMessages = sqliteTable(
  'slack_messages',
  {
    slot: text('slot').primaryKey(),
    channel: text('channel').notNull(),
    ts: text('ts').notNull(),
    requestId: text('request_id'),
    stepIndex: integer('step_index'),
    recipient: text('recipient').notNull(),
    notificationType: text('notification_type').notNull(),
    postedAt: text('posted_at').notNull(),
    updatedAt: text('updated_at').notNull(),
  },
  (t) => [
    index('slack_messages_request').on(t.requestId, t.stepIndex),
    // Housekeeping reads the oldest first; posted_at never changes, so updates cost this index nothing.
    index('slack_messages_posted').on(t.postedAt),
  ],
);

// ---- access reviews ------------------------------------------------------------------------------

/** One run of a review definition. At most one open campaign per review, one per schedule slot. */
export const reviewCampaigns = sqliteTable(
  'review_campaigns',
  {
    id: text('id').primaryKey(),
    reviewId: text('review_id').notNull(),
    reviewName: text('review_name').notNull(),
    version: text('version').notNull(),
    definition: text('definition', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
    trigger: text('trigger', { enum: ['schedule', 'command_line', 'slack'] }).notNull(),
    startedBy: text('started_by').notNull(),
    slot: text('slot'),
    status: text('status', { enum: ['open', 'closed'] }).notNull(),
    startedAt: text('started_at').notNull(),
    dueAt: text('due_at').notNull(),
    closedAt: text('closed_at'),
    closedBy: text('closed_by'),
    populationCount: integer('population_count').notNull(),
    populationHash: text('population_hash').notNull(),
    rules: text('rules', { mode: 'json' }).$type<RuleReviewed[]>(),
  },
  (t) => [
    uniqueIndex('review_campaigns_one_open')
      .on(t.reviewId)
      .where(sql`status = 'open'`),
    uniqueIndex('review_campaigns_slot').on(t.reviewId, t.slot),
    index('review_campaigns_status_due').on(t.status, t.dueAt),
    index('review_campaigns_started').on(t.startedAt),
  ],
);

/** One item per holder and access, frozen when the campaign started. */
export const reviewItems = sqliteTable(
  'review_items',
  {
    id: text('id').primaryKey(),
    campaignId: text('campaign_id')
      .notNull()
      .references(() => reviewCampaigns.id),
    position: integer('position').notNull(),
    holderId: text('holder_id').notNull(),
    holderEmail: text('holder_email').notNull(),
    holderName: text('holder_name').notNull(),
    accessKind: text('access_kind', { enum: ['role', 'group'] }).notNull(),
    app: text('app'),
    role: text('role'),
    accessGroup: text('access_group'),
    source: text('source', { mode: 'json' }).$type<ItemSource>().notNull(),
    /** The grant the item is about (null for standing membership), for the revocation hook. */
    grantId: text('grant_id'),
    reviewerRule: text('reviewer_rule', { mode: 'json' }).$type<ReviewerRule>().notNull(),
    reviewerFallbackReason: text('reviewer_fallback_reason'),
    reviewerLabel: text('reviewer_label').notNull(),
    decision: text('decision', { enum: ['pending', 'keep', 'revoke', 'undecided'] }).notNull(),
    reason: text('reason'),
    decidedById: text('decided_by_id'),
    decidedByEmail: text('decided_by_email'),
    decidedByName: text('decided_by_name'),
    decidedBySlackId: text('decided_by_slack_id'),
    decidedAt: text('decided_at'),
    secondsToDecision: integer('seconds_to_decision'),
    remediation: text('remediation', { enum: ['none', 'pending', 'removed', 'failed'] }).notNull(),
    remediationDetail: text('remediation_detail'),
    remediatedAt: text('remediated_at'),
    remediationEventSeq: integer('remediation_event_seq'),
  },
  (t) => [
    uniqueIndex('review_items_position').on(t.campaignId, t.position),
    index('review_items_grant').on(t.grantId),
    index('review_items_remediation').on(t.remediation),
  ],
);

/** Which reviewer got which item (a group's items go to each member) and when they first saw it. */
export const reviewAssignments = sqliteTable(
  'review_assignments',
  {
    itemId: text('item_id')
      .notNull()
      .references(() => reviewItems.id),
    reviewerId: text('reviewer_id').notNull(),
    campaignId: text('campaign_id').notNull(),
    position: integer('position').notNull(),
    firstSeenAt: text('first_seen_at'),
  },
  (t) => [
    primaryKey({ columns: [t.itemId, t.reviewerId] }),
    index('review_assignments_reviewer').on(t.reviewerId, t.campaignId, t.position),
  ],
);

/** The reviewers of a campaign, and the reminders they were sent. */
export const reviewReviewers = sqliteTable(
  'review_reviewers',
  {
    campaignId: text('campaign_id')
      .notNull()
      .references(() => reviewCampaigns.id),
    reviewerId: text('reviewer_id').notNull(),
    email: text('email').notNull(),
    name: text('name').notNull(),
    slackId: text('slack_id'),
    items: integer('items').notNull(),
    remindersSent: text('reminders_sent', { mode: 'json' }).$type<number[]>().notNull(),
  },
  (t) => [primaryKey({ columns: [t.campaignId, t.reviewerId] })],
);
