/** Identity bindings (Slack user <-> directory person) and recorded policy versions, on PostgreSQL. */
import { and, asc, eq, sql } from 'drizzle-orm';
import { AccessError } from '../../../domain/errors.js';
import type { IdentityBinding, PolicyVersionRecord } from '../../../domain/records.js';
import type { StoreTx } from '../../../operations/ports.js';
import { uniqueViolation } from './connection.js';
import * as t from './schema.js';
import type { PgSession } from './session.js';

type Methods =
  | 'bindingForSlackUser'
  | 'bindingForPerson'
  | 'bindIdentity'
  | 'unbindIdentity'
  | 'latestPolicyVersions'
  | 'getPolicyVersion'
  | 'upsertPolicyVersion';

export class PgIdentityRepo implements Pick<StoreTx, Methods> {
  constructor(private readonly s: PgSession) {}

  async bindingForSlackUser(slackUserId: string): Promise<IdentityBinding | undefined> {
    // In a transaction: the Slack user's binding (present or not) stays as read until commit.
    await this.s.lockNamed(`identity:slack:${slackUserId}`);
    // Every Slack request someone makes starts with it: prepared.
    const [row] = await this.s
      .prepared('binding_for_slack_user', (db, name) =>
        db
          .select()
          .from(t.identityBindings)
          .where(eq(t.identityBindings.slackUserId, sql.placeholder('slackUserId')))
          .prepare(name),
      )
      .execute({ slackUserId });
    return row;
  }

  async bindingForPerson(directoryId: string): Promise<IdentityBinding | undefined> {
    await this.s.lockNamed(`identity:person:${directoryId}`);
    const [row] = await this.s.db
      .select()
      .from(t.identityBindings)
      .where(eq(t.identityBindings.directoryId, directoryId));
    return row;
  }

  async bindIdentity(binding: IdentityBinding): Promise<void> {
    try {
      await this.s.db.insert(t.identityBindings).values(binding);
    } catch (error) {
      if (uniqueViolation(error) !== undefined)
        throw new AccessError(
          'identity_conflict',
          `${binding.email} is already bound to another Slack user; an admin must run \`identity unbind\` first.`,
        );
      throw error;
    }
  }

  async unbindIdentity(slackUserId: string): Promise<boolean> {
    const result = await this.s.db.delete(t.identityBindings).where(eq(t.identityBindings.slackUserId, slackUserId));
    return result.rowCount === 1;
  }

  // ---- policy versions ------------------------------------------------------------------------

  async latestPolicyVersions(): Promise<PolicyVersionRecord[]> {
    // In a transaction (recording the versions at start): replicas starting together record one
    // after the other, so a changed policy is logged once.
    await this.s.lockNamed('policy-versions');
    const rows = await this.s.db
      .select()
      .from(t.policyVersions)
      .where(
        sql`${t.policyVersions.lastSeenAt} = (select max(p2.last_seen_at) from policy_versions p2 where p2.policy_name = ${t.policyVersions.policyName})`,
      )
      .orderBy(asc(t.policyVersions.policyName));
    return rows.map(withoutPos);
  }

  async getPolicyVersion(policyName: string, version: string): Promise<PolicyVersionRecord | undefined> {
    const [row] = await this.s.db
      .select()
      .from(t.policyVersions)
      .where(and(eq(t.policyVersions.policyName, policyName), eq(t.policyVersions.version, version)));
    return row && withoutPos(row);
  }

  async upsertPolicyVersion(record: PolicyVersionRecord): Promise<void> {
    await this.s.db
      .insert(t.policyVersions)
      .values(record)
      .onConflictDoUpdate({
        target: [t.policyVersions.policyName, t.policyVersions.version],
        set: { lastSeenAt: record.lastSeenAt },
      });
  }
}

function withoutPos({ pos: _pos, ...record }: typeof t.policyVersions.$inferSelect): PolicyVersionRecord {
  return record;
}
