/**
 * The hash-chained audit log on SQLite.
 *
 * Single writer (the port's rule, see `StoreTx.appendAudit`): an append reads the head and writes
 * the next event under the audit-head lock, held until the transaction ends. On SQLite that lock
 * is the database write lock: every write transaction starts with BEGIN IMMEDIATE (SqliteStore),
 * which takes it before the first read, so no other connection or process can read the same head
 * until this transaction commits. `lockHead` is where a store that locks finer (PostgreSQL: a
 * transaction-scoped lock on the head) takes its lock; here it only checks the lock is held.
 */
import { and, asc, desc, eq, gt, gte, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import { canonicalize } from '../../domain/canonical.js';
import {
  actorLabel,
  GENESIS_HASH,
  hashEventJson,
  type AuditAction,
  type AuditEvent,
  type AuditEventInput,
} from '../../domain/audit.js';
import type { Connection } from './open-database.js';
import { toAudit } from './row-mappers.js';
import { limitInText } from './prepared-query.js';
import * as t from './schema.js';
import { placeholdersFor, type SyncPort } from './sync-port.js';

type Methods =
  'auditHead' | 'appendAudit' | 'auditEvents' | 'auditEventsFor' | 'auditEventsBetween' | 'auditEventsAfterSeq';

export class AuditLog implements SyncPort<Methods> {
  constructor(private readonly c: Connection) {}

  auditHead(): { seq: number; hash: string } {
    const row = this.c
      .prepared('auditHead', (db) =>
        db
          .select({ seq: t.auditEvents.seq, hash: t.auditEvents.hash })
          .from(t.auditEvents)
          .orderBy(desc(t.auditEvents.id))
          .limit(limitInText(1)),
      )
      .get();
    return row ?? { seq: 0, hash: GENESIS_HASH };
  }

  /** The audit-head lock: on SQLite, the write lock of the transaction in progress. */
  lockHead(): void {
    if (!this.c.sqlite.inTransaction)
      throw new Error('appendAudit outside a write transaction: the audit head is not locked');
  }

  /**
   * The head this connection appended last, in the transaction in progress: the next append in
   * the same transaction needs no read. SqliteStore forgets it when a transaction begins (another
   * process may have appended since).
   */
  private appended: { seq: number; hash: string } | undefined;

  forgetAppendedHead(): void {
    this.appended = undefined;
  }

  appendAudit(input: AuditEventInput): AuditEvent {
    this.lockHead();
    const head = this.appended ?? this.auditHead();
    // Stored in canonical form (sorted keys), so the stored JSON text is exactly what the hash
    // covers and exports can pass it through without parsing and re-sorting each row; serialised
    // once, for the hash and the row alike.
    const actor = canonicalize(input.actor);
    const details = canonicalize(input.details ?? {});
    const row = {
      seq: head.seq + 1,
      at: input.at,
      actor: JSON.stringify(actor),
      actorLabel: actorLabel(actor),
      action: input.action,
      requestId: input.requestId ?? null,
      grantId: input.grantId ?? null,
      details: JSON.stringify(details),
      prevHash: head.hash,
      hash: '',
    };
    row.hash = hashEventJson(head.hash, row);
    this.c
      .prepared('appendAudit', (db) =>
        db.insert(t.auditEvents).values(placeholdersFor(t.auditEvents, Object.keys(row))),
      )
      .run(row);
    this.appended = { seq: row.seq, hash: row.hash };
    const { seq, at, action, requestId, grantId, prevHash, hash } = row;
    return { seq, at, actor, action, requestId, grantId, details, prevHash, hash };
  }

  auditEvents(options: { afterId?: number; limit?: number } = {}): (AuditEvent & { id: number })[] {
    const limit = options.limit ?? 1000;
    return this.c
      .prepared(`auditEvents:${limit}`, (db) =>
        db
          .select()
          .from(t.auditEvents)
          .where(gt(t.auditEvents.id, sql.placeholder('afterId')))
          .orderBy(asc(t.auditEvents.id))
          .limit(limitInText(limit)),
      )
      .all({ afterId: options.afterId ?? 0 })
      .map((row) => ({ ...toAudit(row), id: row.id }));
  }

  auditEventsFor(filter: { requestId?: string; grantId?: string }): AuditEvent[] {
    const where: SQL[] = [];
    if (filter.requestId) where.push(eq(t.auditEvents.requestId, filter.requestId));
    if (filter.grantId) where.push(eq(t.auditEvents.grantId, filter.grantId));
    return this.c.db
      .select()
      .from(t.auditEvents)
      .where(or(...where))
      .orderBy(asc(t.auditEvents.id))
      .all()
      .map(toAudit);
  }

  auditEventsBetween(from: string, to: string, actions?: readonly AuditAction[]): AuditEvent[] {
    return this.c.db
      .select()
      .from(t.auditEvents)
      .where(
        and(
          gte(t.auditEvents.at, from),
          lt(t.auditEvents.at, to),
          actions?.length ? inArray(t.auditEvents.action, [...actions]) : undefined,
        ),
      )
      .orderBy(asc(t.auditEvents.id))
      .all()
      .map(toAudit);
  }

  auditEventsAfterSeq(afterSeq: number, limit: number): AuditEvent[] {
    // On the unique seq index: a sink's next batch costs the same however long the log is.
    return this.c
      .prepared(`auditEventsAfterSeq:${limit}`, (db) =>
        db
          .select()
          .from(t.auditEvents)
          .where(gt(t.auditEvents.seq, sql.placeholder('afterSeq')))
          .orderBy(asc(t.auditEvents.seq))
          .limit(limitInText(limit)),
      )
      .all({ afterSeq })
      .map(toAudit);
  }
}
