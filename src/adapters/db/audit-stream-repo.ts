/** The audit stream's state on SQLite: each sink's cursor and failures, and the signed checkpoints. */
import { and, asc, desc, eq, gt, sql } from 'drizzle-orm';
import type { AuditSinkState } from '../../domain/audit-sinks.js';
import type { CheckpointRecord } from '../../domain/checkpoint.js';
import type { Connection } from './open-database.js';
import { limitInText } from './prepared-query.js';
import * as t from './schema.js';
import type { SyncPort } from './sync-port.js';

type Methods =
  'auditSinkStates' | 'updateAuditSink' | 'auditCheckpoints' | 'latestAuditCheckpoint' | 'recordAuditCheckpoint';

export class AuditStreamRepo implements SyncPort<Methods> {
  constructor(private readonly c: Connection) {}

  auditSinkStates(): AuditSinkState[] {
    return this.c.db.select().from(t.auditSinks).orderBy(asc(t.auditSinks.name)).all();
  }

  updateAuditSink(
    name: string,
    fromSeq: number,
    patch: Partial<Omit<AuditSinkState, 'name'>> & { updatedAt: string },
  ): boolean {
    if (patch.deliveredSeq !== undefined && patch.deliveredSeq < fromSeq) {
      throw new Error(`audit sink ${name}: the cursor cannot move back from ${fromSeq} to ${patch.deliveredSeq}`);
    }
    // A sink's state exists from its first update; it starts before the first event.
    this.c.db
      .insert(t.auditSinks)
      .values({ name, deliveredSeq: 0, failures: 0, updatedAt: patch.updatedAt })
      .onConflictDoNothing()
      .run();
    return (
      this.c.db
        .update(t.auditSinks)
        .set(patch)
        .where(and(eq(t.auditSinks.name, name), eq(t.auditSinks.deliveredSeq, fromSeq)))
        .run().changes === 1
    );
  }

  auditCheckpoints(options: { afterSeq?: number; limit?: number } = {}): CheckpointRecord[] {
    return this.c
      .prepared('auditCheckpoints', (db) =>
        db
          .select()
          .from(t.auditCheckpoints)
          .where(gt(t.auditCheckpoints.seq, sql.placeholder('afterSeq')))
          .orderBy(asc(t.auditCheckpoints.seq))
          .limit(sql.placeholder('limit')),
      )
      .all({ afterSeq: options.afterSeq ?? -1, limit: options.limit ?? -1 });
  }

  latestAuditCheckpoint(): CheckpointRecord | undefined {
    return this.c
      .prepared('latestAuditCheckpoint', (db) =>
        db.select().from(t.auditCheckpoints).orderBy(desc(t.auditCheckpoints.seq)).limit(limitInText(1)),
      )
      .get();
  }

  recordAuditCheckpoint(checkpoint: CheckpointRecord): void {
    this.c.insert(t.auditCheckpoints, checkpoint);
  }
}
