/**
 * `/access export`'s result: the CSV built by the export operation (which checks the admin again,
 * reads one snapshot and logs `export.created`), then uploaded to the admin's DM through the
 * files.uploadV2 flow (files.getUploadURLExternal, the upload, files.completeUploadExternal) with a
 * summary: rows, period, the file's SHA-256 and the audit head. Slack takes files up to a limit;
 * a bigger export is stopped as soon as it passes it (nothing is logged for it) and the admin is
 * pointed to the command line.
 */
import type { WebClient } from '@slack/web-api';
import { exportSummaryText } from '../../../blocks/admin-modals.js';
import type { ActingPerson } from '../../operations/acting-person.js';
import { exportToMemory } from '../../operations/exports/export-evidence.js';
import { describeFilters, type ExportFilters, type ExportKind } from '../../operations/exports/export-filters.js';
import { ExportTooLargeError } from '../../operations/exports/export-ports.js';
import { explain, tellEphemeral, type SlackContext } from './context.js';
import { dmChannelOf } from './dm-channels.js';

/** Slack's own cap on an uploaded file is far higher; 50 MB is what we promise to upload. */
const SLACK_UPLOAD_LIMIT_BYTES = 50 * 1024 * 1024;

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
    const exportInput = {
      kind: input.kind,
      filters: input.filters,
      requestedBy: { kind: 'admin' as const, admin: input.admin },
      destination: 'slack',
    };
    result = await exportToMemory(ctx.deps, exportInput, { limitBytes });
  } catch (error) {
    if (error instanceof ExportTooLargeError) {
      await tell(
        `Your ${input.kind} export is larger than ${Math.round(limitBytes / 1024 / 1024)} MB, more than the bot uploads to Slack. Nothing was exported. Run it on the bot's host instead: ${cliCommandFor(input.kind, input.filters)}`,
      );
      return;
    }
    await tell(`Your ${input.kind} export failed: ${explain(ctx, error, 'export')}`);
    return;
  }
  const { bytes, summary } = result;
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
      file: bytes,
      filename: `access-${summary.kind}-${day}.${ctx.deps.exportFiles.extension}`,
      title: `Access ${summary.kind} export ${day}`,
      initial_comment: comment,
    });
    ctx.deps.logger.info('export uploaded to Slack', {
      kind: summary.kind,
      rows: summary.rows,
      bytes: summary.bytes,
      sha256: summary.sha256,
      by: input.admin.person.email,
    });
  } catch (error) {
    ctx.deps.logger.error('export upload failed', {
      kind: summary.kind,
      sha256: summary.sha256,
      error: error instanceof Error ? error.message : String(error),
    });
    await tell(
      `Your ${summary.kind} export was built (SHA-256 ${summary.sha256}) but could not be uploaded to Slack. Run it on the bot's host instead: ${cliCommandFor(summary.kind, summary.filters)}`,
    );
  }
}
