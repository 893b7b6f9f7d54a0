/** Access reviews on SQLite: campaigns, their items, who each item was given to, and the reviewers. */
import { and, asc, count, desc, eq, gt, inArray, isNull, lte, sql, sum, type SQL } from 'drizzle-orm';
import { AccessError } from '../../domain/errors.js';
import type {
  RemediationStatus,
  ReviewAssignment,
  ReviewCampaign,
  ReviewCampaignStatus,
  ReviewDecision,
  ReviewerProgress,
  ReviewerRecord,
  ReviewItem,
} from '../../domain/reviews/review-records.js';
import type { ReviewCampaignFilter, ReviewItemFilter } from '../../operations/ports.js';
import { isUniqueViolation, type Connection } from './open-database.js';
import {
  fromCampaign,
  fromReviewer,
  fromReviewItem,
  fromReviewItemPatch,
  toCampaign,
  toReviewer,
  toReviewItem,
} from './review-row-mappers.js';
import * as t from './schema.js';
import { CHUNK, type SyncPort } from './sync-port.js';

type Methods =
  | 'getReviewCampaign'
  | 'listReviewCampaigns'
  | 'dueReviewCampaigns'
  | 'getReviewItem'
  | 'reviewItems'
  | 'reviewerItems'
  | 'assignmentsOf'
  | 'getReviewer'
  | 'reviewersOf'
  | 'reviewerProgress'
  | 'openReviewItemsFor'
  | 'reviewItemsOfGrant'
  | 'unverifiedRemovals'
  | 'insertReviewCampaign'
  | 'updateReviewCampaign'
  | 'insertReviewItems'
  | 'insertReviewAssignments'
  | 'insertReviewers'
  | 'updateReviewItem'
  | 'markReviewItemsSeen'
  | 'updateReviewer';

type CampaignRow = typeof t.reviewCampaigns.$inferSelect;

/** Rows per insert statement: SQLite caps the parameters of one statement (32,766 by default). */
const ITEM_ROWS = 500;

export class ReviewsRepo implements SyncPort<Methods> {
  constructor(private readonly c: Connection) {}

  getReviewCampaign(id: string): ReviewCampaign | undefined {
    const row = this.c
      .prepared('getReviewCampaign', (db) =>
        db
          .select()
          .from(t.reviewCampaigns)
          .where(eq(t.reviewCampaigns.id, sql.placeholder('id'))),
      )
      .get({ id });
    return row && toCampaign(row);
  }

  listReviewCampaigns(filter: ReviewCampaignFilter): ReviewCampaign[] {
    const where: SQL[] = [];
    if (filter.reviewId) where.push(eq(t.reviewCampaigns.reviewId, filter.reviewId));
    if (filter.status?.length) where.push(inArray(t.reviewCampaigns.status, filter.status));
    return this.c.db
      .select()
      .from(t.reviewCampaigns)
      .where(and(...where))
      .orderBy(desc(t.reviewCampaigns.startedAt), desc(t.reviewCampaigns.id))
      .limit(filter.limit ?? 100)
      .all()
      .map(toCampaign);
  }

  dueReviewCampaigns(now: string, limit: number): ReviewCampaign[] {
    return this.c.db
      .select()
      .from(t.reviewCampaigns)
      .where(and(eq(t.reviewCampaigns.status, 'open'), lte(t.reviewCampaigns.dueAt, now)))
      .orderBy(asc(t.reviewCampaigns.dueAt))
      .limit(limit)
      .all()
      .map(toCampaign);
  }

  getReviewItem(id: string): ReviewItem | undefined {
    const row = this.c
      .prepared('getReviewItem', (db) =>
        db
          .select()
          .from(t.reviewItems)
          .where(eq(t.reviewItems.id, sql.placeholder('id'))),
      )
      .get({ id });
    return row && toReviewItem(row);
  }

  reviewItems(campaignId: string, filter: ReviewItemFilter): ReviewItem[] {
    const where: SQL[] = [eq(t.reviewItems.campaignId, campaignId), gt(t.reviewItems.position, filter.after ?? -1)];
    if (filter.decision?.length) where.push(inArray(t.reviewItems.decision, filter.decision));
    if (filter.remediation?.length) where.push(inArray(t.reviewItems.remediation, filter.remediation));
    return this.c.db
      .select()
      .from(t.reviewItems)
      .where(and(...where))
      .orderBy(asc(t.reviewItems.position))
      .limit(filter.limit)
      .all()
      .map(toReviewItem);
  }

