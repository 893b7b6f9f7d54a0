/**
 * `/access export`'s result: the CSV built by the export operation (which checks the admin again,
 * reads one snapshot and logs `export.created`), then uploaded to the admin's DM through the
 * files.uploadV2 flow (files.getUploadURLExternal, the upload, files.completeUploadExternal) with a
 * summary: rows, period, the file's SHA-256 and the audit head. Slack takes files up to a limit;
 * a bigger export is stopped as soon as it passes it (nothing is logged for it) and the admin is
 * pointed to the command line.
 */
import { Writable } from 'node:stream';
import type { WebClient } from '@slack/web-api';
import { exportSummaryText } from '../../../blocks/admin-modals.js';
import { exportCsvToStream } from '../csv/export-csv.js';
import { SqliteExportSource } from '../db/export-reader.js';
import { SqliteStore } from '../db/sqlite-store.js';
import type { ActingPerson } from '../../operations/acting-person.js';
import type { ExportSummary } from '../../operations/exports/export-evidence.js';
import { describeFilters, type ExportFilters, type ExportKind } from '../../operations/exports/export-filters.js';
import type { ExportSource } from '../../operations/exports/export-ports.js';
import { explain, tellEphemeral, type SlackContext } from './context.js';
import { dmChannelOf } from './dm-channels.js';

/** Slack's own cap on an uploaded file is far higher; 50 MB is what we promise to upload. */
export const SLACK_UPLOAD_LIMIT_BYTES = 50 * 1024 * 1024;

export class ExportTooLargeError extends Error {
  constructor(readonly limitBytes: number) {
    super(`the export is larger than ${Math.round(limitBytes / 1024 / 1024)} MB`);
    this.name = 'ExportTooLargeError';
  }
}

/** The database the store has open, read through its own snapshot connection. */
export function exportSourceFor(ctx: SlackContext): ExportSource {
  if (ctx.deps.store instanceof SqliteStore) return SqliteExportSource.forStore(ctx.deps.store);
  throw new Error('exports from Slack need the SQLite store');
}

/** The CSV in memory, refused (and the export abandoned, unlogged) as soon as it passes `limitBytes`. */
export async function exportCsvWithin(ctx: SlackContext, source: ExportSource, input: { admin: ActingPerson; kind: ExportKind; filters: ExportFilters }, limitBytes: number): Promise<{ buffer: Buffer; summary: ExportSummary }> {
  const chunks: Buffer[] = [];
  let size = 0;
  let tooLarge = false;
  const out = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      if (size > limitBytes) {
        tooLarge = true;
        callback(new ExportTooLargeError(limitBytes));
        return;
      }
      chunks.push(chunk);
      callback();
    },
  });
  try {
    const summary = await exportCsvToStream(ctx.deps, source, { kind: input.kind, filters: input.filters, requestedBy: { kind: 'admin', admin: input.admin }, destination: 'slack' }, out);
    return { buffer: Buffer.concat(chunks), summary };
  } catch (error) {
    if (tooLarge) throw new ExportTooLargeError(limitBytes);
    throw error;
  }
}

/** The command line that makes the same export, for a file too large for Slack. */
export function cliCommandFor(kind: ExportKind, filters: ExportFilters): string {
  // Single quotes for a POSIX shell: nothing inside them is expanded ($(...), backticks, $VAR).
  const quote = (v: string) => (/^[\w@.:+-]+$/.test(v) ? v : `'${v.replaceAll("'", "'\\''")}'`);
  const args = Object.entries(describeFilters(filters)).map(([k, v]) => `--${k} ${quote(v)}`);
  return ['access-bot export', kind, ...args, `--out ${kind}.csv`].join(' ');
}

export async function exportToDm(
  ctx: SlackContext,
  client: WebClient,
  input: { admin: ActingPerson; slackUserId: string; kind: ExportKind; filters: ExportFilters; periodLabel: string },
  limitBytes = SLACK_UPLOAD_LIMIT_BYTES,
): Promise<void> {
  const tell = (text: string) => tellEphemeral(ctx, client, { user: input.slackUserId }, text);
  let result;
  try {
    result = await exportCsvWithin(ctx, exportSourceFor(ctx), input, limitBytes);
  } catch (error) {
    if (error instanceof ExportTooLargeError) {
      await tell(`Your ${input.kind} export is larger than ${Math.round(limitBytes / 1024 / 1024)} MB, more than the bot uploads to Slack. Nothing was exported. Run it on the bot's host instead: ${cliCommandFor(input.kind, input.filters)}`);
      return;
    }
    await tell(`Your ${input.kind} export failed: ${explain(ctx, error, 'export')}`);
    return;
  }
  const { buffer, summary } = result;
  const comment = exportSummaryText({
    kind: summary.kind,
    rows: summary.rows,
    bytes: summary.bytes,
    from: summary.period.from,
    to: summary.period.to,
    periodLabel: input.periodLabel,
    filters: describeFilters(summary.filters),
    sha256: summary.sha256,
    auditHead: summary.auditHead,
    auditHeadSeq: summary.auditHeadSeq,
    timezone: ctx.deps.settings.timezone,
  });
  const day = ctx.deps.clock.now().toISOString().slice(0, 10);
  try {
    // The DM's conversation id: files.completeUploadExternal does not resolve a user id to the DM.
    const now = () => ctx.deps.clock.now().toISOString();
    const channel = await dmChannelOf(ctx.deps.store, now, client, ctx.gate, input.slackUserId);
    await client.filesUploadV2({
      channel_id: channel,
      file: buffer,
      filename: `access-${summary.kind}-${day}.csv`,
      title: `Access ${summary.kind} export ${day}`,
      initial_comment: comment,
    });
    ctx.deps.logger.info('export uploaded to Slack', { kind: summary.kind, rows: summary.rows, bytes: summary.bytes, sha256: summary.sha256, by: input.admin.person.email });
  } catch (error) {
    ctx.deps.logger.error('export upload failed', { kind: summary.kind, sha256: summary.sha256, error: error instanceof Error ? error.message : String(error) });
    await tell(`Your ${summary.kind} export was built (SHA-256 ${summary.sha256}) but could not be uploaded to Slack. Run it on the bot's host instead: ${cliCommandFor(summary.kind, summary.filters)}`);
  }
}
