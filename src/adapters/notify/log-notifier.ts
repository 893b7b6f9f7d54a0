import { digestBlocks } from '../../../blocks/digest.js';
import type {
  DeliveredNotification,
  Logger,
  Notifier,
  PublishDigest,
  PublishReviewSummary,
} from '../../operations/ports.js';

/**
 * Writes each message the bot owes someone to the log. Used when no Slack workspace is connected
 * (the CLI, and `npm start` before Slack is configured), so the lifecycle still runs end to end.
 */
export class LogNotifier implements Notifier {
  readonly destination = 'log';

  constructor(private readonly logger: Logger) {}

  async deliver(notification: DeliveredNotification, key: string): Promise<void> {
    this.logger.info('message owed', { key, ...notification });
  }

  /** The digest's text in the log; nothing is exported for it (there is nowhere to attach it). */
  async publishDigest(input: PublishDigest): Promise<{ attached: boolean }> {
    this.logger.info('weekly digest (not posted: Slack is not connected)', {
      key: input.key,
      channel: input.channel,
      text: digestBlocks(input.digest).text,
    });
    return { attached: false };
  }

  /** The summary's counts in the log; the CSV is not made (nowhere to attach it: `export reviews` makes it). */
  async publishReviewSummary(input: PublishReviewSummary): Promise<{ attached: boolean }> {
    const c = input.summary.campaign;
    this.logger.info('access review summary (not posted: Slack is not connected)', {
      key: input.key,
      campaign: c.id,
      review: c.reviewId,
      counts: input.summary.counts,
    });
    return { attached: false };
  }
}
