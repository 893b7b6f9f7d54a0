/**
 * What a campaign's items add up to, for the summary, `reviews status` and the evidence: decided
 * on time, kept, revoked, left undecided, remediated (removal verified), still pending, and the
 * rubber-stamp signal (items kept within seconds of the reviewer's first look at them). Pure.
 */
import type { ReviewCampaign, ReviewItem } from './review-records.js';

/** Kept faster than this after the first look counts as a possible rubber stamp. */
export const RUBBER_STAMP_SECONDS = 5;

export interface ReviewCounts {
  items: number;
  /** Decided by a reviewer before the due time (and before the campaign closed). */
  decidedOnTime: number;
  kept: number;
  revoked: number;
  /** Nobody decided by the due time. */
  undecided: number;
  /** Still waiting for a decision (open campaigns only). */
  pending: number;
  /** Removals verified (revoked, or undecided and revoked as configured). */
  remediated: number;
  /** Removals asked for and not yet verified. */
  remediationPending: number;
  /** Removals that need a person. */
  remediationFailed: number;
  /** Kept in under RUBBER_STAMP_SECONDS after the decider first saw the item. */
  keptQuickly: number;
}

export function countItems(
  campaign: Pick<ReviewCampaign, 'dueAt' | 'closedAt'>,
  items: readonly ReviewItem[],
): ReviewCounts {
  const counts: ReviewCounts = {
    items: items.length,
    decidedOnTime: 0,
    kept: 0,
    revoked: 0,
    undecided: 0,
    pending: 0,
    remediated: 0,
    remediationPending: 0,
    remediationFailed: 0,
    keptQuickly: 0,
  };
  const end = campaign.closedAt !== null && campaign.closedAt < campaign.dueAt ? campaign.closedAt : campaign.dueAt;
  for (const item of items) {
    if (item.decision === 'pending') counts.pending++;
    else if (item.decision === 'undecided') counts.undecided++;
    else {
      if (item.decision === 'keep') counts.kept++;
      else counts.revoked++;
      if (item.decidedAt !== null && item.decidedAt <= end) counts.decidedOnTime++;
      if (item.decision === 'keep' && item.secondsToDecision !== null && item.secondsToDecision < RUBBER_STAMP_SECONDS)
        counts.keptQuickly++;
    }
    if (item.remediation === 'removed') counts.remediated++;
    else if (item.remediation === 'pending') counts.remediationPending++;
    else if (item.remediation === 'failed') counts.remediationFailed++;
  }
  return counts;
}

/** Adds counts (a campaign read in batches). */
export function addCounts(a: ReviewCounts, b: ReviewCounts): ReviewCounts {
  const out = { ...a };
  for (const key of Object.keys(b) as (keyof ReviewCounts)[]) out[key] += b[key];
  return out;
}

export const NO_COUNTS: ReviewCounts = countItems({ dueAt: '', closedAt: null }, []);

/** One reviewer's share of a campaign. */
export interface ReviewerLine {
  name: string;
  email: string;
  assigned: number;
  pending: number;
  decided: number;
}

/** One decider's decisions, with how many were keeps within seconds of their first look. */
export interface DeciderLine {
  name: string;
  email: string;
  decided: number;
  kept: number;
  keptQuickly: number;
}

/** An item whose removal is not verified: reported for a person, queued, or failed. */
export interface RemovalLine {
  holderName: string;
  holderEmail: string;
  access: string;
  status: 'pending' | 'failed';
  detail: string | null;
}

/** Everything a campaign's summary says, for the security channel and `reviews status`. */
export interface ReviewSummary {
  campaign: ReviewCampaign;
  counts: ReviewCounts;
  reviewers: ReviewerLine[];
  deciders: DeciderLine[];
  /** Removals not verified yet, the first few; `removalsNotShown` more. */
  removals: RemovalLine[];
  removalsNotShown: number;
}
