/**
 * The weekly digest job: built from the store for the week ending at the notice's time, posted to
 * the security channel with the week's requests export attached (once per digest, however often
 * the job is retried), and logged as `digest.posted` with the export's row count and SHA-256.
 */
import type { NotificationOf } from '../domain/records.js';
import { buildDigest } from './build-digest.js';
import type { Deps } from './context.js';
import { exportToMemory, type ExportSummary } from './exports/export-evidence.js';
import { parseExportFilters } from './exports/export-filters.js';

export async function publishDigest(deps: Deps, notification: NotificationOf<'digest'>, key: string): Promise<void> {
  const digest = await buildDigest(deps, new Date(notification.at));
  const channel = notification.recipient.channel;
  let summary: ExportSummary | undefined;
  const { attached } = await deps.notifier.publishDigest({
    digest,
    channel,
    key,
    attachment: async () => {
      const file = await exportToMemory(deps, {
        kind: 'requests',
        filters: parseExportFilters('requests', { from: digest.periodStart, to: digest.periodEnd }),
        requestedBy: { kind: 'system', component: 'digest' },
        destination: deps.notifier.destination,
      });
      summary = file.summary;
      return { bytes: file.bytes, extension: deps.exportFiles.extension, summary: file.summary };
    },
  });
  if (!attached || !summary) return;
  const csv = summary;
  await deps.store.transaction((tx) =>
    tx.appendAudit({
      at: deps.clock.now().toISOString(),
      actor: { kind: 'system', component: 'digest' },
      action: 'digest.posted',
      details: {
        channel,
        periodStart: digest.periodStart,
        periodEnd: digest.periodEnd,
        auditHead: digest.auditHead.hash,
        sensitiveHolders: digest.sensitiveHolders.length,
        csv: { rows: csv.rows, sha256: csv.sha256 },
      },
    }),
  );
}
