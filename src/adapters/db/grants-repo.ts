/** Grants and their extensions, on SQLite. */
import { and, asc, desc, eq, gt, inArray, isNotNull, lte, or, sql } from 'drizzle-orm';
import { OPEN_GRANT_STATUSES, type ExtensionRecord, type Grant, type GrantStatus } from '../../domain/records.js';
import type { GrantFilter, GroupMembership } from '../../operations/ports.js';
import type { Connection } from './open-database.js';
import { fromGrant, fromGrantPatch, toGrant, type GrantRow } from './row-mappers.js';
import { inJsonList, limitInText } from './prepared-query.js';
import * as t from './schema.js';
import { placeholdersFor, toDriver, type SyncPort } from './sync-port.js';

/** Every grant status: the only text `listGrants` writes into its SQL. */
const GRANT_STATUSES: ReadonlySet<string> = new Set(t.grants.status.enumValues);

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
  | 'grantsThroughGroup'
  | 'provisionGroupsOf'
  | 'holdersOf'
  | 'insertGrant'
  | 'updateGrant'
  | 'lockGrants'
  | 'getExtensions'
  | 'insertExtension';

export class GrantsRepo implements SyncPort<Methods> {
  constructor(private readonly c: Connection) {}

  getGrant(id: string): Grant | undefined {
    const row = this.c
      .prepared('getGrant', (db) =>
        db
          .select()
          .from(t.grants)
          .where(eq(t.grants.id, sql.placeholder('id'))),
      )
      .get({ id });
    return row && toGrant(row);
  }

  grantForRequest(requestId: string): Grant | undefined {
    const row = this.c
      .prepared('grantForRequest', (db) =>
        db
          .select()
          .from(t.grants)
          .where(eq(t.grants.requestId, sql.placeholder('requestId'))),
      )
      .get({ requestId });
    return row && toGrant(row);
  }

  findOpenGrant(holderId: string, app: string, role: string): Grant | undefined {
    const row = this.c
      .prepared('findOpenGrant', (db) =>
        db
          .select()
          .from(t.grants)
          .where(
            and(
              eq(t.grants.holderId, sql.placeholder('holderId')),
              eq(t.grants.app, sql.placeholder('app')),
              eq(t.grants.role, sql.placeholder('role')),
              inArray(t.grants.status, [...OPEN_GRANT_STATUSES]),
            ),
          )
          .orderBy(desc(t.grants.createdAt)),
      )
      .get({ holderId, app, role });
    return row && toGrant(row);
  }

  listGrants(filter: GrantFilter): Grant[] {
    const { status = [], sensitive, holderId, app, role } = filter;
    // One statement per filter shape (which filters, which statuses, the limit), built once. The
    // statuses are written into the statement, not bound: SQLite's statistics then tell a rare one
    // (`revoking`, read by every sweep) from the common `active`, and read it through
    // grants_status_expires; bound, the plan was a scan of every grant (80 ms at 100,000 grants).
    const statuses = [...new Set(status)].sort();
    for (const s of statuses) if (!GRANT_STATUSES.has(s)) throw new RangeError(`not a grant status: ${s}`);
    const limit = filter.limit ?? 1000;
    const shape = [statuses.join('|'), sensitive !== undefined, !!holderId, !!app, !!role, limit].join();
    const statement = this.c.prepared(`listGrants:${shape}`, (db) =>
      db
        .select()
        .from(t.grants)
        .where(
          and(
            statuses.length
              ? sql`${t.grants.status} in (${sql.raw(statuses.map((s) => `'${s}'`).join(', '))})`
              : undefined,
            sensitive !== undefined ? eq(t.grants.sensitive, sql.placeholder('sensitive')) : undefined,
            holderId ? eq(t.grants.holderId, sql.placeholder('holderId')) : undefined,
            app ? eq(t.grants.app, sql.placeholder('app')) : undefined,
            role ? eq(t.grants.role, sql.placeholder('role')) : undefined,
          ),
        )
        .orderBy(desc(t.grants.createdAt), desc(t.grants.id))
        .limit(limitInText(limit)),
    );
    return statement.all({ sensitive: sensitive ? 1 : 0, holderId, app, role }).map(toGrant);
  }

  expiredGrants(now: string, limit: number): Grant[] {
    return this.activeExpiringBy('expiredGrants', now, limit);
  }

  grantsExpiringBefore(until: string, limit: number): Grant[] {
    return this.activeExpiringBy('grantsExpiringBefore', until, limit);
  }

  private activeExpiringBy(key: string, until: string, limit: number): Grant[] {
    return this.c
      .prepared(`${key}:${limit}`, (db) =>
        db
          .select()
          .from(t.grants)
          .where(
            and(
              eq(t.grants.status, 'active'),
              isNotNull(t.grants.expiresAt),
              lte(t.grants.expiresAt, sql.placeholder('until')),
            ),
          )
          .orderBy(asc(t.grants.expiresAt))
          .limit(limitInText(limit)),
      )
      .all({ until })
      .map(toGrant);
  }

