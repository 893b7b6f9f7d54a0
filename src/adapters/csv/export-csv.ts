/**
 * CSV exports to a stream, a file or memory: the export operation with the CSV sink plugged in.
 * The command line and the uploads (through `csvExportFiles`) use these; the rules (admin check,
 * snapshot, audit event) live in the operation.
 */
import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import {
  exportEvidence,
  exportToMemory,
  type ExportDeps,
  type ExportInput,
  type ExportOptions,
  type ExportSummary,
} from '../../operations/exports/export-evidence.js';
import { ExportTooLargeError, type ExportFiles, type TableSink } from '../../operations/exports/export-ports.js';
import { CsvTableSink, type CsvSinkOptions } from './csv-table-sink.js';
import { ThreadedCsvSink } from './threaded-csv-sink.js';

/**
 * How much written text a file export has in flight before it waits for the disk: a few of the
 * sink's 512 kB chunks, so the next ones are encoded while the last is written. The buffers are
 * reused (`reuseBuffers`), so this is the most the writes add to memory.
 */
const WRITE_BUFFER_BYTES = 2 * 1024 * 1024;

export interface CsvExportOptions extends ExportOptions {
  /** UTF-8 byte order mark at the start (default true). */
  bom?: boolean;
}

/**
 * Writes the CSV to `out`. With `end: false` the stream is left open (stdout). Bytes already
 * written stay written if the export fails; prefer `exportCsvToFile` for a file.
 */
export function exportCsvToStream(
  deps: ExportDeps,
  input: ExportInput,
  out: Writable,
  options: CsvExportOptions & Pick<CsvSinkOptions, 'end' | 'reuseBuffers'> = {},
): Promise<ExportSummary> {
  const { bom, end, reuseBuffers } = options;
  return exportEvidence(deps, input, new CsvTableSink(out, { bom, end, reuseBuffers }), options);
}

/**
 * Writes the CSV to `path` through a temporary file in the same folder, renamed into place once
 * complete: the path never holds half an export. If the export's audit event cannot be written,
 * the file is removed again, so no export exists that the log does not show.
 */
export async function exportCsvToFile(
  deps: ExportDeps,
  input: ExportInput,
  path: string,
  options: CsvExportOptions = {},
): Promise<ExportSummary> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.partial`);
  let renamed = false;
  // 0600: an export holds the audit trail's emails and justifications (renamed, it keeps the mode).
  // A writer thread of its own turns the rows into CSV and writes them while the next batches are
  // read (threaded-csv-sink.ts). It creates the file before anything is read, so a missing or
  // read-only folder fails the export first.
  const sink = await ThreadedCsvSink.open(temp, {
    mode: 0o600,
    bom: options.bom,
    highWaterMark: WRITE_BUFFER_BYTES,
    afterClose: async () => {
      await rename(temp, path);
      renamed = true;
    },
    onAbort: () => rm(temp, { force: true }),
  });
  try {
    return await exportEvidence(deps, input, sink, options);
  } catch (error) {
    if (renamed) await rm(path, { force: true });
    throw error;
  }
}

/** CSV files in memory, for uploads: the `ExportFiles` port. */
export function csvExportFiles(options: { bom?: boolean } = {}): ExportFiles {
  return {
    extension: 'csv',
    inMemory({ limitBytes = Infinity } = {}) {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      const out = new Writable({
        write(chunk: Buffer, _encoding, callback) {
          size += chunk.length;
          if (size > limitBytes) {
            tooLarge = true;
            chunks.length = 0;
            callback(new ExportTooLargeError(limitBytes));
            return;
          }
          chunks.push(chunk);
          callback();
        },
      });
      const csv = new CsvTableSink(out, { bom: options.bom });
      // Past the limit the stream fails, and the sink may report that as the stream closing: the
      // caller is told the one thing that matters.
      const guard = async <T>(step: () => Promise<T>): Promise<T> => {
        try {
          return await step();
        } catch (error) {
          throw tooLarge ? new ExportTooLargeError(limitBytes) : error;
        }
      };
      const sink: TableSink = {
        start: (columns) => guard(() => csv.start(columns)),
        write: (rows) => guard(() => csv.write(rows)),
        finish: () => guard(() => csv.finish()),
        abort: (error) => csv.abort(error),
      };
      return { sink, contents: () => Buffer.concat(chunks) };
    },
  };
}

/** The whole CSV in memory. */
export async function exportCsvToBuffer(
  deps: ExportDeps,
  input: ExportInput,
  options: CsvExportOptions = {},
): Promise<{ buffer: Buffer; summary: ExportSummary }> {
  const { bytes, summary } = await exportToMemory(
    { ...deps, exportFiles: csvExportFiles({ bom: options.bom }) },
    input,
    options,
  );
  return { buffer: bytes, summary };
}
