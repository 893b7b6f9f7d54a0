/**
 * An access review's records as the core reads and writes them: the campaign (one run of a review
 * definition), its items (one per holder and access, frozen at the start), which reviewers each
 * item was assigned to, and per reviewer what the bot owes them (reminders). Storage maps them to
 * tables; Slack message ids never appear here.
 *
 * An item: pending -> keep | revoke (a reviewer decided) | undecided (nobody did by the due time).
 * Its remediation: none -> pending -> removed (verified gone) | failed (a person must look).
 */
import type { PersonRef } from '../records.js';
import type { ReviewerRule } from './review-definition.js';

export type ReviewCampaignStatus = 'open' | 'closed';
export type ReviewDecision = 'pending' | 'keep' | 'revoke' | 'undecided';
export type RemediationStatus = 'none' | 'pending' | 'removed' | 'failed';

/** What one access is: a role's grant, or membership of a directory group. */
export type ReviewAccess = { kind: 'role'; app: string; role: string } | { kind: 'group'; group: string };

/** How the holder obtained the access. */
export type ItemSource =
  | {
      kind: 'grant';
      grantId: string;
      requestId: string;
      /** Who approved it, or how it was approved without anyone ("auto-approved: …"). */
      approvedBy: string[];
      grantedAt: string | null;
      expiresAt: string | null;
    }
  | { kind: 'standing' };

/** What started a campaign, for the audit log and the summary. */
export type ReviewTrigger = 'schedule' | 'command_line' | 'slack';

/** The eligibility and approver groups of one sensitive role in scope, with their members then. */
export interface RuleReviewed {
  app: string;
  role: string;
  roleName: string;
  policy: string;
  version: string;
  groups: { group: string; use: 'eligibility' | 'approval'; members: string[] | null; error?: string }[];
}

export interface ReviewCampaign {
  id: string;
  reviewId: string;
  reviewName: string;
  /** The review definition's version (review-version.ts) and the definition itself, as it was. */
  version: string;
  definition: Record<string, unknown>;
  trigger: ReviewTrigger;
  /** Who started it: an email, or `system:<component>`. */
  startedBy: string;
  /** The schedule slot it ran for (ISO), so a slot runs one campaign; null when started by hand. */
  slot: string | null;
  status: ReviewCampaignStatus;
  startedAt: string;
  dueAt: string;
  closedAt: string | null;
  /** Who or what closed it: an email, or `system:sweep` at the due time. */
  closedBy: string | null;
  populationCount: number;
  populationHash: string;
  /** The rules reviewed too (SOC 2 CC6.3), read when the campaign closed. */
  rules: RuleReviewed[] | null;
}

/** Who an item was given to when the campaign started. */
export interface ItemReviewer {
  rule: ReviewerRule;
  /** Set when the reviewer rule could not be used for this holder, with why. */
  fallbackReason: string | null;
  /** "Marcus Chen (manager)", "Access admins": for messages and the evidence. */
  label: string;
}

export interface ReviewItem {
  id: string;
  campaignId: string;
  /** The item's place in the campaign (sorted by access, then holder): pages and exports keep it. */
  position: number;
  holder: PersonRef;
  access: ReviewAccess;
  source: ItemSource;
  reviewer: ItemReviewer;
  decision: ReviewDecision;
  reason: string | null;
  decidedBy: PersonRef | null;
  decidedAt: string | null;
  /** Seconds from the decider's first look at the item to the decision (rubber-stamp signal). */
  secondsToDecision: number | null;
  remediation: RemediationStatus;
  remediationDetail: string | null;
  /** When the removal was verified (the grant's revocation confirmed, or the membership read back gone). */
  remediatedAt: string | null;
  /** The audit event that verified it. */
  remediationEventSeq: number | null;
}

/** An item given to one reviewer (a group's items go to each member), and when they first saw it. */
export interface ReviewAssignment {
  itemId: string;
  campaignId: string;
  reviewerId: string;
  position: number;
  firstSeenAt: string | null;
}

/** One reviewer of a campaign: their items are their assignments. */
export interface ReviewerRecord {
  campaignId: string;
  reviewer: PersonRef;
  /** How many items were assigned to them. */
  items: number;
  /** Lead times whose reminder was sent. */
  remindersSent: number[];
}

/** A reviewer's items and how many are still undecided. */
export interface ReviewerProgress {
  reviewerId: string;
  assigned: number;
  pending: number;
  /** Kept or revoked (by them or, for a group's item, another member); undecided items are neither. */
  decided: number;
}

export function accessLabel(access: ReviewAccess): string {
  return access.kind === 'role' ? `${access.app}/${access.role}` : `group:${access.group}`;
}

export function sourceLabel(source: ItemSource): string {
  return source.kind === 'grant' ? source.grantId : 'standing';
}