  reviewerItems(
    campaignId: string,
    reviewerId: string,
    filter: { offset?: number; limit: number; decision?: ReviewDecision[] },
  ): { item: ReviewItem; firstSeenAt: string | null }[] {
    const a = t.reviewAssignments;
    const where: SQL[] = [eq(a.campaignId, campaignId), eq(a.reviewerId, reviewerId)];
    if (filter.decision?.length) where.push(inArray(t.reviewItems.decision, filter.decision));
    return this.c.db
      .select({ item: t.reviewItems, firstSeenAt: a.firstSeenAt })
      .from(a)
      .innerJoin(t.reviewItems, eq(t.reviewItems.id, a.itemId))
      .where(and(...where))
      .orderBy(asc(a.position))
      .limit(filter.limit)
      .offset(filter.offset ?? 0)
      .all()
      .map((r) => ({ item: toReviewItem(r.item), firstSeenAt: r.firstSeenAt }));
  }

  assignmentsOf(itemId: string): ReviewAssignment[] {
    return this.c.db
      .select()
      .from(t.reviewAssignments)
      .where(eq(t.reviewAssignments.itemId, itemId))
      .orderBy(asc(t.reviewAssignments.reviewerId))
      .all();
  }

  getReviewer(campaignId: string, reviewerId: string): ReviewerRecord | undefined {
    const row = this.c.db
      .select()
      .from(t.reviewReviewers)
      .where(and(eq(t.reviewReviewers.campaignId, campaignId), eq(t.reviewReviewers.reviewerId, reviewerId)))
      .get();
    return row && toReviewer(row);
  }

  reviewersOf(campaignId: string): ReviewerRecord[] {
    return this.c.db
      .select()
      .from(t.reviewReviewers)
      .where(eq(t.reviewReviewers.campaignId, campaignId))
      .orderBy(asc(t.reviewReviewers.email))
      .all()
      .map(toReviewer);
  }

  reviewerProgress(campaignId: string, reviewerId?: string): ReviewerProgress[] {
    const a = t.reviewAssignments;
    const where: SQL[] = [eq(a.campaignId, campaignId)];
    if (reviewerId !== undefined) where.push(eq(a.reviewerId, reviewerId));
    return this.c.db
      .select({
        reviewerId: a.reviewerId,
        assigned: count(),
        pending: sum(sql<number>`case when ${t.reviewItems.decision} = 'pending' then 1 else 0 end`),
        decided: sum(sql<number>`case when ${t.reviewItems.decision} in ('keep', 'revoke') then 1 else 0 end`),
      })
      .from(a)
      .innerJoin(t.reviewItems, eq(t.reviewItems.id, a.itemId))
      .where(and(...where))
      .groupBy(a.reviewerId)
      .orderBy(asc(a.reviewerId))
      .all()
      .map((r) => ({
        reviewerId: r.reviewerId,
        assigned: r.assigned,
        pending: Number(r.pending ?? 0),
        decided: Number(r.decided ?? 0),
      }));
  }

  openReviewItemsFor(reviewerId: string, limit: number): ReviewItem[] {
    const a = t.reviewAssignments;
    return this.c.db
      .select({ item: t.reviewItems })
      .from(a)
      .innerJoin(t.reviewItems, eq(t.reviewItems.id, a.itemId))
      .innerJoin(t.reviewCampaigns, eq(t.reviewCampaigns.id, a.campaignId))
      .where(
        and(eq(a.reviewerId, reviewerId), eq(t.reviewCampaigns.status, 'open'), eq(t.reviewItems.decision, 'pending')),
      )
      .orderBy(asc(t.reviewCampaigns.startedAt), asc(a.campaignId), asc(a.position))
      .limit(limit)
      .all()
      .map((r) => toReviewItem(r.item));
  }

  reviewItemsOfGrant(grantId: string): ReviewItem[] {
    return this.c
      .prepared('reviewItemsOfGrant', (db) =>
        db
          .select()
          .from(t.reviewItems)
          .where(eq(t.reviewItems.grantId, sql.placeholder('grantId')))
          .orderBy(asc(t.reviewItems.campaignId), asc(t.reviewItems.position)),
      )
      .all({ grantId })
      .map(toReviewItem);
  }

