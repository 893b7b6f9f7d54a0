/**
 * A campaign's summary job: posted to the security channel when the campaign closes, with the
 * campaign's evidence CSV attached (once, however often the job is retried), then brought up to
 * date as removals are verified. Logged as `review.summaryPosted` with the file's row count and
 * SHA-256, which tie out with the population recorded when the campaign started.
 */
import type { NotificationOf } from '../../domain/records.js';
import type { Deps } from '../context.js';
import { exportToMemory } from '../exports/export-evidence.js';
import { parseExportFilters } from '../exports/export-filters.js';
import type { ReviewSummaryAttachment } from '../ports.js';
import { buildReviewSummary } from './review-summary.js';

export async function publishReviewSummary(
  deps: Deps,
  notification: NotificationOf<'review.summary'>,
  key: string,
): Promise<void> {
  const summary = await buildReviewSummary(deps, notification.campaignId);
  const channel = notification.recipient.channel;
  let file: ReviewSummaryAttachment | undefined;
  const { attached } = await deps.notifier.publishReviewSummary({
    summary,
    channel,
    key,
    attachment: async () => {
      const exported = await exportToMemory(deps, {
        kind: 'reviews',
        filters: parseExportFilters('reviews', { campaign: notification.campaignId }),
        requestedBy: { kind: 'system', component: 'review' },
        destination: deps.notifier.destination,
      });
      file = { extension: deps.exportFiles.extension, bytes: exported.bytes, summary: exported.summary };
      return file;
    },
  });
  if (!attached || !file) return;
  const { campaign, counts } = summary;
  await deps.store.transaction((tx) =>
    tx.appendAudit({
      at: deps.clock.now().toISOString(),
      actor: { kind: 'system', component: 'review' },
      action: 'review.summaryPosted',
      details: {
        campaign: campaign.id,
        review: campaign.reviewId,
        channel,
        counts,
        population: { count: campaign.populationCount, hash: campaign.populationHash },
        csv: { rows: file!.summary.rows, sha256: file!.summary.sha256, auditHead: file!.summary.auditHead },
      },
    }),
  );
}
