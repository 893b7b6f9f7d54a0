/** The Slack adapter's `slack_messages` table behind the `PostedMessages` port, on PostgreSQL. */
import { eq, sql } from 'drizzle-orm';
import type { PostedMessage, PostedMessages } from '../../../operations/ports.js';
import { slackMessages } from './schema.js';
import { likePrefix, type PgSession } from './session.js';

export class PgPostedMessagesRepo implements PostedMessages {
  constructor(private readonly s: PgSession) {}

  async get(slot: string): Promise<PostedMessage | undefined> {
    const [row] = await this.s.db.select().from(slackMessages).where(eq(slackMessages.slot, slot));
    return row;
  }

  forRequest(requestId: string): Promise<PostedMessage[]> {
    return this.s.db.select().from(slackMessages).where(eq(slackMessages.requestId, requestId));
  }

  withSlotPrefix(prefix: string): Promise<PostedMessage[]> {
    // LIKE with the wildcards escaped, through the text_pattern_ops index whatever the collation.
    return this.s.db
      .select()
      .from(slackMessages)
      .where(sql`${slackMessages.slot} like ${likePrefix(prefix)}`);
  }

  async save(message: PostedMessage): Promise<void> {
    await this.s.db
      .insert(slackMessages)
      .values(message)
      .onConflictDoUpdate({
        target: slackMessages.slot,
        set: {
          channel: message.channel,
          ts: message.ts,
          updatedAt: message.updatedAt,
          notificationType: message.notificationType,
        },
      });
  }

  async touch(slot: string, at: string): Promise<void> {
    await this.s.db.update(slackMessages).set({ updatedAt: at }).where(eq(slackMessages.slot, slot));
  }
}
