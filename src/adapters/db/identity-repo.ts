/** Identity bindings (Slack user <-> directory person) and recorded policy versions, on SQLite. */
import { and, asc, eq, sql } from 'drizzle-orm';
import { AccessError } from '../../domain/errors.js';
import { OPEN_GRANT_STATUSES, type IdentityBinding, type PolicyVersionRecord } from '../../domain/records.js';
import type { SlackUserRoleState } from '../../operations/ports.js';
import { GrantsRepo } from './grants-repo.js';
import { isUniqueViolation, type Connection } from './open-database.js';
import { RequestsRepo } from './requests-repo.js';
import * as t from './schema.js';
import type { SyncPort } from './sync-port.js';

type Methods =
  | 'bindingForSlackUser'
  | 'roleStateForSlackUser'
  | 'bindingForPerson'
  | 'bindIdentity'
  | 'unbindIdentity'
  | 'latestPolicyVersions'
  | 'getPolicyVersion'
  | 'upsertPolicyVersion';

export class IdentityRepo implements SyncPort<Methods> {
  constructor(private readonly c: Connection) {}

  bindingForSlackUser(slackUserId: string): IdentityBinding | undefined {
    // Every Slack interaction that identifies the person runs this.
    return this.c
      .prepared('bindingForSlackUser', (db) =>
        db
          .select()
          .from(t.identityBindings)
          .where(eq(t.identityBindings.slackUserId, sql.placeholder('slackUserId'))),
      )
      .get({ slackUserId });
  }

  /** Read by read: a SQLite read costs no round trip, so one statement would save nothing. */
  roleStateForSlackUser(slackUserId: string, app: string, role: string): SlackUserRoleState {
    const binding = this.bindingForSlackUser(slackUserId);
    if (!binding) return {};
    const holderId = binding.directoryId;
    const open = new GrantsRepo(this.c).listGrants({ holderId, app, role, status: [...OPEN_GRANT_STATUSES] });
    const held = open.find((g) => !g.breakGlass);
    const pending = new RequestsRepo(this.c).findPendingRequest(holderId, app, role);
    return { binding, ...(held ? { held } : {}), ...(pending ? { pending } : {}) };
  }

  bindingForPerson(directoryId: string): IdentityBinding | undefined {
    return this.c
      .prepared('bindingForPerson', (db) =>
        db
          .select()
          .from(t.identityBindings)
          .where(eq(t.identityBindings.directoryId, sql.placeholder('directoryId'))),
      )
      .get({ directoryId });
  }

  bindIdentity(binding: IdentityBinding): void {
    try {
      this.c.insert(t.identityBindings, binding);
    } catch (error) {
      if (isUniqueViolation(error))
        throw new AccessError(
          'identity_conflict',
          `${binding.email} is already bound to another Slack user; an admin must run \`identity unbind\` first.`,
        );
      throw error;
    }
  }

  unbindIdentity(slackUserId: string): boolean {
    return (
      this.c.db.delete(t.identityBindings).where(eq(t.identityBindings.slackUserId, slackUserId)).run().changes === 1
    );
  }

  // ---- policy versions ------------------------------------------------------------------------

  latestPolicyVersions(): PolicyVersionRecord[] {
    // The version of each policy name last seen in force.
    return this.c.db
      .select()
      .from(t.policyVersions)
      .where(
        sql`${t.policyVersions.lastSeenAt} = (select max(p2.last_seen_at) from policy_versions p2 where p2.policy_name = ${t.policyVersions.policyName})`,
      )
      .orderBy(asc(t.policyVersions.policyName))
      .all();
  }

  getPolicyVersion(policyName: string, version: string): PolicyVersionRecord | undefined {
    return this.c.db
      .select()
      .from(t.policyVersions)
      .where(and(eq(t.policyVersions.policyName, policyName), eq(t.policyVersions.version, version)))
      .get();
  }

  upsertPolicyVersion(record: PolicyVersionRecord): void {
    this.c.db
      .insert(t.policyVersions)
      .values(record)
      .onConflictDoUpdate({
        target: [t.policyVersions.policyName, t.policyVersions.version],
        set: { lastSeenAt: record.lastSeenAt },
      })
      .run();
  }
}
