/** The reviews break-glass grants owe, on PostgreSQL. */
import { and, asc, desc, eq, inArray, lte, sql, type SQL } from 'drizzle-orm';
import type { BreakGlassReview, BreakGlassReviewStatus } from '../../../domain/records.js';
import type { StoreTx } from '../../../operations/ports.js';
import { fromBreakGlassReview, fromBreakGlassReviewPatch, toBreakGlassReview } from '../row-mappers.js';
import * as t from './schema.js';
import { textArray, type PgSession } from './session.js';

type Methods =
  | 'getBreakGlassReview'
  | 'breakGlassReviewsFor'
  | 'listBreakGlassReviews'
  | 'overdueBreakGlassReviews'
  | 'insertBreakGlassReview'
  | 'updateBreakGlassReview';

export class PgBreakGlassRepo implements Pick<StoreTx, Methods> {
  constructor(private readonly s: PgSession) {}

  async getBreakGlassReview(grantId: string): Promise<BreakGlassReview | undefined> {
    // In a transaction the review is locked: a second reviewer waits and then sees the first's outcome.
    const query = this.s.db.select().from(t.breakGlassReviews).where(eq(t.breakGlassReviews.grantId, grantId));
    const [row] = this.s.inTransaction ? await query.for('update') : await query;
    return row && toBreakGlassReview(row);
  }

  async breakGlassReviewsFor(grantIds: readonly string[]): Promise<Map<string, BreakGlassReview>> {
    const out = new Map<string, BreakGlassReview>();
    if (grantIds.length === 0) return out;
    const rows = await this.s.db
      .select()
      .from(t.breakGlassReviews)
      .where(sql`${t.breakGlassReviews.grantId} = any(${textArray(grantIds)})`);
    for (const row of rows) out.set(row.grantId, toBreakGlassReview(row));
    return out;
  }

  async listBreakGlassReviews(filter: {
    status?: BreakGlassReviewStatus[];
    limit?: number;
  }): Promise<BreakGlassReview[]> {
    const where: SQL[] = [];
    if (filter.status?.length) where.push(inArray(t.breakGlassReviews.status, filter.status));
    const rows = await this.s.db
      .select()
      .from(t.breakGlassReviews)
      .where(and(...where))
      .orderBy(desc(t.breakGlassReviews.createdAt), desc(t.breakGlassReviews.grantId))
      .limit(filter.limit ?? 1000);
    return rows.map(toBreakGlassReview);
  }

  async overdueBreakGlassReviews(now: string, limit: number): Promise<BreakGlassReview[]> {
    const rows = await this.s.db
      .select()
      .from(t.breakGlassReviews)
      .where(and(sql`${t.breakGlassReviews.status} = 'pending'`, lte(t.breakGlassReviews.dueAt, now)))
      .orderBy(asc(t.breakGlassReviews.dueAt))
      .limit(limit);
    return rows.map(toBreakGlassReview);
  }

  async insertBreakGlassReview(review: BreakGlassReview): Promise<void> {
    await this.s.db.insert(t.breakGlassReviews).values(fromBreakGlassReview(review));
  }

  async updateBreakGlassReview(
    grantId: string,
    from: BreakGlassReviewStatus[],
    patch: Partial<BreakGlassReview>,
  ): Promise<boolean> {
    const values = fromBreakGlassReviewPatch(patch);
    if (Object.keys(values).length === 0) return false;
    const result = await this.s.db
      .update(t.breakGlassReviews)
      .set(values)
      .where(and(eq(t.breakGlassReviews.grantId, grantId), inArray(t.breakGlassReviews.status, from)));
    return result.rowCount === 1;
  }
}
