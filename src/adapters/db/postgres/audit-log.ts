/**
 * The hash-chained audit log on PostgreSQL.
 *
 * Single writer (the port's rule, see `StoreTx.appendAudit`): the first append of a transaction
 * takes the chain's lock, a transaction-scoped advisory lock (`pg_advisory_xact_lock`), and only
 * then reads the head. Under READ COMMITTED that read sees the last event committed by whoever held
 * the lock before, so two transactions never chain onto the same head and the chain never forks;
 * the lock is held until commit, and the unique index on `seq` backs it up. Later appends of the
 * same transaction chain onto the event it just wrote without asking again.
 *
 * The lock covers the chain only: transactions that write no audit event (job claims, leases,
 * posted messages, Okta rate-limit windows) never wait for it.
 */
import { and, asc, desc, eq, gt, gte, inArray, lt, or, sql, type SQL } from 'drizzle-orm';
import { canonicalize } from '../../../domain/canonical.js';
import {
  actorLabel,
  GENESIS_HASH,
  hashEvent,
  type AuditAction,
  type AuditEvent,
  type AuditEventInput,
} from '../../../domain/audit.js';
import type { StoreTx } from '../../../operations/ports.js';
import { toAudit } from '../row-mappers.js';
import { LOCKS, MAIN_CHAIN } from './connection.js';
import * as t from './schema.js';
import type { PgSession } from './session.js';

type Methods =
  'auditHead' | 'appendAudit' | 'auditEvents' | 'auditEventsFor' | 'auditEventsBetween' | 'auditEventsAfterSeq';

export class PgAuditLog implements Pick<StoreTx, Methods> {
  constructor(private readonly s: PgSession) {}

  async auditHead(): Promise<{ seq: number; hash: string }> {
    const [row] = await this.s.db
      .select({ seq: t.auditEvents.seq, hash: t.auditEvents.hash })
      .from(t.auditEvents)
      .orderBy(desc(t.auditEvents.id))
      .limit(1);
    return row ?? { seq: 0, hash: GENESIS_HASH };
  }

  /** Takes the chain's lock (once per transaction) and returns the head to chain onto. */
  private async lockHead(): Promise<{ seq: number; hash: string }> {
    if (!this.s.inTransaction) throw new Error('appendAudit outside a transaction: the audit head is not locked');
    if (this.s.auditHead) return this.s.auditHead;
    await this.s.db.execute(sql`select pg_advisory_xact_lock(${LOCKS.auditChain}, ${MAIN_CHAIN})`);
    return this.auditHead();
  }

  async appendAudit(input: AuditEventInput): Promise<AuditEvent> {
    const head = await this.lockHead();
    const body = {
      seq: head.seq + 1,
      at: input.at,
      // Stored in canonical form (sorted keys), so the stored JSON text is exactly what the hash covers.
      actor: canonicalize(input.actor),
      action: input.action,
      requestId: input.requestId ?? null,
      grantId: input.grantId ?? null,
      details: canonicalize(input.details ?? {}),
    };
    const event: AuditEvent = { ...body, prevHash: head.hash, hash: hashEvent(head.hash, body) };
    await this.s.db.insert(t.auditEvents).values({ ...event, actorLabel: actorLabel(event.actor) });
    this.s.auditHead = { seq: event.seq, hash: event.hash };
    return event;
  }

  async auditEvents(options: { afterId?: number; limit?: number } = {}): Promise<(AuditEvent & { id: number })[]> {
    const rows = await this.s.db
      .select()
      .from(t.auditEvents)
      .where(gt(t.auditEvents.id, options.afterId ?? 0))
      .orderBy(asc(t.auditEvents.id))
      .limit(options.limit ?? 1000);
    return rows.map((row) => ({ ...toAudit(row), id: row.id }));
  }

  async auditEventsFor(filter: { requestId?: string; grantId?: string }): Promise<AuditEvent[]> {
    const where: SQL[] = [];
    if (filter.requestId) where.push(eq(t.auditEvents.requestId, filter.requestId));
    if (filter.grantId) where.push(eq(t.auditEvents.grantId, filter.grantId));
    const rows = await this.s.db
      .select()
      .from(t.auditEvents)
      .where(or(...where))
      .orderBy(asc(t.auditEvents.id));
    return rows.map(toAudit);
  }

  async auditEventsBetween(from: string, to: string, actions?: readonly AuditAction[]): Promise<AuditEvent[]> {
    const rows = await this.s.db
      .select()
      .from(t.auditEvents)
      .where(
        and(
          gte(t.auditEvents.at, from),
          lt(t.auditEvents.at, to),
          actions?.length ? inArray(t.auditEvents.action, [...actions]) : undefined,
        ),
      )
      .orderBy(asc(t.auditEvents.id));
    return rows.map(toAudit);
  }

  async auditEventsAfterSeq(afterSeq: number, limit: number): Promise<AuditEvent[]> {
    // On the unique seq index: a sink's next batch costs the same however long the log is.
    const rows = await this.s.db
      .select()
      .from(t.auditEvents)
      .where(gt(t.auditEvents.seq, afterSeq))
      .orderBy(asc(t.auditEvents.seq))
      .limit(limit);
    return rows.map(toAudit);
  }
}
