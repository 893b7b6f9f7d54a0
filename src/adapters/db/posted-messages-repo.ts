/** The Slack adapter's `slack_messages` table behind the `PostedMessages` port. */
import { and, asc, eq, inArray, isNull, like, lt, or, sql } from 'drizzle-orm';
import type { PostedMessage } from '../../operations/ports.js';
import type { Connection } from './open-database.js';
import { grants, requests, slackMessages } from './schema.js';
import type { SyncMessages } from './sync-port.js';

export class PostedMessagesRepo implements SyncMessages {
  constructor(private readonly c: Connection) {}

  get(slot: string): PostedMessage | undefined {
    return this.c
      .prepared('postedMessage', (db) =>
        db
          .select()
          .from(slackMessages)
          .where(eq(slackMessages.slot, sql.placeholder('slot'))),
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

  prune(before: string, limit: number): number {
    if (limit <= 0) return 0;
    return this.c
      .prepared('prunePostedMessages', (db) => {
        const cutoff = sql.placeholder('before');
        // The request ended before the cutoff: decided against, or approved and its grant revoked.
        const ended = db
          .select({ one: sql`1` })
          .from(requests)
          .leftJoin(grants, eq(grants.id, requests.grantId))
          .where(
            and(
              eq(requests.id, slackMessages.requestId),
              or(
                and(
                  inArray(requests.status, ['denied', 'cancelled', 'approval_expired']),
                  lt(requests.decidedAt, cutoff),
                ),
                and(eq(grants.status, 'revoked'), lt(grants.revokedAt, cutoff)),
              ),
            ),
          );
        const old = db
          .select({ slot: slackMessages.slot })
          .from(slackMessages)
          .where(
            and(
              lt(slackMessages.postedAt, cutoff),
              lt(slackMessages.updatedAt, cutoff),
              or(isNull(slackMessages.requestId), sql`exists ${ended}`),
            ),
          )
          .orderBy(asc(slackMessages.postedAt))
          .limit(sql.placeholder('limit'));
        return db.delete(slackMessages).where(inArray(slackMessages.slot, old));
      })
      .run({ before, limit }).changes;
  }
}
