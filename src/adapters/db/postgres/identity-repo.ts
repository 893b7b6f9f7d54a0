/** Identity bindings (Slack user <-> directory person) and recorded policy versions, on PostgreSQL. */
import { and, asc, desc, eq, getTableColumns, sql, type Table } from 'drizzle-orm';
import { AccessError } from '../../../domain/errors.js';
import { OPEN_GRANT_STATUSES, type IdentityBinding, type PolicyVersionRecord } from '../../../domain/records.js';
import type { SlackUserRoleState, StoreTx } from '../../../operations/ports.js';
import { toGrant, toRequest, type GrantRow, type RequestRow } from '../row-mappers.js';
import { uniqueViolation } from './connection.js';
import { PgGrantsRepo } from './grants-repo.js';
import { PgRequestsRepo } from './requests-repo.js';
import * as t from './schema.js';
import type { PgSession } from './session.js';

type Methods =
  | 'bindingForSlackUser'
  | 'roleStateForSlackUser'
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

  async roleStateForSlackUser(slackUserId: string, app: string, role: string): Promise<SlackUserRoleState> {
    // In a transaction the three reads lock what they read, one after the other.
    if (this.s.inTransaction) return this.roleStateReadByRead(slackUserId, app, role);
    // Otherwise one statement, one round trip: every `/access request <app> <role>` runs it.
    const [row] = await this.s
      .prepared('role_state_for_slack_user', (db, name) => {
        const held = db
          .select()
          .from(t.grants)
          .where(
            and(
              eq(t.grants.holderId, t.identityBindings.directoryId),
              eq(t.grants.app, sql.placeholder('app')),
              eq(t.grants.role, sql.placeholder('role')),
              sql`${t.grants.status} = any(${sql.placeholder('open')}::text[])`,
              eq(t.grants.breakGlass, false),
            ),
          )
          .orderBy(desc(t.grants.createdAt), desc(t.grants.id))
          .limit(1)
          .as('held');
        const pending = db
          .select()
          .from(t.requests)
          .where(
            and(
              eq(t.requests.requesterId, t.identityBindings.directoryId),
              eq(t.requests.app, sql.placeholder('app')),
              eq(t.requests.role, sql.placeholder('role')),
              sql`${t.requests.status} = 'pending_approval'`,
            ),
          )
          .limit(1)
          .as('pending');
        return db
          .select({
            binding: t.identityBindings,
            held: fieldsOf(held, t.grants),
            pending: fieldsOf(pending, t.requests),
          })
          .from(t.identityBindings)
          .leftJoinLateral(held, sql`true`)
          .leftJoinLateral(pending, sql`true`)
          .where(eq(t.identityBindings.slackUserId, sql.placeholder('slackUserId')))
          .prepare(name);
      })
      .execute({ slackUserId, app, role, open: [...OPEN_GRANT_STATUSES] });
    if (!row) return {};
    // drizzle gives null for a left join that found nothing (its types do not say so for a subquery).
    const held = row.held as GrantRow | null;
    const pending = row.pending as RequestRow | null;
    return {
      binding: row.binding,
      ...(held ? { held: toGrant(held) } : {}),
      ...(pending ? { pending: toRequest(pending) } : {}),
    };
  }

  private async roleStateReadByRead(slackUserId: string, app: string, role: string): Promise<SlackUserRoleState> {
    const binding = await this.bindingForSlackUser(slackUserId);
    if (!binding) return {};
    const holderId = binding.directoryId;
    const open = await new PgGrantsRepo(this.s).listGrants({ holderId, app, role, status: [...OPEN_GRANT_STATUSES] });
    const held = open.find((g) => !g.breakGlass);
    const pending = await new PgRequestsRepo(this.s).findPendingRequest(holderId, app, role);
    return { binding, ...(held ? { held } : {}), ...(pending ? { pending } : {}) };
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

/** A subquery's columns, as the table it selects from names them: a nested object of the outer select. */
function fieldsOf<T extends Table>(subquery: object, table: T): T['_']['columns'] {
  const fields = subquery as Record<string, unknown>;
  return Object.fromEntries(Object.keys(getTableColumns(table)).map((key) => [key, fields[key]])) as T['_']['columns'];
}
