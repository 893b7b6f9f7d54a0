/** Delegations of approvals, on PostgreSQL. */
import { and, asc, desc, eq, inArray, lte, or, sql } from 'drizzle-orm';
import { AccessError } from '../../../domain/errors.js';
import type { Delegation } from '../../../domain/records.js';
import type { StoreTx } from '../../../operations/ports.js';
import { fromDelegation, fromDelegationPatch, toDelegation } from '../row-mappers.js';
import { uniqueViolation } from './connection.js';
import * as t from './schema.js';
import { textArray, type PgSession } from './session.js';

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

export class PgDelegationsRepo implements Pick<StoreTx, Methods> {
  constructor(private readonly s: PgSession) {}

  async getDelegation(id: string): Promise<Delegation | undefined> {
    const query = this.s.db.select().from(t.delegations).where(eq(t.delegations.id, id));
    const [row] = this.s.inTransaction ? await query.for('update') : await query;
    return row && toDelegation(row);
  }

  async getDelegations(ids: readonly string[]): Promise<Delegation[]> {
    if (ids.length === 0) return [];
    const query = this.s.db
      .select()
      .from(t.delegations)
      .where(sql`${t.delegations.id} = any(${textArray(ids)})`);
    // In a transaction they are locked like getDelegation's, in id order, so two batches that lock
    // overlapping delegations take them in the same order and never wait for each other in a cycle.
    const rows = this.s.inTransaction ? await query.orderBy(t.delegations.id).for('update') : await query;
    return rows.map(toDelegation);
  }

  async activeDelegationsBy(delegatorIds: readonly string[]): Promise<Delegation[]> {
    if (delegatorIds.length === 0) return [];
    const rows = await this.s.db
      .select()
      .from(t.delegations)
      .where(
        and(
          sql`${t.delegations.delegatorId} = any(${textArray(delegatorIds)})`,
          sql`${t.delegations.status} = 'active'`,
        ),
      );
    return rows.map(toDelegation);
  }

  async activeDelegationBy(delegatorId: string, options: { lock?: boolean } = {}): Promise<Delegation | undefined> {
    // With `lock`, the person's delegation, present or not: two `/access delegate` of one person run
    // one after the other, so the second ends (replaces) what the first made. Never for a read made
    // after the audit chain (asking a step's approvers): it would wait for this lock holding that one.
    if (options.lock && this.s.inTransaction) await this.s.lockNamed(`delegation:${delegatorId}`);
    const [row] = await this.s.db
      .select()
      .from(t.delegations)
      .where(and(eq(t.delegations.delegatorId, delegatorId), sql`${t.delegations.status} = 'active'`));
    return row && toDelegation(row);
  }

  async activeDelegationsTo(delegateId: string): Promise<Delegation[]> {
    const rows = await this.s.db
      .select()
      .from(t.delegations)
      .where(and(eq(t.delegations.delegateId, delegateId), sql`${t.delegations.status} = 'active'`))
      .orderBy(asc(t.delegations.createdAt), asc(t.delegations.id));
    return rows.map(toDelegation);
  }

  async expiredDelegations(now: string, limit: number): Promise<Delegation[]> {
    const rows = await this.s.db
      .select()
      .from(t.delegations)
      .where(and(sql`${t.delegations.status} = 'active'`, lte(t.delegations.endsAt, now)))
      .orderBy(asc(t.delegations.endsAt))
      .limit(limit);
    return rows.map(toDelegation);
  }

  async activeDelegationsInvolving(personId: string): Promise<Delegation[]> {
    const rows = await this.s.db
      .select()
      .from(t.delegations)
      .where(
        and(
          sql`${t.delegations.status} = 'active'`,
          or(eq(t.delegations.delegatorId, personId), eq(t.delegations.delegateId, personId)),
        ),
      )
      .orderBy(asc(t.delegations.createdAt), asc(t.delegations.id));
    return rows.map(toDelegation);
  }

  async listDelegations(filter: { status?: Delegation['status'][]; limit?: number }): Promise<Delegation[]> {
    const rows = await this.s.db
      .select()
      .from(t.delegations)
      .where(filter.status?.length ? inArray(t.delegations.status, filter.status) : undefined)
      .orderBy(desc(t.delegations.createdAt), desc(t.delegations.id))
      .limit(filter.limit ?? 1000);
    return rows.map(toDelegation);
  }

  async insertDelegation(delegation: Delegation): Promise<void> {
    try {
      await this.s.db.insert(t.delegations).values(fromDelegation(delegation));
    } catch (error) {
      if (uniqueViolation(error) === 'delegations_one_active') {
        throw new AccessError(
          'invalid_delegation',
          `${delegation.delegator.email} already has an active delegation; end it first.`,
        );
      }
      throw error;
    }
  }

  async updateDelegation(id: string, from: Delegation['status'][], patch: Partial<Delegation>): Promise<boolean> {
    const values = fromDelegationPatch(patch);
    if (Object.keys(values).length === 0) return false;
    const result = await this.s.db
      .update(t.delegations)
      .set(values)
      .where(and(eq(t.delegations.id, id), inArray(t.delegations.status, from)));
    return result.rowCount === 1;
  }
}
