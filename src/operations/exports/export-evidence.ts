/**
 * Exports the audit trail as evidence: requests, access (role-level), events, policy versions, or
 * access reviews.
 *
 * The export reads one consistent snapshot (`Store.openSnapshot`, on any store) in batches and
 * writes it to a sink with backpressure, so memory stays flat however long the period. The audit head is read from the
 * same snapshot before
 * the first row: it is the head of the log the exported rows come from, and `audit verify
 * --expect-head` proves later that the log still contains it. Once the file is complete, the
 * export itself is logged (`export.created`, with the filters, row count and the file's SHA-256);
 * that event comes after the head, so the head printed in the summary is the event's `prevHash`
 * when nothing else was written meanwhile.
 */
import { systemActor, type Actor } from '../../domain/audit.js';
import type { ActingPerson } from '../acting-person.js';
import { actorOf } from '../acting-person.js';
import type { Deps } from '../context.js';
import { assertAdmin } from '../revoke-grant.js';
import {
  accessRow,
  ACCESS_COLUMNS,
  eventRow,
  EVENT_COLUMNS,
  policyRow,
  POLICY_COLUMNS,
  requestColumns,
  requestRow,
} from './export-columns.js';
import { reviewRow, REVIEW_COLUMNS } from './review-columns.js';
import { describeFilters, type ExportFilters, type ExportKind } from './export-filters.js';
import type { Batch, BatchKey, Cell, ExportFiles, ExportSnapshot, TableSink } from './export-ports.js';

/** Who asked: an admin (from Slack, or the command line with --admin), or the command line itself. */
export type ExportRequester =
  { kind: 'admin'; admin: ActingPerson } | { kind: 'system'; component: string; details?: Record<string, unknown> };

export interface ExportInput {
  kind: ExportKind;
  filters: ExportFilters;
  requestedBy: ExportRequester;
  /** Where the file goes, for the audit event: `stdout`, `file`, `slack`. */
  destination: string;
}

export interface ExportSummary {
  kind: ExportKind;
  rows: number;
  /** The period as filtered (null: open-ended). */
  period: { from: string | null; to: string | null };
  filters: ExportFilters;
  /** SHA-256 (hex) of the exact bytes written, byte order mark included. */
  sha256: string;
  bytes: number;
  /** The audit head the export was read at (before its own `export.created` event). */
  auditHead: string;
  auditHeadSeq: number;
  /** Seq of this export's own `export.created` event. */
  exportEventSeq: number;
}

export interface ExportOptions {
  /** Rows read and written per batch. */
  batchSize?: number;
}

// Small enough that a batch's rows and text stay in the young generation; large enough that a
// batch costs a few statements, not a few thousand. Events: V8 grows the young generation each time
// the objects that survived its collections add up to its size, and what survives is mostly the
// batch being read, so with 250 it grew to its largest (34 MB) during a million-event export, and
// with 100 it stays at half that (bench/export-bench.ts: peak RSS about 15 MB lower).
const DEFAULT_BATCH = {
  requests: 500,
  access: 1000,
  events: 100,
  policies: 500,
  reviews: 1000,
} as const satisfies Record<ExportKind, number>;

/**
 * What an export uses. The directory and settings are needed only to check an admin; the command
 * line without --admin exports with the store and the clock alone, so a policy folder that no
 * longer loads cannot stop the evidence of the past from being exported.
 */
export type ExportDeps = Pick<Deps, 'store' | 'clock'> & Partial<Pick<Deps, 'directory' | 'settings'>>;

/** Only members of the admin group may export; read live from the directory each time. */
export async function authorizeExport(deps: Pick<Deps, 'directory' | 'settings'>, admin: ActingPerson): Promise<void> {
  await assertAdmin(deps, admin);
}

