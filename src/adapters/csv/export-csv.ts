/**
 * CSV exports to a stream, a file or a Buffer: the export operation with the CSV sink plugged in.
 * The command line and the Slack upload call these; the rules (admin check, snapshot, audit event)
 * live in the operation.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { exportEvidence, type ExportDeps, type ExportInput, type ExportOptions, type ExportSummary } from '../../operations/exports/export-evidence.js';
import type { Cell, ExportSource } from '../../operations/exports/export-ports.js';
import { CsvTableSink } from './csv-table-sink.js';

export interface CsvExportOptions extends ExportOptions {
  /** UTF-8 byte order mark at the start (default true). */
  bom?: boolean;
}

/**
 * Writes the CSV to `out`. With `end: false` the stream is left open (stdout). Bytes already
 * written stay written if the export fails; prefer `exportCsvToFile` for a file.
 */
export function exportCsvToStream(deps: ExportDeps, source: ExportSource, input: ExportInput, out: Writable, options: CsvExportOptions & { end?: boolean } = {}): Promise<ExportSummary> {
  return exportEvidence(deps, source, input, new CsvTableSink(out, { bom: options.bom, end: options.end }), options);
}

/**
 * Writes the CSV to `path` through a temporary file in the same folder, renamed into place once
 * complete: the path never holds half an export. If the export's audit event cannot be written,
 * the file is removed again, so no export exists that the log does not show.
 */
export async function exportCsvToFile(deps: ExportDeps, source: ExportSource, input: ExportInput, path: string, options: CsvExportOptions = {}): Promise<ExportSummary> {
  const temp = join(dirname(path), `.${basename(path)}.${randomBytes(4).toString('hex')}.partial`);
  let renamed = false;
  // 0600: an export holds the audit trail's emails and justifications (renamed, it keeps the mode).
  const out = createWriteStream(temp, { flags: 'wx', mode: 0o600 });
  // Fail before reading anything when the folder is missing or not writable.
  await once(out, 'open');
  const sink = new CsvTableSink(out, {
    bom: options.bom,
    afterClose: async () => {
      await rename(temp, path);
      renamed = true;
    },
    onAbort: () => rm(temp, { force: true }),
  });
  try {
    return await exportEvidence(deps, source, input, sink, options);
  } catch (error) {
    if (renamed) await rm(path, { force: true });
    throw error;
  }
}

/** The whole CSV in memory, for an upload (Slack). Fine for the sizes a chat upload takes. */
export async function exportCsvToBuffer(deps: ExportDeps, source: ExportSource, input: ExportInput, options: CsvExportOptions = {}): Promise<{ buffer: Buffer; summary: ExportSummary }> {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  const summary = await exportEvidence(deps, source, input, new CsvTableSink(out, { bom: options.bom }), options);
  return { buffer: Buffer.concat(chunks), summary };
}

/** Any table as CSV in memory (the digest's lists), with the exports' quoting and formula guard. */
export async function tableCsvToBuffer(
  columns: readonly string[],
  rows: readonly (readonly Cell[])[],
): Promise<{ buffer: Buffer; rows: number; sha256: string }> {
  const chunks: Buffer[] = [];
  const out = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  const sink = new CsvTableSink(out);
  await sink.start(columns);
  for (let i = 0; i < rows.length; i += 5_000) await sink.write(rows.slice(i, i + 5_000));
  const digest = await sink.finish();
  return { buffer: Buffer.concat(chunks), rows: rows.length, sha256: digest.sha256 };
}
