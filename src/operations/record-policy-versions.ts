/**
 * At each start, each role's policy version is compared with the last one recorded: new policies
 * and changed versions are logged with what changed, and the period each version was in force is
 * kept (first and last seen).
 */
import { systemActor } from '../domain/audit.js';
import { canonicalDefinition } from '../domain/policy-version.js';
import { nowIso, type Deps } from './context.js';

export interface PolicyVersionChanges {
  added: string[];
  changed: string[];
  unchanged: string[];
}

export async function recordPolicyVersions(deps: Deps): Promise<PolicyVersionChanges> {
  const now = nowIso(deps);
  const actor = systemActor('startup');
  // Built inside the transaction and returned: a store may run the callback again (a deadlock).
  return deps.store.transaction(async (tx) => {
    const result: PolicyVersionChanges = { added: [], changed: [], unchanged: [] };
    const latest = new Map((await tx.latestPolicyVersions()).map((v) => [v.policyName, v]));
    for (const entry of deps.catalog.entries()) {
      const definition = canonicalDefinition(entry.app, entry.role);
      const previous = latest.get(entry.role.policy);
      const existing = await tx.getPolicyVersion(entry.role.policy, entry.version);
      await tx.upsertPolicyVersion({
        policyName: entry.role.policy,
        version: entry.version,
        app: entry.app.app,
        role: entry.role.id,
        definition,
        firstSeenAt: existing?.firstSeenAt ?? now,
        lastSeenAt: now,
      });
      if (!previous) {
        result.added.push(entry.role.policy);
        await tx.appendAudit({ at: now, actor, action: 'policy.added', details: { policy: entry.role.policy, version: entry.version, app: entry.app.app, role: entry.role.id, definition } });
      } else if (previous.version !== entry.version) {
        result.changed.push(entry.role.policy);
        await tx.appendAudit({
          at: now,
          actor,
          action: 'policy.changed',
          details: { policy: entry.role.policy, from: previous.version, to: entry.version, changes: diff(previous.definition, definition) },
        });
      } else {
        result.unchanged.push(entry.role.policy);
      }
    }
    return result;
  });
}

/** The paths whose values differ, with before and after: `role.duration.max: 4h -> 8h`. */
export function diff(before: unknown, after: unknown, path = ''): { path: string; before: unknown; after: unknown }[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diff(before[k], after[k], path ? `${path}.${k}` : k));
  }
  return [{ path: path || '(root)', before: before ?? null, after: after ?? null }];
}