  unverifiedRemovals(limit: number): ReviewItem[] {
    return this.c.db
      .select()
      .from(t.reviewItems)
      .where(and(inArray(t.reviewItems.remediation, ['pending', 'failed']), isNull(t.reviewItems.grantId)))
      .orderBy(asc(t.reviewItems.campaignId), asc(t.reviewItems.position))
      .limit(limit)
      .all()
      .map(toReviewItem);
  }

  insertReviewCampaign(campaign: ReviewCampaign): void {
    try {
      this.c.insert(t.reviewCampaigns, fromCampaign(campaign));
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new AccessError(
          'review_open',
          `Review ${campaign.reviewId} already has an open campaign (or one for this schedule slot).`,
          {
            reviewId: campaign.reviewId,
          },
        );
      }
      throw error;
    }
  }

  updateReviewCampaign(id: string, from: ReviewCampaignStatus[], patch: Partial<ReviewCampaign>): boolean {
    const values: Partial<CampaignRow> = {};
    for (const key of ['status', 'closedAt', 'closedBy', 'rules'] as const) {
      if (patch[key] !== undefined) (values as Record<string, unknown>)[key] = patch[key];
    }
    if (Object.keys(values).length === 0) return false;
    return (
      this.c.db
        .update(t.reviewCampaigns)
        .set(values)
        .where(and(eq(t.reviewCampaigns.id, id), inArray(t.reviewCampaigns.status, from)))
        .run().changes === 1
    );
  }

  insertReviewItems(items: ReviewItem[]): void {
    for (let i = 0; i < items.length; i += ITEM_ROWS) {
      this.c.db
        .insert(t.reviewItems)
        .values(items.slice(i, i + ITEM_ROWS).map(fromReviewItem))
        .run();
    }
  }

  insertReviewAssignments(assignments: ReviewAssignment[]): void {
    for (let i = 0; i < assignments.length; i += CHUNK * 4) {
      this.c.db
        .insert(t.reviewAssignments)
        .values(assignments.slice(i, i + CHUNK * 4))
        .run();
    }
  }

  insertReviewers(reviewers: ReviewerRecord[]): void {
    for (let i = 0; i < reviewers.length; i += CHUNK) {
      this.c.db
        .insert(t.reviewReviewers)
        .values(reviewers.slice(i, i + CHUNK).map(fromReviewer))
        .run();
    }
  }

  updateReviewItem(
    id: string,
    from: { decision?: ReviewDecision[]; remediation?: RemediationStatus[] },
    patch: Partial<ReviewItem>,
  ): boolean {
    const values = fromReviewItemPatch(patch);
    if (Object.keys(values).length === 0) return false;
    const where: SQL[] = [eq(t.reviewItems.id, id)];
    if (from.decision) where.push(inArray(t.reviewItems.decision, from.decision));
    if (from.remediation) where.push(inArray(t.reviewItems.remediation, from.remediation));
    return (
      this.c.db
        .update(t.reviewItems)
        .set(values)
        .where(and(...where))
        .run().changes === 1
    );
  }

  markReviewItemsSeen(reviewerId: string, itemIds: readonly string[], at: string): number {
    let changed = 0;
    for (let i = 0; i < itemIds.length; i += CHUNK) {
      changed += this.c.db
        .update(t.reviewAssignments)
        .set({ firstSeenAt: at })
        .where(
          and(
            eq(t.reviewAssignments.reviewerId, reviewerId),
            inArray(t.reviewAssignments.itemId, itemIds.slice(i, i + CHUNK)),
            isNull(t.reviewAssignments.firstSeenAt),
          ),
        )
        .run().changes;
    }
    return changed;
  }

  updateReviewer(campaignId: string, reviewerId: string, patch: Pick<ReviewerRecord, 'remindersSent'>): boolean {
    return (
      this.c.db
        .update(t.reviewReviewers)
        .set({ remindersSent: patch.remindersSent })
        .where(and(eq(t.reviewReviewers.campaignId, campaignId), eq(t.reviewReviewers.reviewerId, reviewerId)))
        .run().changes === 1
    );
  }
}
