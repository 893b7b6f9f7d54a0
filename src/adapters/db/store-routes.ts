/**
 * Which repository of a store answers each method of the store port, for every store: SQLite's
 * repositories (this folder) and PostgreSQL's (postgres/) are split by the same aggregates, under
 * the same names.
 *
 * Adding a store method (a new issue's table or query):
 * 1. declare it in `StoreReads` or `StoreTx` (src/operations/ports.ts);
 * 2. route it here to its aggregate's repository (a new aggregate: add its name to `RepoName`
 *    and a repository to both stores' `Repos`);
 * 3. write it in the SQLite repository (`<aggregate>-repo.ts`, synchronous) and in the PostgreSQL
 *    one (`postgres/<aggregate>-repo.ts`, async; inside a transaction, a read of one record that
 *    the transaction may then change locks it: `FOR UPDATE`, or `session.lockNamed` for a record
 *    that may not exist yet); a new table goes in both schemas (`schema.ts`, `postgres/schema.ts`)
 *    and `npm run db:generate` writes both migrations;
 * 4. the store contract suite (test/store/store-contract.ts) runs it on both: add its cases there.
 * Both stores check at compile time that every port method is routed to a repository that has it.
 */
import type { StoreReads, StoreTx } from '../../operations/ports.js';

export type RepoName =
  | 'requests'
  | 'grants'
  | 'tasks'
  | 'breakGlass'
  | 'delegations'
  | 'identity'
  | 'audit'
  | 'stream'
  | 'jobs'
  | 'meta'
  | 'reviews';
type WriteMethod = Exclude<keyof StoreTx, keyof StoreReads>;

/** Which repository answers each read of the port. */
export const READS = {
  getRequest: 'requests',
  getRequests: 'requests',
  getSteps: 'requests',
  getDecisions: 'requests',
  decisionsFor: 'requests',
  findPendingRequest: 'requests',
  listRequests: 'requests',
  overdueRequests: 'requests',
  requestsAwaiting: 'requests',
  stepsDueToEscalate: 'requests',
  stepsDueForApproverReminder: 'requests',
  getGrant: 'grants',
  grantForRequest: 'grants',
  findOpenGrant: 'grants',
  listGrants: 'grants',
  expiredGrants: 'grants',
  grantsExpiringBefore: 'grants',
  grantsDueForReminder: 'grants',
  grantsKeepingMemberships: 'grants',
  getGrants: 'grants',
  grantsThroughGroup: 'grants',
  provisionGroupsOf: 'grants',
  holdersOf: 'grants',
  getExtensions: 'grants',
  getBreakGlassReview: 'breakGlass',
  breakGlassReviewsFor: 'breakGlass',
  listBreakGlassReviews: 'breakGlass',
  overdueBreakGlassReviews: 'breakGlass',
  getDelegation: 'delegations',
  getDelegations: 'delegations',
  activeDelegationBy: 'delegations',
  activeDelegationsBy: 'delegations',
  activeDelegationsTo: 'delegations',
  expiredDelegations: 'delegations',
  activeDelegationsInvolving: 'delegations',
  listDelegations: 'delegations',
  getTask: 'tasks',
  getTaskFor: 'tasks',
  openTasks: 'tasks',
  bindingForSlackUser: 'identity',
  roleStateForSlackUser: 'identity',
  bindingForPerson: 'identity',
  latestPolicyVersions: 'identity',
  getPolicyVersion: 'identity',
  auditHead: 'audit',
  auditEvents: 'audit',
  auditEventsFor: 'audit',
  auditEventsBetween: 'audit',
  auditEventsAfterSeq: 'audit',
  auditSinkStates: 'stream',
  auditCheckpoints: 'stream',
  latestAuditCheckpoint: 'stream',
  getJob: 'jobs',
  getJobByKey: 'jobs',
  listJobs: 'jobs',
  countJobs: 'jobs',
  dueJobs: 'jobs',
  getMeta: 'meta',
  metaWithPrefix: 'meta',
  getLease: 'meta',
  getReviewCampaign: 'reviews',
  listReviewCampaigns: 'reviews',
  dueReviewCampaigns: 'reviews',
  getReviewItem: 'reviews',
  reviewItems: 'reviews',
  reviewerItems: 'reviews',
  assignmentsOf: 'reviews',
  getReviewer: 'reviews',
  reviewersOf: 'reviews',
  reviewerProgress: 'reviews',
  openReviewItemsFor: 'reviews',
  reviewItemsOfGrant: 'reviews',
  unverifiedRemovals: 'reviews',
} as const satisfies Record<keyof StoreReads, RepoName>;

/** Which repository performs each write of the port. */
export const WRITES = {
  insertRequest: 'requests',
  updateRequest: 'requests',
  insertSteps: 'requests',
  updateStep: 'requests',
  insertDecision: 'requests',
  insertGrant: 'grants',
  updateGrant: 'grants',
  lockGrants: 'grants',
  insertExtension: 'grants',
  insertBreakGlassReview: 'breakGlass',
  updateBreakGlassReview: 'breakGlass',
  insertDelegation: 'delegations',
  updateDelegation: 'delegations',
  insertTask: 'tasks',
  updateTask: 'tasks',
  bindIdentity: 'identity',
  unbindIdentity: 'identity',
  upsertPolicyVersion: 'identity',
  appendAudit: 'audit',
  updateAuditSink: 'stream',
  recordAuditCheckpoint: 'stream',
  enqueueJob: 'jobs',
  claimJob: 'jobs',
  claimJobs: 'jobs',
  renewJob: 'jobs',
  finishJob: 'jobs',
  finishJobs: 'jobs',
  releaseJob: 'jobs',
  failJob: 'jobs',
  pruneJobs: 'jobs',
  setMeta: 'meta',
  deleteMeta: 'meta',
  acquireLease: 'meta',
  renewLease: 'meta',
  releaseLease: 'meta',
  insertReviewCampaign: 'reviews',
  updateReviewCampaign: 'reviews',
  insertReviewItems: 'reviews',
  insertReviewAssignments: 'reviews',
  insertReviewers: 'reviews',
  updateReviewItem: 'reviews',
  markReviewItemsSeen: 'reviews',
  updateReviewer: 'reviews',
} as const satisfies Record<WriteMethod, RepoName>;

/** Method names a repository set lacks (compile-time check: must be `never`). */
export type Unrouted<Repos, M extends Record<string, RepoName>> = {
  [K in keyof M]: K extends keyof Repos[M[K] & keyof Repos] ? never : K;
}[keyof M];
