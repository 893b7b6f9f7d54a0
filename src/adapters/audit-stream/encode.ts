/** A batch's records as JSON text, cut into requests of a bounded size (a receiver limits bodies). */
import type { AuditEvent } from '../../domain/audit.js';
import type { AuditFormat } from '../../domain/audit-sinks.js';
import { formatRecord, type AuditBatch } from '../../operations/audit-stream/records.js';

/** The most a webhook or HEC request carries: HEC's and most gateways' default body limit is about 1 MB. */
const MAX_REQUEST_BYTES = 1024 * 1024;

export interface EncodedPart {
  /** Each record's JSON text, in seq order. */
  texts: string[];
  firstSeq: number;
  lastSeq: number;
}

/**
 * The batch's records in `format`, as JSON text, split into parts of at most `maxBytes` (the
 * records' text plus `overheadPerRecord` each); a record larger than that travels alone. Parts
 * are sent in order, and the batch counts as delivered only when every part was confirmed.
 */
export function encodeBatch(
  batch: AuditBatch,
  format: AuditFormat,
  wrap: (record: object, event: AuditEvent) => object = (record) => record,
  maxBytes = MAX_REQUEST_BYTES,
  overheadPerRecord = 1,
): EncodedPart[] {
  const parts: EncodedPart[] = [];
  let current: EncodedPart | undefined;
  let size = 0;
  for (const event of batch.events) {
    const text = JSON.stringify(wrap(formatRecord(format, event, batch.subjects), event));
    const bytes = Buffer.byteLength(text) + overheadPerRecord;
    if (!current || (size + bytes > maxBytes && current.texts.length > 0)) {
      current = { texts: [], firstSeq: event.seq, lastSeq: event.seq };
      parts.push(current);
      size = 0;
    }
    current.texts.push(text);
    current.lastSeq = event.seq;
    size += bytes;
  }
  return parts;
}
