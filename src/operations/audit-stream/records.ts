/**
 * What a sink receives for each audit event, in the sink's format:
 *
 * - `json`: the event as stored, with snake_case envelope keys. `actor` and `details` are exactly
 *   the stored (canonical) objects, so a receiver can recompute the hash:
 *   `hash = sha256_hex(prev_hash + "\n" + canonical_json({action, actor, at, details, grantId,
 *   requestId, seq}))`, canonical JSON being sorted keys and no whitespace (README, "The audit
 *   stream").
 * - `ocsf`: the event mapped onto an OCSF 1.3 class (ocsf.ts), with the json record under
 *   `unmapped.access_bot`, so nothing is lost and the hash can be checked from either format.
 *
 * Every record carries `seq`: a receiver dedupes by it (delivery is at least once).
 */
import type { AuditEvent } from '../../domain/audit.js';
import type { AuditFormat } from '../../domain/audit-sinks.js';
import type { AccessRequest, Grant } from '../../domain/records.js';
import { ocsfRecord } from './ocsf.js';

/** The json format: one event. */
export interface AuditRecord {
  seq: number;
  at: string;
  action: string;
  actor: AuditEvent['actor'];
  request_id: string | null;
  grant_id: string | null;
  details: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export function auditRecord(event: AuditEvent): AuditRecord {
  return {
    seq: event.seq,
    at: event.at,
    action: event.action,
    actor: event.actor,
    request_id: event.requestId,
    grant_id: event.grantId,
    details: event.details,
    prev_hash: event.prevHash,
    hash: event.hash,
  };
}

/** The requests and grants a batch's events name: OCSF records say who and what from them. */
export interface AuditSubjects {
  requests: ReadonlyMap<string, AccessRequest>;
  grants: ReadonlyMap<string, Grant>;
}

export const NO_SUBJECTS: AuditSubjects = { requests: new Map(), grants: new Map() };

/** One batch as the stream hands it to a sink: events in seq order, and what they name. */
export interface AuditBatch {
  events: readonly AuditEvent[];
  subjects: AuditSubjects;
}

/** The record of one event in a format, as a plain object ready for JSON. */
export function formatRecord(format: AuditFormat, event: AuditEvent, subjects: AuditSubjects): object {
  return format === 'ocsf' ? ocsfRecord(event, subjects) : auditRecord(event);
}
