/** Grants and their extensions, on PostgreSQL. */
import { and, asc, desc, eq, gt, inArray, isNotNull, lte, or, sql, type SQL } from 'drizzle-orm';
import { OPEN_GRANT_STATUSES, type ExtensionRecord, type Grant, type GrantStatus } from '../../../domain/records.js';
import type { GrantFilter, GroupMembership, StoreTx } from '../../../operations/ports.js';
import { fromGrant, fromGrantPatch, toGrant } from '../row-mappers.js';
import { personRoleLock } from './requests-repo.js';
import * as t from './schema.js';
import { textArray, type PgSession } from './session.js';

type Methods =
  | 'getGrant'
  | 'grantForRequest'
  | 'findOpenGrant'
  | 'listGrants'
  | 'expiredGrants'
  | 'grantsExpiringBefore'
  | 'grantsDueForReminder'
  | 'grantsKeepingMemberships'
  | 'getGrants'
  | 'lockGrants'
  | 'grantsThroughGroup'
  | 'provisionGroupsOf'
  | 'holdersOf'
  | 'insertGrant'
  | 'updateGrant'
  | 'getExtensions'
  | 'insertExtension';

export class PgGrantsRepo implements Pick<StoreTx, Methods> {
  constructor(private readonly s: PgSession) {}

  async getGrant(id: string): Promise<Grant | undefined> {
    // In a transaction the grant is locked until it commits (an extension reads the expiry it moves).
    const query = this.s.db.select().from(t.grants).where(eq(t.grants.id, id));
    const [row] = this.s.inTransaction ? await query.for('update') : await query;
    return row && toGrant(row);
  }

  async grantForRequest(requestId: string): Promise<Grant | undefined> {
    const query = this.s.db.select().from(t.grants).where(eq(t.grants.requestId, requestId));
    const [row] = this.s.inTransaction ? await query.for('update') : await query;
    return row && toGrant(row);
  }

  async findOpenGrant(holderId: string, app: string, role: string): Promise<Grant | undefined> {
    await this.s.lockNamed(personRoleLock(holderId, app, role));
    const [row] = await this.s.db
      .select()
      .from(t.grants)
      .where(
        and(
          eq(t.grants.holderId, holderId),
          eq(t.grants.app, app),
          eq(t.grants.role, role),
          inArray(t.grants.status, [...OPEN_GRANT_STATUSES]),
        ),
      )
      .orderBy(desc(t.grants.createdAt))
      .limit(1);
    return row && toGrant(row);
  }

  /**
   * Prepared per filter shape (which criteria are set, and the limit): a handful of shapes, and
   * the request form reads one of them (the person's open grants of a role) at every open.
   */
  async listGrants(filter: GrantFilter): Promise<Grant[]> {
    const status = filter.status?.length ? filter.status : undefined;
    const limit = filter.limit ?? 1000;
    const values = {
      ...(status ? { status } : {}),
      ...(filter.sensitive !== undefined ? { sensitive: filter.sensitive } : {}),
      ...(filter.holderId ? { holderId: filter.holderId } : {}),
      ...(filter.app ? { app: filter.app } : {}),
      ...(filter.role ? { role: filter.role } : {}),
    };
    const shape = Object.keys(values);
    const rows = await this.s
      .prepared(`list_grants:${shape.join(',')}:${limit}`, (db, name) => {
        const where: SQL[] = shape.map((key) =>
          key === 'status'
            ? sql`${t.grants.status} = any(${sql.placeholder(key)}::text[])`
            : eq(t.grants[key as 'sensitive' | 'holderId' | 'app' | 'role'], sql.placeholder(key)),
        );
        return db
          .select()
          .from(t.grants)
          .where(and(...where))
          .orderBy(desc(t.grants.createdAt), desc(t.grants.id))
          .limit(limit)
          .prepare(name);
      })
      .execute(values);
    return rows.map(toGrant);
  }

  expiredGrants(now: string, limit: number): Promise<Grant[]> {
    return this.activeExpiringBy(now, limit);
  }

  grantsExpiringBefore(until: string, limit: number): Promise<Grant[]> {
    return this.activeExpiringBy(until, limit);
  }

  private async activeExpiringBy(until: string, limit: number): Promise<Grant[]> {
    const rows = await this.s.db
      .select()
      .from(t.grants)
      .where(and(eq(t.grants.status, 'active'), isNotNull(t.grants.expiresAt), lte(t.grants.expiresAt, until)))
      .orderBy(asc(t.grants.expiresAt))
      .limit(limit);
    return rows.map(toGrant);
  }

