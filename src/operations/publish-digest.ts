/**
 * The weekly digest job: built from the store for the week ending at the notice's time, posted to
 * the security channel with two files attached (once per digest, however often the job is
 * retried): every list of the digest in full, and the week's requests export. Logged as
 * `digest.posted` with each file's row count and SHA-256.
 */
import type { Digest } from '../domain/digest.js';
import type { NotificationOf } from '../domain/records.js';
import { buildDigest } from './build-digest.js';
import type { Deps } from './context.js';
import { digestTable } from './digest-table.js';
import { exportToMemory } from './exports/export-evidence.js';
import { parseExportFilters } from './exports/export-filters.js';
import type { DigestAttachment } from './ports.js';

export async function publishDigest(deps: Deps, notification: NotificationOf<'digest'>, key: string): Promise<void> {
  const digest = await buildDigest(deps, new Date(notification.at));
  const channel = notification.recipient.channel;
  let files: DigestAttachment | undefined;
  const { attached } = await deps.notifier.publishDigest({
    digest,
    channel,
    key,
    attachment: async () => {
      const requests = await exportToMemory(deps, {
        kind: 'requests',
        filters: parseExportFilters('requests', { from: digest.periodStart, to: digest.periodEnd }),
        requestedBy: { kind: 'system', component: 'digest' },
        destination: deps.notifier.destination,
      });
      files = {
        extension: deps.exportFiles.extension,
        lists: await listsFile(deps, digest),
        requests: { bytes: requests.bytes, summary: requests.summary },
      };
      return files;
    },
  });
  if (!attached || !files) return;
  const { lists, requests } = files;
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
        csv: { rows: requests.summary.rows, sha256: requests.summary.sha256 },
        lists: { rows: lists.rows, sha256: lists.sha256 },
      },
    }),
  );
}

/** Every list of the digest as one table, written like the exports (quoting, formula guard). */
async function listsFile(deps: Pick<Deps, 'exportFiles'>, digest: Digest): Promise<DigestAttachment['lists']> {
  const table = digestTable(digest);
  const { sink, contents } = deps.exportFiles.inMemory();
  await sink.start(table.columns);
  for (let i = 0; i < table.rows.length; i += 5_000) await sink.write(table.rows.slice(i, i + 5_000));
  const { sha256 } = await sink.finish();
  return { bytes: contents(), rows: table.rows.length, sha256 };
}
