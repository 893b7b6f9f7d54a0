/** The Slack adapter's `slack_messages` table behind the `PostedMessages` port, on PostgreSQL. */
import { and, asc, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import type { PostedMessage, PostedMessages } from '../../../operations/ports.js';
import { grants, requests, slackMessages } from './schema.js';
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

  /** As on SQLite (see `PostedMessages.prune`); rows another transaction is deleting are skipped. */
  async prune(before: string, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    const ended = this.s.db
      .select({ one: sql`1` })
      .from(requests)
      .leftJoin(grants, eq(grants.id, requests.grantId))
      .where(
        and(
          eq(requests.id, slackMessages.requestId),
          or(
            and(inArray(requests.status, ['denied', 'cancelled', 'approval_expired']), lt(requests.decidedAt, before)),
            and(eq(grants.status, 'revoked'), lt(grants.revokedAt, before)),
          ),
        ),
      );
    const old = this.s.db
      .select({ slot: slackMessages.slot })
      .from(slackMessages)
      .where(
        and(
          lt(slackMessages.postedAt, before),
          lt(slackMessages.updatedAt, before),
          or(isNull(slackMessages.requestId), sql`exists ${ended}`),
        ),
      )
      .orderBy(asc(slackMessages.postedAt))
      .limit(limit)
      .for('update', { skipLocked: true });
    const result = await this.s.db.delete(slackMessages).where(inArray(slackMessages.slot, old));
    return result.rowCount ?? 0;
  }
}
