import type { Notification } from '../../domain/records.js';
import type { Notifier } from '../../operations/context.js';
import type { Logger } from '../../operations/ports.js';

/**
 * Writes each message the bot owes someone to the log. Used when no Slack workspace is connected
 * (the CLI, and `npm start` before Slack is configured), so the lifecycle still runs end to end.
 */
export class LogNotifier implements Notifier {
  constructor(private readonly logger: Logger) {}

  async deliver(notification: Notification, key: string): Promise<void> {
    this.logger.info('message owed', { key, ...notification });
  }
}
