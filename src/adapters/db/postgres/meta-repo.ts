/** Small named values (cursors, schedule slots, drift marks) and schedule leases, on PostgreSQL. */
import { and, asc, eq, gt, lte, or, sql } from 'drizzle-orm';
import type { LeaseRecord, StoreTx } from '../../../operations/ports.js';
import * as t from './schema.js';
import { likePrefix, type PgSession } from './session.js';

type Methods =
  'getMeta' | 'setMeta' | 'metaWithPrefix' | 'deleteMeta' | 'getLease' | 'acquireLease' | 'renewLease' | 'releaseLease';

export class PgMetaRepo implements Pick<StoreTx, Methods> {
  constructor(private readonly s: PgSession) {}

  async getMeta(key: string): Promise<string | undefined> {
    // In a transaction the key is locked, present or not: a value read to be written (a schedule
    // slot, a cursor, an Okta rate-limit window) cannot change under the transaction.
    await this.s.lockNamed(metaLock(key));
    const [row] = await this.s.db.select({ value: t.meta.value }).from(t.meta).where(eq(t.meta.key, key));
    return row?.value;
  }

  async setMeta(key: string, value: string, now: string): Promise<void> {
    await this.s.lockNamed(metaLock(key));
    await this.s.db
      .insert(t.meta)
      .values({ key, value, updatedAt: now })
      .onConflictDoUpdate({ target: t.meta.key, set: { value, updatedAt: now } });
  }

  metaWithPrefix(prefix: string): Promise<{ key: string; value: string; updatedAt: string }[]> {
    return this.s.db
      .select()
      .from(t.meta)
      .where(sql`${t.meta.key} like ${likePrefix(prefix)}`)
      .orderBy(asc(sql`${t.meta.key} collate "C"`));
  }

  async deleteMeta(key: string): Promise<boolean> {
    await this.s.lockNamed(metaLock(key));
    const result = await this.s.db.delete(t.meta).where(eq(t.meta.key, key));
    return result.rowCount === 1;
  }

  // ---- schedule leases ------------------------------------------------------------------------

  async getLease(name: string): Promise<LeaseRecord | undefined> {
    const [row] = await this.s.db.select().from(t.leases).where(eq(t.leases.name, name));
    return row;
  }

  async acquireLease(name: string, holder: string, now: string, expiresAt: string): Promise<boolean> {
    // One statement: insert the row, or take it over only when it is ours or has expired. Two
    // replicas inserting at once: the second waits for the first's row, then its WHERE decides
    // against the committed holder, so exactly one wins.
    const result = await this.s.db
      .insert(t.leases)
      .values({ name, holder, acquiredAt: now, expiresAt })
      .onConflictDoUpdate({
        target: t.leases.name,
        set: {
          holder,
          acquiredAt: sql`case when ${t.leases.holder} = ${holder} then ${t.leases.acquiredAt} else ${now} end`,
          expiresAt,
        },
        setWhere: or(eq(t.leases.holder, holder), lte(t.leases.expiresAt, now)),
      });
    return result.rowCount === 1;
  }

  async renewLease(name: string, holder: string, now: string, expiresAt: string): Promise<boolean> {
    // A lease that already expired is not renewed even if nobody took it yet (see the SQLite store).
    const result = await this.s.db
      .update(t.leases)
      .set({ expiresAt })
      .where(and(eq(t.leases.name, name), eq(t.leases.holder, holder), gt(t.leases.expiresAt, now)));
    return result.rowCount === 1;
  }

  async releaseLease(name: string, holder: string): Promise<boolean> {
    const result = await this.s.db.delete(t.leases).where(and(eq(t.leases.name, name), eq(t.leases.holder, holder)));
    return result.rowCount === 1;
  }
}

function metaLock(key: string): string {
  return `meta:${key}`;
}
