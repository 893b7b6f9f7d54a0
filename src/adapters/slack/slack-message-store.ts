/**
 * What the bot posted to Slack, kept in the adapter's own table (`slack_messages`): one row per
 * message slot with its channel and ts, so a retried job updates the message it already posted.
 */
import { eq, like } from 'drizzle-orm';
import type { Db } from '../db/open-database.js';
import { slackMessages } from '../db/schema.js';

export interface PostedMessage {
  slot: string;
  channel: string;
  ts: string;
  requestId: string | null;
  stepIndex: number | null;
  recipient: string;
  notificationType: string;
  postedAt: string;
  updatedAt: string;
}

export class SlackMessageStore {
  constructor(private readonly db: Db) {}

  get(slot: string): PostedMessage | undefined {
    return this.db.select().from(slackMessages).where(eq(slackMessages.slot, slot)).get();
  }

  forRequest(requestId: string): PostedMessage[] {
    return this.db.select().from(slackMessages).where(eq(slackMessages.requestId, requestId)).all();
  }

  /** Every message whose slot starts with `prefix` (all copies of one task message). */
  withSlotPrefix(prefix: string): PostedMessage[] {
    // `_` and `%` are LIKE wildcards (ids contain `_`): the exact check is startsWith.
    return this.db.select().from(slackMessages).where(like(slackMessages.slot, `${prefix}%`)).all().filter((m) => m.slot.startsWith(prefix));
  }

  /** Records a posted message; a second post for the same slot replaces the first (it was re-posted). */
  save(message: PostedMessage): void {
    this.db
      .insert(slackMessages)
      .values(message)
      .onConflictDoUpdate({ target: slackMessages.slot, set: { channel: message.channel, ts: message.ts, updatedAt: message.updatedAt, notificationType: message.notificationType } })
      .run();
  }

  touch(slot: string, at: string): void {
    this.db.update(slackMessages).set({ updatedAt: at }).where(eq(slackMessages.slot, slot)).run();
  }
}
