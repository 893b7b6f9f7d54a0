/**
 * At each start, each role's policy version is compared with the last one recorded: new policies
 * and changed versions are logged with what changed, and the period each version was in force is
 * kept (first and last seen). Each access review definition is versioned the same way, in the same
 * table under `review:<id>`, and logged when it is added, changed or retired (no longer loaded).
 */
import { systemActor, type Actor } from '../domain/audit.js';
import { canonicalDefinition } from '../domain/policy-version.js';
import type { PolicyVersionRecord } from '../domain/records.js';
import type { ReviewCatalog } from '../domain/reviews/review-definition.js';
import {
  canonicalReviewDefinition,
  REVIEW_VERSION_PREFIX,
  reviewVersion,
  reviewVersionName,
} from '../domain/reviews/review-version.js';
import { nowIso, type Deps } from './context.js';
import type { StoreTx } from './ports.js';

export interface PolicyVersionChanges {
  added: string[];
  changed: string[];
  unchanged: string[];
  /** Review definitions, by review id. */
  reviews: ReviewVersionChanges;
}

export interface ReviewVersionChanges {
  added: string[];
  changed: string[];
  retired: string[];
  unchanged: string[];
}

export async function recordPolicyVersions(deps: Deps): Promise<PolicyVersionChanges> {
  const now = nowIso(deps);
  const actor = systemActor('startup');
  // Built inside the transaction and returned: a store may run the callback again (a deadlock).
  return deps.store.transaction(async (tx) => {
    const recorded = await tx.latestPolicyVersions();
    const latest = new Map(recorded.map((v) => [v.policyName, v]));
    const result: Omit<PolicyVersionChanges, 'reviews'> = { added: [], changed: [], unchanged: [] };
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
        await tx.appendAudit({
          at: now,
          actor,
          action: 'policy.added',
          details: {
            policy: entry.role.policy,
            version: entry.version,
            app: entry.app.app,
            role: entry.role.id,
            definition,
          },
        });
      } else if (previous.version !== entry.version) {
        result.changed.push(entry.role.policy);
        await tx.appendAudit({
          at: now,
          actor,
          action: 'policy.changed',
          details: {
            policy: entry.role.policy,
            from: previous.version,
            to: entry.version,
            changes: diff(previous.definition, definition),
          },
        });
      } else {
        result.unchanged.push(entry.role.policy);
      }
    }
    return { ...result, reviews: await recordReviewVersions(tx, deps.reviews, { recorded, now, actor }) };
  });
}

/**
 * A review is new when no version of it was loaded at the previous start (the newest `last_seen_at`
 * recorded, as the policies export reads it): never recorded, or retired and now back. It is retired
 * when the previous start loaded it and this one does not; later starts say nothing more.
 */
async function recordReviewVersions(
  tx: StoreTx,
  catalog: ReviewCatalog,
  { recorded, now, actor }: { recorded: PolicyVersionRecord[]; now: string; actor: Actor },
): Promise<ReviewVersionChanges> {
  const result: ReviewVersionChanges = { added: [], changed: [], retired: [], unchanged: [] };
  const previousStart = recorded.reduce<string | undefined>(
    (max, v) => (max === undefined || v.lastSeenAt > max ? v.lastSeenAt : max),
    undefined,
  );
  const latest = new Map(
    recorded.filter((v) => v.policyName.startsWith(REVIEW_VERSION_PREFIX)).map((v) => [v.policyName, v]),
  );
  const reviews = catalog.all().sort((a, b) => a.id.localeCompare(b.id));
  for (const review of reviews) {
    const name = reviewVersionName(review.id);
    const version = reviewVersion(review);
    const definition = canonicalReviewDefinition(review);
    const previous = latest.get(name);
    latest.delete(name);
    const existing = await tx.getPolicyVersion(name, version);
    // A review governs no single role: `app` and `role` stay empty; its scope is in the definition.
    await tx.upsertPolicyVersion({
      policyName: name,
      version,
      app: '',
      role: '',
      definition,
      firstSeenAt: existing?.firstSeenAt ?? now,
      lastSeenAt: now,
    });
    if (!previous || previous.lastSeenAt !== previousStart) {
      result.added.push(review.id);
      await tx.appendAudit({
        at: now,
        actor,
        action: 'reviewDefinition.added',
        details: { review: review.id, version, file: review.source.file, definition },
      });
    } else if (previous.version !== version) {
      result.changed.push(review.id);
      await tx.appendAudit({
        at: now,
        actor,
        action: 'reviewDefinition.changed',
        details: {
          review: review.id,
          from: previous.version,
          to: version,
          file: review.source.file,
          changes: diff(previous.definition, definition),
        },
      });
    } else {
      result.unchanged.push(review.id);
    }
  }
  for (const gone of latest.values()) {
    if (gone.lastSeenAt !== previousStart) continue;
    const id = gone.policyName.slice(REVIEW_VERSION_PREFIX.length);
    result.retired.push(id);
    await tx.appendAudit({
      at: now,
      actor,
      action: 'reviewDefinition.retired',
      details: { review: id, version: gone.version },
    });
  }
  return result;
}

/** The paths whose values differ, with before and after: `role.duration.max: 4h -> 8h`. */
export function diff(before: unknown, after: unknown, path = ''): { path: string; before: unknown; after: unknown }[] {
  if (JSON.stringify(before) === JSON.stringify(after)) return [];
  const isObject = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(before) && isObject(after)) {
    const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
    return keys.flatMap((k) => diff(before[k], after[k], path ? `${path}.${k}` : k));
  }
  return [{ path: path || '(root)', before: before ?? null, after: after ?? null }];
}
