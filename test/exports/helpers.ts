import Papa from 'papaparse';
import { expect } from 'vitest';
import { exportCsvToBuffer } from '../../src/adapters/csv/export-csv.js';
import type { ExportRequester, ExportSummary } from '../../src/operations/exports/export-evidence.js';
import {
  parseExportFilters,
  type ExportKind,
  type RawExportFilters,
} from '../../src/operations/exports/export-filters.js';
import type { Harness } from '../support/lifecycle-harness.js';

export interface ParsedExport {
  summary: ExportSummary;
  buffer: Buffer;
  columns: string[];
  rows: Record<string, string>[];
}

/** Parses an export the way an auditor's tool would (papaparse, header row, BOM stripped). */
export function parseCsv(text: string): { columns: string[]; rows: Record<string, string>[] } {
  const result = Papa.parse<Record<string, string>>(text, {
    header: true,
    delimiter: ',',
    newline: '\r\n',
    skipEmptyLines: 'greedy',
  });
  expect(result.errors).toEqual([]);
  return { columns: result.meta.fields ?? [], rows: result.data };
}

export async function exportOf(
  h: Harness,
  kind: ExportKind,
  raw: RawExportFilters = {},
  requestedBy: ExportRequester = { kind: 'system', component: 'test' },
  options: { batchSize?: number } = {},
): Promise<ParsedExport> {
  const { buffer, summary } = await exportCsvToBuffer(
    h.deps,
    { kind, filters: parseExportFilters(kind, raw), requestedBy, destination: 'test' },
    options,
  );
  return { summary, buffer, ...parseCsv(buffer.toString('utf8')) };
}

/** Every audit event in written order. */
export async function allEvents(h: Harness) {
  const out = [];
  let afterId = 0;
  for (;;) {
    const batch = await h.store.auditEvents({ afterId, limit: 1000 });
    if (batch.length === 0) return out;
    out.push(...batch);
    afterId = batch.at(-1)!.id;
  }
}
