/**
 * The two ports an export needs: a consistent, read-only view of the records to export, read in
 * batches (`ExportSnapshot`, opened by the store: `Store.openSnapshot`), and somewhere to write the
 * table (`TableSink`). The database adapter implements the first, the CSV adapter the second, so
 * the export operation knows neither SQL nor CSV.
 */
import type { Actor } from '../../domain/audit.js';
import type {
  AccessRequest,
  BreakGlassReview,
  DecisionRecord,
  Grant,
  PersonRef,
  PolicyVersionRecord,
  StepRecord,
} from '../../domain/records.js';
import type { ReviewCampaign, ReviewItem } from '../../domain/reviews/review-records.js';
import type { ExportFilters } from './export-filters.js';

/** A cell: text (neutralised against formula injection by the sink), a number, a boolean, or empty. */
export type Cell = string | number | boolean | null;

/** Where the next batch starts: the storage key of the last row read (insertion order). 0 starts. */
export type BatchKey = number;

export interface Batch<T> {
  rows: T[];
  /** Pass back to read the next batch; meaningless once `rows` is shorter than asked. */
  next: BatchKey;
}

export interface ExtensionTotals {
  count: number;
  totalSeconds: number;
}

/** A request with everything its row shows. */
export interface RequestExportRecord {
  request: AccessRequest;
  steps: StepRecord[];
  decisions: DecisionRecord[];
  /** The grant this request created (none for pending, denied, ... and for extension requests). */
  grant: Grant | null;
  extensions: ExtensionTotals;
  /** For manual provisioning: who marked the grant task Done. */
  provisionedBy: PersonRef | null;
  /** For emergency access: its review. */
  breakGlassReview: BreakGlassReview | null;
}

export interface GrantExportRecord {
  grant: Grant;
  extensions: ExtensionTotals;
  /** For emergency access: its review. */
  breakGlassReview: BreakGlassReview | null;
}

/** An audit event as stored; `detailsJson` is the stored text, canonicalised by the operation. */
export interface EventExportRecord {
  seq: number;
  at: string;
  actor: Actor;
  action: string;
  requestId: string | null;
  grantId: string | null;
  detailsJson: string;
  prevHash: string;
  hash: string;
}

/** A policy version and the period it was in force. */
export interface PolicyExportRecord {
  version: PolicyVersionRecord;
  /** Loaded at the most recent start: in force now. */
  current: boolean;
  /**
   * When it stopped being in force (exclusive): the first start that loaded a newer version of the
   * same policy, or, for a policy no longer loaded at all, the last start that loaded it. Null
   * while current.
   */
  inForceUntil: string | null;
}

/** A review item with the campaign it belongs to. */
export interface ReviewExportRecord {
  campaign: ReviewCampaign;
  item: ReviewItem;
}

/**
 * One export's view of the data: every read sees the database as it was when the snapshot was
 * opened, however long the export takes and whatever the bot writes meanwhile, so the audit head
 * read first describes exactly the rows that follow.
 */
export interface ExportSnapshot {
  /** The last event of the chain in this snapshot (GENESIS_HASH and 0 for an empty log). */
  auditHead(): Promise<{ seq: number; hash: string }>;
  /** The longest approval chain among the requests the filters select (0 when none has steps). */
  maxStepCount(filters: ExportFilters): Promise<number>;
  requests(filters: ExportFilters, after: BatchKey, limit: number): Promise<Batch<RequestExportRecord>>;
  grants(filters: ExportFilters, after: BatchKey, limit: number): Promise<Batch<GrantExportRecord>>;
  events(filters: ExportFilters, after: BatchKey, limit: number): Promise<Batch<EventExportRecord>>;
  policyVersions(filters: ExportFilters, after: BatchKey, limit: number): Promise<Batch<PolicyExportRecord>>;
  /**
   * Access review items, by campaign start then position: campaigns started in the period, of
   * one campaign (`filters.campaign`), items of an app or role, items of one holder.
   */
  reviewItems(filters: ExportFilters, after: BatchKey, limit: number): Promise<Batch<ReviewExportRecord>>;
  /** Ends the snapshot; idempotent. */
  close(): Promise<void>;
}

/** The written table: its size and digest, computed over the exact bytes written. */
export interface TableDigest {
  bytes: number;
  sha256: string;
}

/**
 * A table being written. `write` resolves when the destination can take more (backpressure), so a
 * slow reader of the file slows the export down instead of filling memory.
 */
export interface TableSink {
  start(columns: readonly string[]): Promise<void>;
  write(rows: readonly (readonly Cell[])[]): Promise<void>;
  /** Flushes and closes the destination; resolves once every byte is written. */
  finish(): Promise<TableDigest>;
  /** Abandons a failed export: closes the destination and removes what it can (a partial file). */
  abort(error: unknown): Promise<void>;
}

/**
 * Export files kept in memory, for an upload (the Slack DM, the digest's thread). The table
 * format's adapter (CSV) provides them.
 */
export interface ExportFiles {
  /** The file's extension and media type, for the upload's name. */
  readonly extension: string;
  /**
   * A sink that keeps the file in memory. Past `limitBytes` it fails with `ExportTooLargeError`
   * and keeps nothing more, so an export too large for its destination stops early.
   */
  inMemory(options?: { limitBytes?: number }): { sink: TableSink; contents(): Buffer };
}

/** The export grew past what its destination takes; nothing was exported (or logged). */
export class ExportTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`the export is larger than ${Math.round(limitBytes / 1024 / 1024)} MB`);
    this.name = 'ExportTooLargeError';
  }
}
