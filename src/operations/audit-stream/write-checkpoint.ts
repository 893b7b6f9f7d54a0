/**
 * Signed checkpoints (domain/checkpoint.ts): every `audit_checkpoints.every`, the head of the chain
 * is signed and the checkpoint written, in one transaction, to the log itself (an
 * `audit.checkpointed` event, which the stream then carries to every sink in order), to the store's
 * list of checkpoints, and to the checkpoint channel (a message job).
 *
 * A checkpoint is written only when the log moved since the last one: the checkpoint event itself
 * is the only thing an idle log gains, and signing it again would say nothing new.
 */
import { systemActor } from '../../domain/audit.js';
import type { AuditCheckpointSettings } from '../../domain/audit-sinks.js';
import { checkpointPayload, checkpointWire, type CheckpointRecord } from '../../domain/checkpoint.js';
import { notify } from '../lifecycle.js';
import type { CheckpointSigner } from '../ports.js';
import type { StreamDeps } from './deliver-batch.js';

export type CheckpointOutcome =
  | { kind: 'written'; checkpoint: CheckpointRecord }
  /** The last checkpoint is younger than the interval; the next is due at `dueAt`. */
  | { kind: 'not_due'; dueAt: string }
  /** Nothing was logged since the last checkpoint (or the log is empty). */
  | { kind: 'unchanged' };

export async function writeCheckpointIfDue(
  deps: StreamDeps,
  signer: CheckpointSigner,
  settings: AuditCheckpointSettings,
  options: { force?: boolean } = {},
): Promise<CheckpointOutcome> {
  const now = deps.clock.now().toISOString();
  return deps.store.transaction(async (tx): Promise<CheckpointOutcome> => {
    const last = await tx.latestAuditCheckpoint();
    if (last && !options.force) {
      const dueAt = new Date(Date.parse(last.at) + settings.everySeconds * 1000).toISOString();
      if (dueAt > now) return { kind: 'not_due', dueAt };
    }
    const head = await tx.auditHead();
    if (head.seq === 0 || (last && head.seq <= last.eventSeq)) return { kind: 'unchanged' };
    const signature = signer.sign(checkpointPayload({ seq: head.seq, hash: head.hash, at: now }));
    const checkpoint = { seq: head.seq, hash: head.hash, at: now, signature, keyId: signer.keyId };
    const event = await tx.appendAudit({
      at: now,
      actor: systemActor('checkpoint'),
      action: 'audit.checkpointed',
      details: checkpointWire(checkpoint),
    });
    const record: CheckpointRecord = { ...checkpoint, eventSeq: event.seq };
    await tx.recordAuditCheckpoint(record);
    await notify(tx, now, `checkpoint:${head.seq}`, {
      type: 'audit.checkpoint',
      recipient: { kind: 'channel', channel: settings.channel },
      checkpoint: checkpointWire(checkpoint),
    });
    return { kind: 'written', checkpoint: record };
  });
}
