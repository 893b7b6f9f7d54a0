/**
 * What a PostgreSQL repository runs its statements on: the pool (reads outside a transaction) or
 * the one connection of a transaction. Inside a transaction, reads of one record by its key lock
 * it (`.for('update')` while `inTransaction`; `lockNamed` for a name), so what a transaction read
 * stays as read until it commits.
 */
import { sql, type SQL } from 'drizzle-orm';
import type pg from 'pg';
import { drizzleOn, LOCKS, type PgDb } from './connection.js';

export class PgSession {
  readonly db: PgDb;
  /** Named advisory locks this transaction holds already (they are re-entrant; this saves the round trip). */
  private readonly held = new Set<string>();
  /** The audit head after this transaction's last append (the chain lock is held from then on). */
  auditHead: { seq: number; hash: string } | undefined;

  constructor(
    readonly client: pg.Pool | pg.PoolClient,
    /** True on a transaction's connection: reads by key lock what they read. */
    readonly inTransaction: boolean,
  ) {
    this.db = drizzleOn(client);
  }

  /** Forgets the locks of the transaction that ended (the connection is reused by the next one). */
  reset(): void {
    this.held.clear();
    this.auditHead = undefined;
  }

  /**
   * Inside a transaction, a transaction-scoped advisory lock on a name (a meta key, a person's
   * pending request for a role): the way to lock a record that may not exist yet. Held until the
   * transaction ends; another transaction asking for it waits. A no-op outside a transaction.
   *
   * Under READ COMMITTED every statement reads the latest commit, so the read that follows the
   * lock sees what the previous holder committed.
   */
  async lockNamed(name: string): Promise<void> {
    if (!this.inTransaction || this.held.has(name)) return;
    await this.db.execute(sql`select pg_advisory_xact_lock(${LOCKS.named}, hashtext(${name}))`);
    this.held.add(name);
  }
}

/** Escapes `%`, `_` and `\` for a LIKE pattern that matches `prefix` literally at the start. */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** A list as one `text[]` parameter (`= any(...)`): the statement's text stays the same however long the list. */
export function textArray(values: readonly string[]): SQL {
  return sql`${sql.param([...values])}::text[]`;
}
