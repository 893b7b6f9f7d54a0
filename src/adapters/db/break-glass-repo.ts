/** The reviews break-glass grants owe, on SQLite. */
import { and, asc, desc, eq, inArray, lte, sql, type SQL } from 'drizzle-orm';
import type { BreakGlassReview, BreakGlassReviewStatus } from '../../domain/records.js';
import type { Connection } from './open-database.js';
import { fromBreakGlassReview, fromBreakGlassReviewPatch, toBreakGlassReview } from './row-mappers.js';
import { limitInText } from './prepared-query.js';
import * as t from './schema.js';
import { CHUNK, placeholdersFor, toDriver, type SyncPort } from './sync-port.js';

type Methods =
  | 'getBreakGlassReview'
  | 'breakGlassReviewsFor'
  | 'listBreakGlassReviews'
  | 'overdueBreakGlassReviews'
  | 'insertBreakGlassReview'
  | 'updateBreakGlassReview';

export class BreakGlassRepo implements SyncPort<Methods> {
  constructor(private readonly c: Connection) {}

  getBreakGlassReview(grantId: string): BreakGlassReview | undefined {
    const row = this.c
      .prepared('getBreakGlassReview', (db) =>
        db
          .select()
          .from(t.breakGlassReviews)
          .where(eq(t.breakGlassReviews.grantId, sql.placeholder('grantId'))),
      )
      .get({ grantId });
    return row && toBreakGlassReview(row);
  }

  breakGlassReviewsFor(grantIds: readonly string[]): Map<string, BreakGlassReview> {
    const out = new Map<string, BreakGlassReview>();
    for (let i = 0; i < grantIds.length; i += CHUNK) {
      const rows = this.c.db
        .select()
        .from(t.breakGlassReviews)
        .where(inArray(t.breakGlassReviews.grantId, grantIds.slice(i, i + CHUNK)))
        .all();
      for (const row of rows) out.set(row.grantId, toBreakGlassReview(row));
    }
    return out;
  }

  listBreakGlassReviews(filter: { status?: BreakGlassReviewStatus[]; limit?: number }): BreakGlassReview[] {
    const where: SQL[] = [];
    if (filter.status?.length) where.push(inArray(t.breakGlassReviews.status, filter.status));
    return this.c.db
      .select()
      .from(t.breakGlassReviews)
      .where(and(...where))
      .orderBy(desc(t.breakGlassReviews.createdAt), desc(t.breakGlassReviews.grantId))
      .limit(filter.limit ?? 1000)
      .all()
      .map(toBreakGlassReview);
  }

  overdueBreakGlassReviews(now: string, limit: number): BreakGlassReview[] {
    return this.c
      .prepared(`overdueBreakGlassReviews:${limit}`, (db) =>
        db
          .select()
          .from(t.breakGlassReviews)
          .where(
            and(sql`${t.breakGlassReviews.status} = 'pending'`, lte(t.breakGlassReviews.dueAt, sql.placeholder('now'))),
          )
          .orderBy(asc(t.breakGlassReviews.dueAt))
          .limit(limitInText(limit)),
      )
      .all({ now })
      .map(toBreakGlassReview);
  }

  insertBreakGlassReview(review: BreakGlassReview): void {
    this.c.db.insert(t.breakGlassReviews).values(fromBreakGlassReview(review)).run();
  }

  updateBreakGlassReview(grantId: string, from: BreakGlassReviewStatus[], patch: Partial<BreakGlassReview>): boolean {
    const values = fromBreakGlassReviewPatch(patch);
    const keys = Object.keys(values);
    if (keys.length === 0) return false;
    const statement = this.c.prepared(`updateBreakGlassReview:${keys.join(',')}:${from.join(',')}`, (db) =>
      db
        .update(t.breakGlassReviews)
        .set(placeholdersFor(t.breakGlassReviews, keys))
        .where(
          and(eq(t.breakGlassReviews.grantId, sql.placeholder('__id')), inArray(t.breakGlassReviews.status, from)),
        ),
    );
    return statement.run({ ...toDriver(t.breakGlassReviews, values), __id: grantId }).changes === 1;
  }
}