export async function exportEvidence(
  deps: ExportDeps,
  input: ExportInput,
  sink: TableSink,
  options: ExportOptions = {},
): Promise<ExportSummary> {
  // Checked when the export runs (the Slack form's submission), not only when the form opened.
  if (input.requestedBy.kind === 'admin') {
    const { directory, settings } = deps;
    if (!directory || !settings)
      throw new Error('an export by an admin needs the directory and the settings to check the admin group');
    await authorizeExport({ directory, settings }, input.requestedBy.admin);
  }
  const batchSize = options.batchSize ?? DEFAULT_BATCH[input.kind];

  let head: { seq: number; hash: string };
  let rows = 0;
  let digest: { bytes: number; sha256: string };
  const snapshot = await deps.store.openSnapshot();
  try {
    head = await snapshot.auditHead();
    rows = await copyRows(snapshot, input, sink, batchSize);
    await snapshot.close();
    digest = await sink.finish();
  } catch (error) {
    await snapshot.close();
    await sink.abort(error);
    throw error;
  }

  const actor: Actor =
    input.requestedBy.kind === 'admin' ? actorOf(input.requestedBy.admin) : systemActor(input.requestedBy.component);
  const event = await deps.store.transaction((tx) =>
    tx.appendAudit({
      at: deps.clock.now().toISOString(),
      actor,
      action: 'export.created',
      details: {
        export: input.kind,
        filters: describeFilters(input.filters),
        rows,
        sha256: digest.sha256,
        bytes: digest.bytes,
        auditHead: head.hash,
        auditHeadSeq: head.seq,
        destination: input.destination,
        ...(input.requestedBy.kind === 'system' ? input.requestedBy.details : {}),
      },
    }),
  );
  return {
    kind: input.kind,
    rows,
    period: { from: input.filters.from, to: input.filters.to },
    filters: input.filters,
    sha256: digest.sha256,
    bytes: digest.bytes,
    auditHead: head.hash,
    auditHeadSeq: head.seq,
    exportEventSeq: event.seq,
  };
}

/**
 * The export as a file in memory (for an upload), refused with `ExportTooLargeError` as soon as it
 * passes `limitBytes`: then nothing is logged, because nothing was exported.
 */
export async function exportToMemory(
  deps: ExportDeps & { exportFiles: ExportFiles },
  input: ExportInput,
  options: ExportOptions & { limitBytes?: number } = {},
): Promise<{ bytes: Buffer; summary: ExportSummary }> {
  const file = deps.exportFiles.inMemory({ limitBytes: options.limitBytes });
  const summary = await exportEvidence(deps, input, file.sink, options);
  return { bytes: file.contents(), summary };
}

async function copyRows(
  snapshot: ExportSnapshot,
  input: ExportInput,
  sink: TableSink,
  batchSize: number,
): Promise<number> {
  const { filters } = input;
  switch (input.kind) {
    case 'requests': {
      const steps = await snapshot.maxStepCount(filters);
      await sink.start(requestColumns(steps));
      return pump(
        (after) => snapshot.requests(filters, after, batchSize),
        (r) => requestRow(r, steps),
        sink,
        batchSize,
      );
    }
    case 'access':
      await sink.start(ACCESS_COLUMNS);
      return pump((after) => snapshot.grants(filters, after, batchSize), accessRow, sink, batchSize);
    case 'events':
      await sink.start(EVENT_COLUMNS);
      return pump((after) => snapshot.events(filters, after, batchSize), eventRow, sink, batchSize);
    case 'policies':
      await sink.start(POLICY_COLUMNS);
      return pump((after) => snapshot.policyVersions(filters, after, batchSize), policyRow, sink, batchSize);
    case 'reviews':
      await sink.start(REVIEW_COLUMNS);
      return pump((after) => snapshot.reviewItems(filters, after, batchSize), reviewRow, sink, batchSize);
  }
}

/** Reads batch after batch and writes each before reading the next: one batch in memory at a time. */
async function pump<T>(
  read: (after: BatchKey) => Promise<Batch<T>>,
  toRow: (record: T) => Cell[],
  sink: TableSink,
  batchSize: number,
): Promise<number> {
  let after: BatchKey = 0;
  let total = 0;
  for (;;) {
    const batch = await read(after);
    if (batch.rows.length > 0) {
      await sink.write(batch.rows.map(toRow));
      total += batch.rows.length;
    }
    if (batch.rows.length < batchSize) return total;
    after = batch.next;
  }
}
