/** Small named values (cursors, schedule slots, drift marks) and schedule leases, on SQLite. */
import { and, asc, eq, gt, gte, lt, lte, or, sql } from 'drizzle-orm';
import type { LeaseRecord } from '../../operations/ports.js';
import type { Connection } from './open-database.js';
import * as t from './schema.js';
import type { SyncPort } from './sync-port.js';

type Methods =
  'getMeta' | 'setMeta' | 'metaWithPrefix' | 'deleteMeta' | 'getLease' | 'acquireLease' | 'renewLease' | 'releaseLease';

export class MetaRepo implements SyncPort<Methods> {
  constructor(private readonly c: Connection) {}

  getMeta(key: string): string | undefined {
    return this.c
      .prepared('getMeta', (db) =>
        db
          .select({ value: t.meta.value })
          .from(t.meta)
          .where(eq(t.meta.key, sql.placeholder('key'))),
      )
      .get({ key })?.value;
  }

  setMeta(key: string, value: string, now: string): void {
    this.c.db
      .insert(t.meta)
      .values({ key, value, updatedAt: now })
      .onConflictDoUpdate({ target: t.meta.key, set: { value, updatedAt: now } })
      .run();
  }

  metaWithPrefix(prefix: string): { key: string; value: string; updatedAt: string }[] {
    // A range on the primary key instead of LIKE, whose wildcards (`_`, `%`) could appear in keys.
    return this.c.db
      .select()
      .from(t.meta)
      .where(and(gte(t.meta.key, prefix), lt(t.meta.key, prefix + '\uffff')))
      .orderBy(asc(t.meta.key))
      .all();
  }

  deleteMeta(key: string): boolean {
    return this.c.db.delete(t.meta).where(eq(t.meta.key, key)).run().changes === 1;
  }

  // ---- schedule leases ------------------------------------------------------------------------

  getLease(name: string): LeaseRecord | undefined {
    return this.c
      .prepared('getLease', (db) =>
        db
          .select()
          .from(t.leases)
          .where(eq(t.leases.name, sql.placeholder('name'))),
      )
      .get({ name });
  }

  acquireLease(name: string, holder: string, now: string, expiresAt: string): boolean {
    // One statement: insert the row, or take it over only when it is ours or has expired. SQLite
    // reports no change when the upsert's WHERE fails, so `changes` says who won.
    return (
      this.c.db
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
        })
        .run().changes === 1
    );
  }

  renewLease(name: string, holder: string, now: string, expiresAt: string): boolean {
    // A lease that already expired is not renewed even if nobody took it yet: the holder stalled
    // past its lease, so another process may have started the same work and must be able to win.
    return (
      this.c.db
        .update(t.leases)
        .set({ expiresAt })
        .where(and(eq(t.leases.name, name), eq(t.leases.holder, holder), gt(t.leases.expiresAt, now)))
        .run().changes === 1
    );
  }

  releaseLease(name: string, holder: string): boolean {
    return (
      this.c.db
        .delete(t.leases)
        .where(and(eq(t.leases.name, name), eq(t.leases.holder, holder)))
        .run().changes === 1
    );
  }
}
