/**
 * Access reviews on PostgreSQL: campaigns, their items, who each item was given to, and the
 * reviewers. Inside a transaction, reading a campaign or an item by id locks it (`FOR UPDATE`):
 * a decision re-reads both under the lock, so a decision and the close (which updates the campaign
 * first) run one after the other, always campaign before item, and never deadlock on each other.
 */
import { and, asc, count, desc, eq, gt, inArray, isNull, lte, sql, sum, type SQL } from 'drizzle-orm';
import { AccessError } from '../../../domain/errors.js';
import type {
  RemediationStatus,
  ReviewAssignment,
  ReviewCampaign,
  ReviewCampaignStatus,
  ReviewDecision,
  ReviewerProgress,
  ReviewerRecord,
  ReviewItem,
} from '../../../domain/reviews/review-records.js';
import type { ReviewCampaignFilter, ReviewItemFilter, StoreTx } from '../../../operations/ports.js';
import {
  fromCampaign,
  fromReviewer,
  fromReviewItem,
  fromReviewItemPatch,
  toCampaign,
  toReviewer,
  toReviewItem,
} from '../review-row-mappers.js';
import { uniqueViolation } from './connection.js';
import * as t from './schema.js';
import { textArray, type PgSession } from './session.js';

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

/** Rows per insert statement: PostgreSQL takes at most 65,535 parameters in one (an item has 28 columns). */
const ITEM_ROWS = 1000;
const ROWS = 2000;

export class PgReviewsRepo implements Pick<StoreTx, Methods> {
  constructor(private readonly s: PgSession) {}

  async getReviewCampaign(id: string): Promise<ReviewCampaign | undefined> {
    const query = this.s.db.select().from(t.reviewCampaigns).where(eq(t.reviewCampaigns.id, id));
    const [row] = this.s.inTransaction ? await query.for('update') : await query;
    return row && toCampaign(row);
  }

  async listReviewCampaigns(filter: ReviewCampaignFilter): Promise<ReviewCampaign[]> {
    const where: SQL[] = [];
    if (filter.reviewId) where.push(eq(t.reviewCampaigns.reviewId, filter.reviewId));
    if (filter.status?.length) where.push(inArray(t.reviewCampaigns.status, filter.status));
    const rows = await this.s.db
      .select()
      .from(t.reviewCampaigns)
      .where(and(...where))
      .orderBy(desc(t.reviewCampaigns.startedAt), desc(t.reviewCampaigns.id))
      .limit(filter.limit ?? 100);
    return rows.map(toCampaign);
  }

  async dueReviewCampaigns(now: string, limit: number): Promise<ReviewCampaign[]> {
    const rows = await this.s.db
      .select()
      .from(t.reviewCampaigns)
      .where(and(eq(t.reviewCampaigns.status, 'open'), lte(t.reviewCampaigns.dueAt, now)))
      .orderBy(asc(t.reviewCampaigns.dueAt))
      .limit(limit);
    return rows.map(toCampaign);
  }

  async getReviewItem(id: string): Promise<ReviewItem | undefined> {
    const query = this.s.db.select().from(t.reviewItems).where(eq(t.reviewItems.id, id));
    const [row] = this.s.inTransaction ? await query.for('update') : await query;
    return row && toReviewItem(row);
  }

  async reviewItems(campaignId: string, filter: ReviewItemFilter): Promise<ReviewItem[]> {
    const where: SQL[] = [eq(t.reviewItems.campaignId, campaignId), gt(t.reviewItems.position, filter.after ?? -1)];
    if (filter.decision?.length) where.push(inArray(t.reviewItems.decision, filter.decision));
    if (filter.remediation?.length) where.push(inArray(t.reviewItems.remediation, filter.remediation));
    const rows = await this.s.db
      .select()
      .from(t.reviewItems)
      .where(and(...where))
      .orderBy(asc(t.reviewItems.position))
      .limit(filter.limit);
    return rows.map(toReviewItem);
  }

