/**
 * The export reader on PostgreSQL (`PgStore.openSnapshot`): one connection per export, holding a
 * `REPEATABLE READ READ ONLY` transaction for the whole export. Its snapshot is taken by the first
 * statement (the audit head) and every later read sees the database exactly as it was then, while
 * the replicas keep writing: the head read first describes exactly the rows that follow.
 *
 * Rows are read in insertion order with keyset pagination on the tables' insertion keys (`pos`
 * for the tables keyed by a text id, the identity `id` for the audit log): each batch starts where
 * the previous one ended, through an index.
 */
import { and, asc, inArray, sql, type SQL } from 'drizzle-orm';
import type pg from 'pg';
import { GENESIS_HASH } from '../../../domain/audit.js';
import type { BreakGlassReview, PersonRef } from '../../../domain/records.js';
import type { ExportFilters } from '../../../operations/exports/export-filters.js';
import type {
  Batch,
  BatchKey,
  EventExportRecord,
  ExportSnapshot,
  ExtensionTotals,
  GrantExportRecord,
  PolicyExportRecord,
  RequestExportRecord,
  ReviewExportRecord,
} from '../../../operations/exports/export-ports.js';
import type { ReviewCampaign } from '../../../domain/reviews/review-records.js';
import { toCampaign, toReviewItem } from '../review-row-mappers.js';
import { ActorTexts, toBreakGlassReview, toDecision, toGrant, toRequest, toStep } from '../row-mappers.js';
import { drizzleOn, type PgDb } from './connection.js';
import * as t from './schema.js';

export class PgExportSnapshot implements ExportSnapshot {
  private readonly db: PgDb;
  private closed = false;
  private readonly actors = new ActorTexts();

  private constructor(private readonly client: pg.PoolClient) {
    this.db = drizzleOn(client);
  }

