/** Hand-written fakes for the operations' ports: they record calls and can be told to fail. */
import { TransientError } from '../../src/domain/errors.js';
import type { Digest } from '../../src/domain/digest.js';
import type { Notification, NotificationOf, NotificationType } from '../../src/domain/records.js';
import type { WebhookTransport } from '../../src/adapters/provisioners/webhook-provisioner.js';
import type {
  Clock,
  DigestAttachment,
  Notifier,
  PublishDigest,
  PublishReviewSummary,
  ReviewSummaryAttachment,
} from '../../src/operations/ports.js';
import type { ReviewSummary } from '../../src/domain/reviews/review-summary.js';

export class FakeClock implements Clock {
  private ms: number;
  constructor(start = '2026-03-02T09:00:00.000Z') {
    this.ms = Date.parse(start);
  }
  now(): Date {
    return new Date(this.ms);
  }
  advance(seconds: number): void {
    this.ms += seconds * 1000;
  }
  set(iso: string): void {
    this.ms = Date.parse(iso);
  }
}

export class RecordingNotifier implements Notifier {
  readonly destination = 'test';
  readonly delivered: { notification: Notification; key: string }[] = [];
  /** Digests published, with the attachment (made when asked: the first time for a key). */
  readonly digests: { digest: Digest; channel: string; key: string; attachment: DigestAttachment | null }[] = [];
  private failures = 0;
  private failure: Error | undefined;

  async deliver(notification: Notification, key: string): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw this.failure ?? new TransientError('slack is down (fake)');
    }
    this.delivered.push({ notification, key });
  }

  async publishDigest(input: PublishDigest): Promise<{ attached: boolean }> {
    const first = !this.digests.some((d) => d.key === input.key && d.attachment);
    const attachment = first ? await input.attachment() : null;
    this.digests.push({ digest: input.digest, channel: input.channel, key: input.key, attachment });
    return { attached: first };
  }

  /** Review summaries published, with the evidence CSV (made the first time for a campaign). */
  readonly reviewSummaries: {
    summary: ReviewSummary;
    channel: string;
    key: string;
    attachment: ReviewSummaryAttachment | null;
  }[] = [];

  async publishReviewSummary(input: PublishReviewSummary): Promise<{ attached: boolean }> {
    const id = input.summary.campaign.id;
    const first = !this.reviewSummaries.some((r) => r.summary.campaign.id === id && r.attachment);
    const attachment = first ? await input.attachment() : null;
    this.reviewSummaries.push({ summary: input.summary, channel: input.channel, key: input.key, attachment });
    return { attached: first };
  }

  /** The next `n` deliveries fail, with `error` or a plain TransientError. */
  failNext(n = 1, error?: Error): void {
    this.failures = n;
    this.failure = error;
  }

  /** Messages of one type, optionally to one person. */
  of<T extends NotificationType>(type: T, directoryId?: string): NotificationOf<T>[] {
    return this.delivered
      .map((d) => d.notification)
      .filter(
        (n): n is NotificationOf<T> =>
          n.type === type &&
          (directoryId === undefined || (n.recipient.kind === 'person' && n.recipient.directoryId === directoryId)),
      );
  }
}

/** A notifier that hands every message to `onDeliver` (the child processes log them to a file). */
export function callbackNotifier(onDeliver: (notification: Notification, key: string) => void): Notifier {
  return {
    destination: 'test',
    deliver: async (notification, key) => onDeliver(notification, key),
    publishDigest: async () => ({ attached: false }),
    publishReviewSummary: async () => ({ attached: false }),
  };
}

export class FakeWebhook implements WebhookTransport {
  readonly calls: Parameters<WebhookTransport['call']>[1][] = [];
  /** The Idempotency-Key each call carried (`<grant id>:<action>` unless the provisioner gave its own). */
  readonly keys: string[] = [];
  private failures: Error[] = [];

  async call(
    _target: Parameters<WebhookTransport['call']>[0],
    call: Parameters<WebhookTransport['call']>[1],
    options: Parameters<WebhookTransport['call']>[2] = {},
  ): Promise<{ status: number }> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.calls.push(call);
    this.keys.push(options.idempotencyKey ?? `${call.grantId}:${call.action}`);
    return { status: 200 };
  }

  failNext(...errors: Error[]): void {
    this.failures.push(...errors);
  }
}