  async reviewerItems(
    campaignId: string,
    reviewerId: string,
    filter: { offset?: number; limit: number; decision?: ReviewDecision[] },
  ): Promise<{ item: ReviewItem; firstSeenAt: string | null }[]> {
    const a = t.reviewAssignments;
    const where: SQL[] = [eq(a.campaignId, campaignId), eq(a.reviewerId, reviewerId)];
    if (filter.decision?.length) where.push(inArray(t.reviewItems.decision, filter.decision));
    const rows = await this.s.db
      .select({ item: t.reviewItems, firstSeenAt: a.firstSeenAt })
      .from(a)
      .innerJoin(t.reviewItems, eq(t.reviewItems.id, a.itemId))
      .where(and(...where))
      .orderBy(asc(a.position))
      .limit(filter.limit)
      .offset(filter.offset ?? 0);
    return rows.map((r) => ({ item: toReviewItem(r.item), firstSeenAt: r.firstSeenAt }));
  }

  async assignmentsOf(itemId: string): Promise<ReviewAssignment[]> {
    return this.s.db
      .select()
      .from(t.reviewAssignments)
      .where(eq(t.reviewAssignments.itemId, itemId))
      .orderBy(asc(t.reviewAssignments.reviewerId));
  }

  async getReviewer(campaignId: string, reviewerId: string): Promise<ReviewerRecord | undefined> {
    const query = this.s.db
      .select()
      .from(t.reviewReviewers)
      .where(and(eq(t.reviewReviewers.campaignId, campaignId), eq(t.reviewReviewers.reviewerId, reviewerId)));
    // Locked in a transaction: the reminder that reads what was sent then records what it sends.
    const [row] = this.s.inTransaction ? await query.for('update') : await query;
    return row && toReviewer(row);
  }

  async reviewersOf(campaignId: string): Promise<ReviewerRecord[]> {
    const rows = await this.s.db
      .select()
      .from(t.reviewReviewers)
      .where(eq(t.reviewReviewers.campaignId, campaignId))
      .orderBy(asc(t.reviewReviewers.email));
    return rows.map(toReviewer);
  }

  async reviewerProgress(campaignId: string, reviewerId?: string): Promise<ReviewerProgress[]> {
    const a = t.reviewAssignments;
    const where: SQL[] = [eq(a.campaignId, campaignId)];
    if (reviewerId !== undefined) where.push(eq(a.reviewerId, reviewerId));
    const rows = await this.s.db
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
      .orderBy(asc(a.reviewerId));
    // PostgreSQL's sum() of integers is numeric, which node-postgres reads as text.
    return rows.map((r) => ({
      reviewerId: r.reviewerId,
      assigned: Number(r.assigned),
      pending: Number(r.pending ?? 0),
      decided: Number(r.decided ?? 0),
    }));
  }

  async openReviewItemsFor(reviewerId: string, limit: number): Promise<ReviewItem[]> {
    const a = t.reviewAssignments;
    const rows = await this.s.db
      .select({ item: t.reviewItems })
      .from(a)
      .innerJoin(t.reviewItems, eq(t.reviewItems.id, a.itemId))
      .innerJoin(t.reviewCampaigns, eq(t.reviewCampaigns.id, a.campaignId))
      .where(
        and(eq(a.reviewerId, reviewerId), eq(t.reviewCampaigns.status, 'open'), eq(t.reviewItems.decision, 'pending')),
      )
      .orderBy(asc(t.reviewCampaigns.startedAt), asc(a.campaignId), asc(a.position))
      .limit(limit);
    return rows.map((r) => toReviewItem(r.item));
  }

  async reviewItemsOfGrant(grantId: string): Promise<ReviewItem[]> {
    const rows = await this.s.db
      .select()
      .from(t.reviewItems)
      .where(eq(t.reviewItems.grantId, grantId))
      .orderBy(asc(t.reviewItems.campaignId), asc(t.reviewItems.position));
    return rows.map(toReviewItem);
  }

  async unverifiedRemovals(limit: number): Promise<ReviewItem[]> {
    const rows = await this.s.db
      .select()
      .from(t.reviewItems)
      .where(and(inArray(t.reviewItems.remediation, ['pending', 'failed']), isNull(t.reviewItems.grantId)))
      .orderBy(asc(t.reviewItems.campaignId), asc(t.reviewItems.position))
      .limit(limit);
    return rows.map(toReviewItem);
  }

