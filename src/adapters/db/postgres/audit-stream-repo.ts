/** The audit stream's state on PostgreSQL: each sink's cursor and failures, and the signed checkpoints. */
import { and, asc, desc, eq, gt } from 'drizzle-orm';
import type { AuditSinkState } from '../../../domain/audit-sinks.js';
import type { CheckpointRecord } from '../../../domain/checkpoint.js';
import type { StoreTx } from '../../../operations/ports.js';
import * as t from './schema.js';
import type { PgSession } from './session.js';

type Methods =
  'auditSinkStates' | 'updateAuditSink' | 'auditCheckpoints' | 'latestAuditCheckpoint' | 'recordAuditCheckpoint';

export class PgAuditStreamRepo implements Pick<StoreTx, Methods> {
  constructor(private readonly s: PgSession) {}

  auditSinkStates(): Promise<AuditSinkState[]> {
    return this.s.db.select().from(t.auditSinks).orderBy(asc(t.auditSinks.name));
  }

  async updateAuditSink(
    name: string,
    fromSeq: number,
    patch: Partial<Omit<AuditSinkState, 'name'>> & { updatedAt: string },
  ): Promise<boolean> {
    if (patch.deliveredSeq !== undefined && patch.deliveredSeq < fromSeq) {
      throw new Error(`audit sink ${name}: the cursor cannot move back from ${fromSeq} to ${patch.deliveredSeq}`);
    }
    // A sink's state exists from its first update; it starts before the first event. Two replicas
    // creating it at once: the second insert waits for the first and does nothing.
    await this.s.db
      .insert(t.auditSinks)
      .values({ name, deliveredSeq: 0, failures: 0, updatedAt: patch.updatedAt })
      .onConflictDoNothing();
    // Conditional on the cursor the mover read: under READ COMMITTED a concurrent move makes
    // PostgreSQL re-check the WHERE against the committed row, so exactly one mover wins.
    const result = await this.s.db
      .update(t.auditSinks)
      .set(patch)
      .where(and(eq(t.auditSinks.name, name), eq(t.auditSinks.deliveredSeq, fromSeq)));
    return result.rowCount === 1;
  }

  auditCheckpoints(options: { afterSeq?: number; limit?: number } = {}): Promise<CheckpointRecord[]> {
    const query = this.s.db
      .select()
      .from(t.auditCheckpoints)
      .where(gt(t.auditCheckpoints.seq, options.afterSeq ?? -1))
      .orderBy(asc(t.auditCheckpoints.seq));
    return options.limit === undefined ? query : query.limit(options.limit);
  }

  async latestAuditCheckpoint(): Promise<CheckpointRecord | undefined> {
    const [row] = await this.s.db.select().from(t.auditCheckpoints).orderBy(desc(t.auditCheckpoints.seq)).limit(1);
    return row;
  }

  async recordAuditCheckpoint(checkpoint: CheckpointRecord): Promise<void> {
    await this.s.db.insert(t.auditCheckpoints).values(checkpoint);
  }
}
