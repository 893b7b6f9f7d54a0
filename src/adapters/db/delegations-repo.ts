/** Delegations of approvals, on SQLite. */
import { and, asc, desc, eq, inArray, lte, or, sql } from 'drizzle-orm';
import { AccessError } from '../../domain/errors.js';
import type { Delegation } from '../../domain/records.js';
import { isUniqueViolation, type Connection } from './open-database.js';
import { fromDelegation, fromDelegationPatch, toDelegation } from './row-mappers.js';
import { inJsonList, limitInText } from './prepared-query.js';
import * as t from './schema.js';
import { placeholdersFor, toDriver, type SyncPort } from './sync-port.js';

type Methods =
  | 'getDelegation'
  | 'getDelegations'
  | 'activeDelegationBy'
  | 'activeDelegationsBy'
  | 'activeDelegationsTo'
  | 'expiredDelegations'
  | 'activeDelegationsInvolving'
  | 'listDelegations'
  | 'insertDelegation'
  | 'updateDelegation';

export class DelegationsRepo implements SyncPort<Methods> {
  constructor(private readonly c: Connection) {}

  getDelegation(id: string): Delegation | undefined {
    const row = this.c
      .prepared('getDelegation', (db) =>
        db
          .select()
          .from(t.delegations)
          .where(eq(t.delegations.id, sql.placeholder('id'))),
      )
      .get({ id });
    return row && toDelegation(row);
  }

  getDelegations(ids: readonly string[]): Delegation[] {
    if (ids.length === 0) return [];
    return this.c
      .prepared('getDelegations', (db) => db.select().from(t.delegations).where(inJsonList(t.delegations.id, 'ids')))
      .all({ ids: JSON.stringify(ids) })
      .map(toDelegation);
  }

  activeDelegationsBy(delegatorIds: readonly string[]): Delegation[] {
    if (delegatorIds.length === 0) return [];
    // Built once, the ids one JSON parameter: a request's approvers are looked up on every
    // submission and decision. The status is a literal, as in the partial index delegations_one_active.
    return this.c
      .prepared(
        'activeDelegationsBy',
        (db) =>
          db
            .select()
            .from(t.delegations)
            .where(and(inJsonList(t.delegations.delegatorId, 'ids'), sql`${t.delegations.status} = 'active'`)),
        // Named: a JSON list hides its length from the planner, which would read every active
        // delegation through delegations_status_ends instead of each delegator's one.
        { indexedBy: 'delegations_one_active' },
      )
      .all({ ids: JSON.stringify(delegatorIds) })
      .map(toDelegation);
  }

  activeDelegationBy(delegatorId: string): Delegation | undefined {
    // The status is a literal, as in the partial index delegations_one_active.
    const row = this.c
      .prepared('activeDelegationBy', (db) =>
        db
          .select()
          .from(t.delegations)
          .where(
            and(eq(t.delegations.delegatorId, sql.placeholder('delegatorId')), sql`${t.delegations.status} = 'active'`),
          ),
      )
      .get({ delegatorId });
    return row && toDelegation(row);
  }

  activeDelegationsTo(delegateId: string): Delegation[] {
    return this.c
      .prepared('activeDelegationsTo', (db) =>
        db
          .select()
          .from(t.delegations)
          .where(
            and(eq(t.delegations.delegateId, sql.placeholder('delegateId')), sql`${t.delegations.status} = 'active'`),
          )
          .orderBy(asc(t.delegations.createdAt), asc(t.delegations.id)),
      )
      .all({ delegateId })
      .map(toDelegation);
  }

  expiredDelegations(now: string, limit: number): Delegation[] {
    return this.c
      .prepared(`expiredDelegations:${limit}`, (db) =>
        db
          .select()
          .from(t.delegations)
          .where(and(sql`${t.delegations.status} = 'active'`, lte(t.delegations.endsAt, sql.placeholder('now'))))
          .orderBy(asc(t.delegations.endsAt))
          .limit(limitInText(limit)),
      )
      .all({ now })
      .map(toDelegation);
  }

  activeDelegationsInvolving(personId: string): Delegation[] {
    return this.c.db
      .select()
      .from(t.delegations)
      .where(
        and(
          sql`${t.delegations.status} = 'active'`,
          or(eq(t.delegations.delegatorId, personId), eq(t.delegations.delegateId, personId)),
        ),
      )
      .orderBy(asc(t.delegations.createdAt), asc(t.delegations.id))
      .all()
      .map(toDelegation);
  }

  listDelegations(filter: { status?: Delegation['status'][]; limit?: number }): Delegation[] {
    return this.c.db
      .select()
      .from(t.delegations)
      .where(filter.status?.length ? inArray(t.delegations.status, filter.status) : undefined)
      .orderBy(desc(t.delegations.createdAt), desc(t.delegations.id))
      .limit(filter.limit ?? 1000)
      .all()
      .map(toDelegation);
  }

  insertDelegation(delegation: Delegation): void {
    try {
      this.c.insert(t.delegations, fromDelegation(delegation));
    } catch (error) {
      if (isUniqueViolation(error)) {
        throw new AccessError(
          'invalid_delegation',
          `${delegation.delegator.email} already has an active delegation; end it first.`,
        );
      }
      throw error;
    }
  }

  updateDelegation(id: string, from: Delegation['status'][], patch: Partial<Delegation>): boolean {
    const values = fromDelegationPatch(patch);
    const keys = Object.keys(values);
    if (keys.length === 0) return false;
    const statement = this.c.prepared(`updateDelegation:${keys.join(',')}:${from.join(',')}`, (db) =>
      db
        .update(t.delegations)
        .set(placeholdersFor(t.delegations, keys))
        .where(and(eq(t.delegations.id, sql.placeholder('__id')), inArray(t.delegations.status, from))),
    );
    return statement.run({ ...toDriver(t.delegations, values), __id: id }).changes === 1;
  }
}