  async insertReviewCampaign(campaign: ReviewCampaign): Promise<void> {
    try {
      await this.s.db.insert(t.reviewCampaigns).values(fromCampaign(campaign));
    } catch (error) {
      const constraint = uniqueViolation(error);
      if (constraint === 'review_campaigns_one_open' || constraint === 'review_campaigns_slot') {
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

  async updateReviewCampaign(
    id: string,
    from: ReviewCampaignStatus[],
    patch: Partial<ReviewCampaign>,
  ): Promise<boolean> {
    const values: Partial<typeof t.reviewCampaigns.$inferInsert> = {};
    for (const key of ['status', 'closedAt', 'closedBy', 'rules'] as const) {
      if (patch[key] !== undefined) (values as Record<string, unknown>)[key] = patch[key];
    }
    if (Object.keys(values).length === 0) return false;
    const updated = await this.s.db
      .update(t.reviewCampaigns)
      .set(values)
      .where(and(eq(t.reviewCampaigns.id, id), inArray(t.reviewCampaigns.status, from)))
      .returning({ id: t.reviewCampaigns.id });
    return updated.length === 1;
  }

  async insertReviewItems(items: ReviewItem[]): Promise<void> {
    for (let i = 0; i < items.length; i += ITEM_ROWS) {
      await this.s.db.insert(t.reviewItems).values(items.slice(i, i + ITEM_ROWS).map(fromReviewItem));
    }
  }

  async insertReviewAssignments(assignments: ReviewAssignment[]): Promise<void> {
    for (let i = 0; i < assignments.length; i += ROWS) {
      await this.s.db.insert(t.reviewAssignments).values(assignments.slice(i, i + ROWS));
    }
  }

  async insertReviewers(reviewers: ReviewerRecord[]): Promise<void> {
    for (let i = 0; i < reviewers.length; i += ROWS) {
      await this.s.db.insert(t.reviewReviewers).values(reviewers.slice(i, i + ROWS).map(fromReviewer));
    }
  }

  async updateReviewItem(
    id: string,
    from: { decision?: ReviewDecision[]; remediation?: RemediationStatus[] },
    patch: Partial<ReviewItem>,
  ): Promise<boolean> {
    const values = fromReviewItemPatch(patch);
    if (Object.keys(values).length === 0) return false;
    const where: SQL[] = [eq(t.reviewItems.id, id)];
    if (from.decision) where.push(inArray(t.reviewItems.decision, from.decision));
    if (from.remediation) where.push(inArray(t.reviewItems.remediation, from.remediation));
    const updated = await this.s.db
      .update(t.reviewItems)
      .set(values)
      .where(and(...where))
      .returning({ id: t.reviewItems.id });
    return updated.length === 1;
  }

  async markReviewItemsSeen(reviewerId: string, itemIds: readonly string[], at: string): Promise<number> {
    if (itemIds.length === 0) return 0;
    const updated = await this.s.db
      .update(t.reviewAssignments)
      .set({ firstSeenAt: at })
      .where(
        and(
          eq(t.reviewAssignments.reviewerId, reviewerId),
          sql`${t.reviewAssignments.itemId} = any(${textArray(itemIds)})`,
          isNull(t.reviewAssignments.firstSeenAt),
        ),
      )
      .returning({ itemId: t.reviewAssignments.itemId });
    return updated.length;
  }

  async updateReviewer(
    campaignId: string,
    reviewerId: string,
    patch: Pick<ReviewerRecord, 'remindersSent'>,
  ): Promise<boolean> {
    const updated = await this.s.db
      .update(t.reviewReviewers)
      .set({ remindersSent: patch.remindersSent })
      .where(and(eq(t.reviewReviewers.campaignId, campaignId), eq(t.reviewReviewers.reviewerId, reviewerId)))
      .returning({ reviewerId: t.reviewReviewers.reviewerId });
    return updated.length === 1;
  }
}
