/** Hand-written fakes for the operations' ports: they record calls and can be told to fail. */
import { TransientError } from '../../src/domain/errors.js';
import type { Notification } from '../../src/domain/records.js';
import type { Notifier, WebhookPort } from '../../src/operations/context.js';
import type { Clock } from '../../src/operations/ports.js';

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
  readonly delivered: { notification: Notification; key: string }[] = [];
  private failures = 0;
  private failure: Error | undefined;

  async deliver(notification: Notification, key: string): Promise<void> {
    if (this.failures > 0) {
      this.failures--;
      throw this.failure ?? new TransientError('slack is down (fake)');
    }
    this.delivered.push({ notification, key });
  }

  /** The next `n` deliveries fail, with `error` or a plain TransientError. */
  failNext(n = 1, error?: Error): void {
    this.failures = n;
    this.failure = error;
  }

  /** Messages of one type, optionally to one person. */
  of(type: Notification['type'], directoryId?: string): Notification[] {
    return this.delivered
      .map((d) => d.notification)
      .filter((n) => n.type === type && (directoryId === undefined || (n.recipient.kind === 'person' && n.recipient.directoryId === directoryId)));
  }
}

export class FakeWebhook implements WebhookPort {
  readonly calls: Parameters<WebhookPort['call']>[1][] = [];
  private failures: Error[] = [];

  async call(_target: Parameters<WebhookPort['call']>[0], call: Parameters<WebhookPort['call']>[1]): Promise<{ status: number }> {
    const failure = this.failures.shift();
    if (failure) throw failure;
    this.calls.push(call);
    return { status: 200 };
  }

  failNext(...errors: Error[]): void {
    this.failures.push(...errors);
  }
}