  async grantsDueForReminder(now: string, leadSeconds: readonly number[], limit: number): Promise<Grant[]> {
    const leads = leadSeconds.filter((l) => Number.isInteger(l) && l > 0);
    if (leads.length === 0) return [];
    const plus = (seconds: number) => new Date(Date.parse(now) + seconds * 1000).toISOString();
    const owed = or(
      ...leads.map(
        (lead) =>
          sql`(${t.grants.durationSeconds} > ${lead} and ${t.grants.expiresAt} <= ${plus(lead)} and not (${t.grants.remindersSent} @> ${JSON.stringify([lead])}::jsonb))`,
      ),
    );
    const rows = await this.s.db
      .select()
      .from(t.grants)
      .where(
        and(
          eq(t.grants.status, 'active'),
          isNotNull(t.grants.expiresAt),
          gt(t.grants.expiresAt, now),
          lte(t.grants.expiresAt, plus(Math.max(...leads))),
          owed,
        ),
      )
      .orderBy(asc(t.grants.expiresAt), asc(t.grants.id))
      .limit(limit);
    return rows.map(toGrant);
  }

  async grantsKeepingMemberships(memberships: readonly GroupMembership[]): Promise<Grant[]> {
    if (memberships.length === 0) return [];
    const holders = textArray(memberships.map((m) => m.holderId));
    const groups = textArray(memberships.map((m) => m.group));
    const rows = await this.s.db
      .select()
      .from(t.grants)
      .where(
        and(
          sql`(${t.grants.holderId}, ${t.grants.provisionGroup}) in (select * from unnest(${holders}, ${groups}))`,
          or(
            inArray(t.grants.status, ['provisioning', 'active']),
            and(eq(t.grants.status, 'revoking'), eq(t.grants.alreadyMember, true)),
          ),
        ),
      );
    return rows.map(toGrant);
  }

  async insertGrant(grant: Grant): Promise<void> {
    await this.s.db.insert(t.grants).values(fromGrant(grant));
  }

  async updateGrant(id: string, from: GrantStatus[], patch: Partial<Grant>): Promise<boolean> {
    const values = fromGrantPatch(patch);
    if (Object.keys(values).length === 0) return false;
    const result = await this.s.db
      .update(t.grants)
      .set(values)
      .where(and(eq(t.grants.id, id), inArray(t.grants.status, from)));
    return result.rowCount === 1;
  }

  async getGrants(ids: readonly string[]): Promise<Grant[]> {
    if (ids.length === 0) return [];
    const query = this.s.db
      .select()
      .from(t.grants)
      .where(sql`${t.grants.id} = any(${textArray(ids)})`);
    // In a transaction they are locked like getGrant's, in id order, so two batches that lock
    // overlapping grants take them in the same order and never wait for each other in a cycle.
    const rows = this.s.inTransaction ? await query.orderBy(t.grants.id).for('update') : await query;
    return rows.map(toGrant);
  }

  async lockGrants(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    // The rows getGrants would lock, in the same (id) order, without carrying them back.
    await this.s.db
      .select({ id: t.grants.id })
      .from(t.grants)
      .where(sql`${t.grants.id} = any(${textArray(ids)})`)
      .orderBy(t.grants.id)
      .for('update');
  }

  async grantsThroughGroup(
    group: string,
    filter: { holderId?: string; status?: GrantStatus[] } = {},
  ): Promise<Grant[]> {
    const rows = await this.s.db
      .select()
      .from(t.grants)
      .where(
        and(
          eq(t.grants.provisionGroup, group),
          filter.holderId ? eq(t.grants.holderId, filter.holderId) : undefined,
          filter.status?.length ? inArray(t.grants.status, filter.status) : undefined,
        ),
      )
      .orderBy(asc(t.grants.createdAt), asc(t.grants.id));
    return rows.map(toGrant);
  }

  async provisionGroupsOf(status: GrantStatus[]): Promise<string[]> {
    const rows = await this.s.db
      .selectDistinct({ group: t.grants.provisionGroup })
      .from(t.grants)
      .where(and(inArray(t.grants.status, status), isNotNull(t.grants.provisionGroup)));
    return rows.map((r) => r.group!).sort();
  }

  async holdersOf(status: GrantStatus[]): Promise<string[]> {
    const rows = await this.s.db
      .selectDistinct({ holderId: t.grants.holderId })
      .from(t.grants)
      .where(inArray(t.grants.status, status));
    return rows.map((r) => r.holderId).sort();
  }

  async getExtensions(grantId: string): Promise<ExtensionRecord[]> {
    return this.s.db.select().from(t.extensions).where(eq(t.extensions.grantId, grantId)).orderBy(asc(t.extensions.at));
  }

  async insertExtension(extension: ExtensionRecord): Promise<void> {
    await this.s.db.insert(t.extensions).values(extension);
  }
}