  grantsDueForReminder(now: string, leadSeconds: readonly number[], limit: number): Grant[] {
    const leads = leadSeconds.filter((l) => Number.isInteger(l) && l > 0);
    if (leads.length === 0) return [];
    const plus = (seconds: number) => new Date(Date.parse(now) + seconds * 1000).toISOString();
    const owed = or(
      ...leads.map(
        (lead) =>
          sql`(${t.grants.durationSeconds} > ${lead} and ${t.grants.expiresAt} <= ${plus(lead)} and not exists (select 1 from json_each(${t.grants.remindersSent}) where value = ${lead}))`,
      ),
    );
    return this.c.db
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
      .limit(limit)
      .all()
      .map(toGrant);
  }

  grantsKeepingMemberships(memberships: readonly GroupMembership[]): Grant[] {
    if (memberships.length === 0) return [];
    return this.c
      .prepared(
        'grantsKeepingMemberships',
        (db) =>
          db
            .select()
            .from(t.grants)
            .where(
              and(
                // The memberships are one parameter (a JSON array of [holder, group]), whatever their
                // number. Each holder's few grants through grants_holder (named, and the unary plus),
                // never a group's or a status's many.
                sql`(${t.grants.holderId}, +${t.grants.provisionGroup}) in (select value ->> 0, value ->> 1 from json_each(${sql.placeholder('memberships')}))`,
                or(
                  sql`+${t.grants.status} in ('provisioning', 'active')`,
                  and(sql`+${t.grants.status} = 'revoking'`, eq(t.grants.alreadyMember, true)),
                ),
              ),
            ),
        { indexedBy: 'grants_holder' },
      )
      .all({ memberships: JSON.stringify(memberships.map((m) => [m.holderId, m.group])) })
      .map(toGrant);
  }

  insertGrant(grant: Grant): void {
    this.c.insert(t.grants, fromGrant(grant));
  }

  updateGrant(id: string, from: GrantStatus[], patch: Partial<Grant>): boolean {
    const values = fromGrantPatch(patch);
    const keys = Object.keys(values) as (keyof GrantRow)[];
    if (keys.length === 0) return false;
    // One statement per shape (columns set, statuses allowed): the code has a handful of them.
    const statement = this.c.prepared(`updateGrant:${keys.join(',')}:${from.join(',')}`, (db) =>
      db
        .update(t.grants)
        .set(placeholdersFor(t.grants, keys))
        .where(and(eq(t.grants.id, sql.placeholder('__id')), inArray(t.grants.status, from))),
    );
    return statement.run({ ...toDriver(t.grants, values), __id: id }).changes === 1;
  }

  getGrants(ids: readonly string[]): Grant[] {
    if (ids.length === 0) return [];
    // Built once: the ids go in as one JSON array (a batch's grants, the sweep's pages).
    return this.c
      .prepared('getGrants', (db) => db.select().from(t.grants).where(inJsonList(t.grants.id, 'ids')))
      .all({ ids: JSON.stringify(ids) })
      .map(toGrant);
  }

  grantsThroughGroup(group: string, filter: { holderId?: string; status?: GrantStatus[] } = {}): Grant[] {
    return this.c.db
      .select()
      .from(t.grants)
      .where(
        and(
          // With a holder, look their grants up by grants_holder (unary plus keeps grants_group out).
          filter.holderId ? eq(sql`+${t.grants.provisionGroup}`, group) : eq(t.grants.provisionGroup, group),
          filter.holderId ? eq(t.grants.holderId, filter.holderId) : undefined,
          filter.status?.length ? inArray(t.grants.status, filter.status) : undefined,
        ),
      )
      .orderBy(asc(t.grants.createdAt), asc(t.grants.id))
      .all()
      .map(toGrant);
  }

  provisionGroupsOf(status: GrantStatus[]): string[] {
    return this.c.db
      .selectDistinct({ group: t.grants.provisionGroup })
      .from(t.grants)
      .where(and(inArray(t.grants.status, status), isNotNull(t.grants.provisionGroup)))
      .all()
      .map((r) => r.group!)
      .sort();
  }

  holdersOf(status: GrantStatus[]): string[] {
    return this.c.db
      .selectDistinct({ holderId: t.grants.holderId })
      .from(t.grants)
      .where(inArray(t.grants.status, status))
      .all()
      .map((r) => r.holderId)
      .sort();
  }

  lockGrants(): void {
    // The transaction holds the database's write lock (BEGIN IMMEDIATE): every row is locked already.
  }

  getExtensions(grantId: string): ExtensionRecord[] {
    return this.c
      .prepared('getExtensions', (db) =>
        db
          .select()
          .from(t.extensions)
          .where(eq(t.extensions.grantId, sql.placeholder('grantId')))
          .orderBy(asc(t.extensions.at)),
      )
      .all({ grantId });
  }

  insertExtension(extension: ExtensionRecord): void {
    this.c.insert(t.extensions, extension);
  }
}