  /** Opens a snapshot on a connection of its own, so two exports (or an export and the bot) run at once. */
  static async open(pool: pg.Pool): Promise<PgExportSnapshot> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const snapshot = new PgExportSnapshot(client);
      await snapshot.auditHead(); // takes the snapshot now
      return snapshot;
    } catch (error) {
      client.release(true);
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.client.query('COMMIT');
      this.client.release();
    } catch (error) {
      this.client.release(true);
      throw error;
    }
  }

  async auditHead(): Promise<{ seq: number; hash: string }> {
    const { rows } = await this.client.query<{ seq: number; hash: string }>(
      'SELECT seq, hash FROM audit_events ORDER BY id DESC LIMIT 1',
    );
    return rows[0] ?? { seq: 0, hash: GENESIS_HASH };
  }

  // ---- requests ------------------------------------------------------------------------------

  private requestWhere(filters: ExportFilters): SQL[] {
    const where: SQL[] = [];
    if (filters.from) where.push(sql`${t.requests.createdAt} >= ${filters.from}`);
    if (filters.to) where.push(sql`${t.requests.createdAt} < ${filters.to}`);
    if (filters.app) where.push(sql`${t.requests.app} = ${filters.app}`);
    if (filters.role) where.push(sql`${t.requests.role} = ${filters.role}`);
    if (filters.person) {
      where.push(
        filters.person.includes('@')
          ? sql`lower(${t.requests.requesterEmail}) = ${filters.person}`
          : sql`${t.requests.requesterId} = ${filters.person}`,
      );
    }
    return where;
  }

  async maxStepCount(filters: ExportFilters): Promise<number> {
    const [row] = await this.db
      .select({ n: sql<number | null>`max(${t.requests.stepCount})` })
      .from(t.requests)
      .where(and(...this.requestWhere(filters)));
    return Number(row?.n ?? 0);
  }

  async requests(filters: ExportFilters, after: BatchKey, limit: number): Promise<Batch<RequestExportRecord>> {
    const rows = await this.db
      .select()
      .from(t.requests)
      .where(and(sql`${t.requests.pos} > ${after}`, ...this.requestWhere(filters)))
      .orderBy(asc(t.requests.pos))
      .limit(limit);
    if (rows.length === 0) return { rows: [], next: after };
    const ids = rows.map((r) => r.id);

    const steps = groupBy(
      (
        await this.db
          .select()
          .from(t.approvalSteps)
          .where(inArray(t.approvalSteps.requestId, ids))
          .orderBy(asc(t.approvalSteps.requestId), asc(t.approvalSteps.index))
      ).map(toStep),
      (s) => s.requestId,
    );
    const decisions = groupBy(
      (
        await this.db.select().from(t.decisions).where(inArray(t.decisions.requestId, ids)).orderBy(asc(t.decisions.id))
      ).map(toDecision),
      (d) => d.requestId,
    );
    const grants = new Map(
      (await this.db.select().from(t.grants).where(inArray(t.grants.requestId, ids))).map((g) => [
        g.requestId,
        toGrant(g),
      ]),
    );
    const grantIds = [...grants.values()].map((g) => g.id);
    const extensions = await this.extensionTotals(grantIds);
    // Only emergency access has a review.
    const reviews = await this.breakGlassReviews([...grants.values()].filter((g) => g.breakGlass).map((g) => g.id));
    const provisionedBy = new Map<string, PersonRef>();
    if (grantIds.length) {
      const tasks = await this.db
        .select()
        .from(t.tasks)
        .where(
          and(
            inArray(t.tasks.grantId, grantIds),
            sql`${t.tasks.action} = 'grant'`,
            sql`${t.tasks.completedById} is not null`,
          ),
        );
      for (const task of tasks)
        provisionedBy.set(task.grantId, {
          directoryId: task.completedById!,
          email: task.completedByEmail ?? '',
          name: task.completedByName ?? '',
        });
    }

    return {
      rows: rows.map((row) => {
        const grant = grants.get(row.id) ?? null;
        return {
          request: toRequest(row),
          steps: steps.get(row.id) ?? [],
          decisions: decisions.get(row.id) ?? [],
          grant,
          extensions: (grant && extensions.get(grant.id)) || { count: 0, totalSeconds: 0 },
          provisionedBy: (grant && provisionedBy.get(grant.id)) || null,
          breakGlassReview: (grant && reviews.get(grant.id)) || null,
        };
      }),
      next: rows[rows.length - 1]!.pos,
    };
  }

  private async extensionTotals(grantIds: string[]): Promise<Map<string, ExtensionTotals>> {
    if (grantIds.length === 0) return new Map();
    const rows = await this.db
      .select({
        grantId: t.extensions.grantId,
        count: sql<string>`count(*)`,
        total: sql<string>`coalesce(sum(${t.extensions.addedSeconds}), 0)`,
      })
      .from(t.extensions)
      .where(inArray(t.extensions.grantId, grantIds))
      .groupBy(t.extensions.grantId);
    return new Map(rows.map((r) => [r.grantId, { count: Number(r.count), totalSeconds: Number(r.total) }]));
  }

  /** The reviews of these grants' emergency access, by grant id (one read per batch). */
  private async breakGlassReviews(grantIds: string[]): Promise<Map<string, BreakGlassReview>> {
    if (grantIds.length === 0) return new Map();
    const rows = await this.db.select().from(t.breakGlassReviews).where(inArray(t.breakGlassReviews.grantId, grantIds));
    return new Map(rows.map((r) => [r.grantId, toBreakGlassReview(r)]));
  }

  // ---- grants (access) -----------------------------------------------------------------------

  async grants(filters: ExportFilters, after: BatchKey, limit: number): Promise<Batch<GrantExportRecord>> {
    const where: SQL[] = [sql`${t.grants.pos} > ${after}`];
    // A grant belongs to the period when it was open at some time in it: [created_at, revoked_at)
    // overlaps [from, to). A grant not revoked yet (active, failed, being revoked) is open now.
    if (filters.to) where.push(sql`${t.grants.createdAt} < ${filters.to}`);
    if (filters.from) where.push(sql`(${t.grants.revokedAt} is null or ${t.grants.revokedAt} > ${filters.from})`);
    if (filters.app) where.push(sql`${t.grants.app} = ${filters.app}`);
    if (filters.role) where.push(sql`${t.grants.role} = ${filters.role}`);
    if (filters.person)
      where.push(
        filters.person.includes('@')
          ? sql`lower(${t.grants.holderEmail}) = ${filters.person}`
          : sql`${t.grants.holderId} = ${filters.person}`,
      );
    const rows = await this.db
      .select()
      .from(t.grants)
      .where(and(...where))
      .orderBy(asc(t.grants.pos))
      .limit(limit);
    if (rows.length === 0) return { rows: [], next: after };
    const extensions = await this.extensionTotals(rows.map((r) => r.id));
    const reviews = await this.breakGlassReviews(rows.filter((r) => r.breakGlass).map((r) => r.id));
    return {
      rows: rows.map((row) => ({
        grant: toGrant(row),
        extensions: extensions.get(row.id) ?? { count: 0, totalSeconds: 0 },
        breakGlassReview: reviews.get(row.id) ?? null,
      })),
      next: rows[rows.length - 1]!.pos,
    };
  }

  // ---- events ----------------------------------------------------------------------------------

  async events(filters: ExportFilters, after: BatchKey, limit: number): Promise<Batch<EventExportRecord>> {
    const where: SQL[] = [sql`id > ${after}`];
    if (filters.from) where.push(sql`at >= ${filters.from}`);
    if (filters.to) where.push(sql`at < ${filters.to}`);
    // Events belong to an app or role through the request or grant they are about.
    if (filters.app || filters.role) {
      const match = and(
        filters.app ? sql`app = ${filters.app}` : undefined,
        filters.role ? sql`role = ${filters.role}` : undefined,
      );
      where.push(
        sql`(request_id in (select id from requests where ${match}) or grant_id in (select id from grants where ${match}))`,
      );
    }
    // A person's events: what they did, and everything about their requests and grants.
    if (filters.person) {
      const person = filters.person;
      where.push(
        person.includes('@')
          ? sql`(lower(actor::jsonb ->> 'email') = ${person} or request_id in (select id from requests where lower(requester_email) = ${person}) or grant_id in (select id from grants where lower(holder_email) = ${person}))`
          : sql`(actor::jsonb ->> 'directoryId' = ${person} or request_id in (select id from requests where requester_id = ${person}) or grant_id in (select id from grants where holder_id = ${person}))`,
      );
    }
    // The stored text of actor and details, as written (the chain hashes it): no JSON parsing here.
    const { rows } = await this.db.execute<{
      id: string;
      seq: number;
      at: string;
      actor: string;
      action: string;
      request_id: string | null;
      grant_id: string | null;
      details: string;
      prev_hash: string;
      hash: string;
    }>(
      sql`select id, seq, at, actor, action, request_id, grant_id, details, prev_hash, hash from audit_events where ${and(...where)} order by id limit ${limit}`,
    );
    return {
      rows: rows.map((r) => ({
        seq: r.seq,
        at: r.at,
        actor: this.actors.parse(r.actor),
        action: r.action,
        requestId: r.request_id,
        grantId: r.grant_id,
        detailsJson: r.details,
        prevHash: r.prev_hash,
        hash: r.hash,
      })),
      next: rows.length ? Number(rows[rows.length - 1]!.id) : after,
    };
  }

  // ---- policy versions -------------------------------------------------------------------------

  async policyVersions(filters: ExportFilters, after: BatchKey, limit: number): Promise<Batch<PolicyExportRecord>> {
    // As on SQLite: the newest last_seen_at is the latest start; a version seen then is current,
    // any other stopped at the first start that loaded a newer version of its policy or, for a
    // retired policy, after its last start.
    const where: SQL[] = [sql`pos > ${after}`];
    if (filters.to) where.push(sql`first_seen_at < ${filters.to}`);
    if (filters.from) where.push(sql`(until is null or until > ${filters.from})`);
    if (filters.app) where.push(sql`app = ${filters.app}`);
    if (filters.role) where.push(sql`role = ${filters.role}`);
    const { rows } = await this.db.execute<{
      pos: string;
      policy_name: string;
      version: string;
      app: string;
      role: string;
      definition: Record<string, unknown>;
      first_seen_at: string;
      last_seen_at: string;
      until: string | null;
    }>(
      sql`with latest as (select max(last_seen_at) as at from policy_versions),
         v as (
           select p.pos, p.policy_name, p.version, p.app, p.role, p.definition, p.first_seen_at, p.last_seen_at,
             case when p.last_seen_at = (select at from latest) then null
                  else coalesce((select min(n.first_seen_at) from policy_versions n where n.policy_name = p.policy_name and n.first_seen_at > p.first_seen_at), p.last_seen_at)
             end as until
           from policy_versions p)
         select * from v where ${and(...where)} order by pos limit ${limit}`,
    );
    return {
      rows: rows.map((r) => ({
        version: {
          policyName: r.policy_name,
          version: r.version,
          app: r.app,
          role: r.role,
          definition: r.definition,
          firstSeenAt: r.first_seen_at,
          lastSeenAt: r.last_seen_at,
        },
        current: r.until === null,
        inForceUntil: r.until,
      })),
      next: rows.length ? Number(rows[rows.length - 1]!.pos) : after,
    };
  }

  // ---- access reviews ----------------------------------------------------------------------------

  async reviewItems(filters: ExportFilters, after: BatchKey, limit: number): Promise<Batch<ReviewExportRecord>> {
    // Insertion order (`pos`), as on SQLite: a campaign's items are written together, in position order.
    const where: SQL[] = [sql`${t.reviewItems.pos} > ${after}`];
    if (filters.campaign) where.push(sql`${t.reviewItems.campaignId} = ${filters.campaign}`);
    if (filters.from || filters.to) {
      const period: SQL[] = [];
      if (filters.from) period.push(sql`${t.reviewCampaigns.startedAt} >= ${filters.from}`);
      if (filters.to) period.push(sql`${t.reviewCampaigns.startedAt} < ${filters.to}`);
      where.push(
        sql`${t.reviewItems.campaignId} in (select ${t.reviewCampaigns.id} from ${t.reviewCampaigns} where ${and(...period)})`,
      );
    }
    if (filters.app) where.push(sql`${t.reviewItems.app} = ${filters.app}`);
    if (filters.role) where.push(sql`${t.reviewItems.role} = ${filters.role}`);
    if (filters.person) {
      where.push(
        filters.person.includes('@')
          ? sql`lower(${t.reviewItems.holderEmail}) = ${filters.person}`
          : sql`${t.reviewItems.holderId} = ${filters.person}`,
      );
    }
    const rows = await this.db
      .select()
      .from(t.reviewItems)
      .where(and(...where))
      .orderBy(asc(t.reviewItems.pos))
      .limit(limit);
    if (rows.length === 0) return { rows: [], next: after };
    const ids = [...new Set(rows.map((r) => r.campaignId))];
    const campaigns = new Map<string, ReviewCampaign>(
      (await this.db.select().from(t.reviewCampaigns).where(inArray(t.reviewCampaigns.id, ids))).map((c) => [
        c.id,
        toCampaign(c),
      ]),
    );
    return {
      rows: rows.map((row) => ({ campaign: campaigns.get(row.campaignId)!, item: toReviewItem(row) })),
      next: rows[rows.length - 1]!.pos,
    };
  }
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
