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
  /** Statements built once (see `prepared`), by name. */
  private readonly statements = new Map<string, unknown>();

  constructor(
    readonly client: pg.Pool | pg.PoolClient,
    /** True on a transaction's connection: reads by key lock what they read. */
    readonly inTransaction: boolean,
  ) {
    this.db = drizzleOn(client);
  }

  /**
   * A hot read built once, its values as placeholders: `build` names it (drizzle's `.prepare(name)`),
   * so drizzle writes its SQL once instead of at every call, and node-postgres sends it as a named
   * statement, which PostgreSQL parses and plans once per connection. Opening the request form on
   * three replicas spent a tenth of its CPU building queries (bench/slack-ack-bench.ts, replica
   * profiles). One `name`, one statement text: the name says which query it is.
   */
  prepared<P>(name: string, build: (db: PgDb, name: string) => P): P {
    let statement = this.statements.get(name) as P | undefined;
    if (statement === undefined) this.statements.set(name, (statement = build(this.db, name)));
    return statement;
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
