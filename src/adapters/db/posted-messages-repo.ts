/** The Slack adapter's `slack_messages` table behind the `PostedMessages` port. */
import { eq, like, sql } from 'drizzle-orm';
import type { PostedMessage } from '../../operations/ports.js';
import type { Connection } from './open-database.js';
import { slackMessages } from './schema.js';
import type { SyncMessages } from './sync-port.js';

export class PostedMessagesRepo implements SyncMessages {
  constructor(private readonly c: Connection) {}

  get(slot: string): PostedMessage | undefined {
    return this.c
      .prepared('postedMessage', (db) =>
        db
          .select()
          .from(slackMessages)
          .where(eq(slackMessages.slot, sql.placeholder('slot')))
          .prepare(),
      )
      .get({ slot });
  }

  forRequest(requestId: string): PostedMessage[] {
    return this.c.db.select().from(slackMessages).where(eq(slackMessages.requestId, requestId)).all();
  }

  withSlotPrefix(prefix: string): PostedMessage[] {
    // `_` and `%` are LIKE wildcards (ids contain `_`): the exact check is startsWith.
    return this.c.db
      .select()
      .from(slackMessages)
      .where(like(slackMessages.slot, `${prefix}%`))
      .all()
      .filter((m) => m.slot.startsWith(prefix));
  }

  save(message: PostedMessage): void {
    this.c.db
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
      })
      .run();
  }

  touch(slot: string, at: string): void {
    this.c.db.update(slackMessages).set({ updatedAt: at }).where(eq(slackMessages.slot, slot)).run();
  }
}
