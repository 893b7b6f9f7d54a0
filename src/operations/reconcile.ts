/**
 * Reconcile: the bot's records against the directory, the source of truth.
 *
 * 1. Offboarding. Every source of "this person left" (the status check of everyone who holds open
 *    access, built in; Okta's System Log reader and anything else through `offboardingSources`) is
 *    asked, and each person who left ends every grant through `offboardPerson`. Signals that do not
 *    come from a live read are confirmed with one before anything is ended.
 * 2. Drift, for each group the bot provisions (an `okta_group` in the policies, or in the stored
 *    snapshot of an open grant):
 *    - in the group without an open grant from the bot, and not a member from before a bot grant:
 *      access granted outside the bot. Logged (`drift.detected`) and alerted once per person and
 *      group while it lasts; `drift.resolved` when it ends. The bot does not remove them: it only
 *      takes away what it gave.
 *    - holding an active grant but no longer in the group: someone removed them by hand. The grant
 *      ends as `removed_externally` (`recordExternalRemoval`); they are never added back.
 *
 * Reads and writes interleave with a live directory, so each finding is checked against the order
 * of events: a grant activated after the member list was read, or revoked after it, is left for
 * the next run; a removal is confirmed with a live membership read before a grant is ended.
 */
import * as z from 'zod';
import { systemActor } from '../domain/audit.js';
import { isOffboardedStatus, type Person } from '../domain/person.js';
import { managedGroup } from '../domain/provisioning/methods.js';
import { OPEN_GRANT_STATUSES, type Grant, type GrantStatus } from '../domain/records.js';
import { nowIso, type Deps } from './context.js';
import { forEachLimited } from './for-each-limited.js';
import { alert } from './lifecycle.js';
import { withOwnStore } from './operation-scope.js';
import { provisionerFor } from './ports.js';
import { offboardPerson, recordExternalRemoval } from './revoke-grant.js';
import { verifyReviewRemovals } from './reviews/review-remediation.js';

export interface OffboardingSignal {
  directoryId: string;
  /** The directory status that ends access: suspended, deprovisioned, gone. */
  status: string;
  /** Where it came from, for the audit log: "status check", "okta system log". */
  source: string;
}

/**
 * Something that knows who left. `collect` gets the people who hold open access now (a source
 * may ignore them and report anyone) and keeps its own cursor (e.g. in `store` meta). Throwing
 * skips the source for this run; the status check still covers everyone who holds access.
 */
export interface OffboardingSource {
  readonly name: string;
  /** True when each signal comes from a live read of the person (no confirmation needed). */
  readonly live: boolean;
  collect(deps: Deps, holders: readonly string[], signal?: AbortSignal): Promise<OffboardingSignal[]>;
}

export interface ReconcileOptions {
  /** More sources of offboarding signals, asked after the built-in status check. */
  offboardingSources?: readonly OffboardingSource[];
  /**
   * Replaces the built-in per-person status check with a cheaper complete one (Okta: one search per
   * batch of holders instead of one read each). It must be live: its answers are not re-confirmed.
   */
  statusCheck?: OffboardingSource;
  /** Directory reads in flight at once. Default 8. */
  concurrency?: number;
  /** Alert lists name this many people, then "and N more". */
  alertNames?: number;
  signal?: AbortSignal;
}

export interface GroupReconcile {
  group: string;
  members: number;
  openGrants: number;
  driftDetected: number;
  driftResolved: number;
  removedExternally: number;
  error?: string;
}

export interface ReconcileSummary {
  offboarding: { checked: number; offboarded: number; grantsEnded: number; requestsCancelled: number; errors: number };
  groups: GroupReconcile[];
  driftDetected: number;
  driftResolved: number;
  removedExternally: number;
  /** Removals access reviews asked for, checked against the directory and found done. */
  reviewRemovals: { checked: number; verified: number };
}

const OPEN: GrantStatus[] = [...OPEN_GRANT_STATUSES];
/** Grants `offboardPerson` ends. */
const ENDABLE: GrantStatus[] = ['provisioning', 'active', 'provisioning_failed'];
const DRIFT_PREFIX = 'drift:';

export async function reconcile(deps: Deps, options: ReconcileOptions = {}): Promise<ReconcileSummary> {
  // Each part has its own handle on the store, and each removal confirmed concurrently one more
  // (operation-scope.ts): a store read or a second transaction inside the part's own transaction
  // fails at once.
  const part = () => withOwnStore(deps);
  const offboarding = await reconcileOffboarding(part(), options);
  const groups: GroupReconcile[] = [];
  for (const group of await provisionedGroups(deps)) {
    if (options.signal?.aborted) break;
    groups.push(await reconcileGroup(part(), group, options));
  }
  const total = (key: 'driftDetected' | 'driftResolved' | 'removedExternally') =>
    groups.reduce((n, g) => n + g[key], 0);
  // Standing memberships access reviews asked a person to remove: verified gone, or still there.
  const reviewRemovals = options.signal?.aborted ? { checked: 0, verified: 0 } : await verifyReviewRemovals(part());
  const summary = {
    offboarding,
    groups,
    driftDetected: total('driftDetected'),
    driftResolved: total('driftResolved'),
    removedExternally: total('removedExternally'),
    reviewRemovals,
  };
  if (
    summary.driftDetected ||
    summary.removedExternally ||
    offboarding.offboarded ||
    reviewRemovals.verified ||
    groups.some((g) => g.error)
  ) {
    deps.logger.info('reconcile', {
      ...summary,
      groups: groups.filter((g) => g.driftDetected || g.driftResolved || g.removedExternally || g.error),
    });
  }
  return summary;
}

/** Groups the bot provisions: from the policies in force and from the snapshots of open grants. */
export async function provisionedGroups(deps: Deps): Promise<string[]> {
  const groups = new Set(await deps.store.provisionGroupsOf(OPEN));
  for (const entry of deps.catalog.entries()) {
    const group = managedGroup(entry.role.provision);
    if (group) groups.add(group);
  }
  return [...groups].sort();
}

// ---- offboarding ------------------------------------------------------------------------------

/** The built-in source: every holder's live directory status. Complete, so it catches what a log missed. */
function directoryStatusCheck(options: { concurrency?: number } = {}): OffboardingSource {
  return {
    name: 'status check',
    live: true,
    async collect(deps, holders, signal) {
      const found: OffboardingSignal[] = [];
      let errors = 0;
      await forEachLimited(holders, options.concurrency ?? 8, signal, async (directoryId) => {
        try {
          const person = await deps.directory.getPerson(directoryId);
          if (!person) found.push({ directoryId, status: 'gone', source: 'status check' });
          else if (isOffboardedStatus(person.status))
            found.push({ directoryId, status: person.status.toLowerCase(), source: 'status check' });
        } catch (error) {
          errors++;
          if (errors === 1)
            deps.logger.warn('offboarding status check: directory read failed; the person is checked again next run', {
              directoryId,
              error,
            });
        }
      });
      if (errors > 1)
        deps.logger.warn('offboarding status check: directory reads failed', { errors, of: holders.length });
      return found;
    },
  };
}

async function reconcileOffboarding(deps: Deps, options: ReconcileOptions): Promise<ReconcileSummary['offboarding']> {
  // Everyone whose leaving ends something: holders, requesters waiting, people in a delegation.
  const delegations = await deps.store.listDelegations({ status: ['active'], limit: 1_000_000 });
  const holders = [
    ...new Set([
      ...(await deps.store.holdersOf(ENDABLE)),
      ...(await deps.store.listRequests({ status: ['pending_approval'], limit: 1_000_000 })).map(
        (r) => r.requester.directoryId,
      ),
      ...delegations.flatMap((d) => [d.delegator.directoryId, d.delegate.directoryId]),
    ]),
  ].sort();
  const result = { checked: holders.length, offboarded: 0, grantsEnded: 0, requestsCancelled: 0, errors: 0 };
  const sources = [
    options.statusCheck ?? directoryStatusCheck({ concurrency: options.concurrency }),
    ...(options.offboardingSources ?? []),
  ];
  const signals = new Map<string, OffboardingSignal>();
  for (const source of sources) {
    if (options.signal?.aborted) break;
    let found: OffboardingSignal[];
    try {
      found = await source.collect(deps, holders, options.signal);
    } catch (error) {
      result.errors++;
      deps.logger.warn('offboarding source failed; skipped this run', { source: source.name, error });
      continue;
    }
    const confirmed = source.live ? found : await confirmOffboarded(deps, found, options, result);
    for (const s of confirmed) if (!signals.has(s.directoryId)) signals.set(s.directoryId, s);
  }
  for (const s of signals.values()) {
    const ended = await offboardPerson(deps, { directoryId: s.directoryId, source: s.source, status: s.status });
    if (ended.grants || ended.requests || ended.delegations) result.offboarded++;
    result.grantsEnded += ended.grants;
    result.requestsCancelled += ended.requests;
  }
  return result;
}

/** A log says someone was suspended; they may have been reactivated since. The live record decides. */
async function confirmOffboarded(
  deps: Deps,
  found: OffboardingSignal[],
  options: ReconcileOptions,
  result: { errors: number },
): Promise<OffboardingSignal[]> {
  const confirmed: OffboardingSignal[] = [];
  const unique = [...new Map(found.map((s) => [s.directoryId, s])).values()];
  await forEachLimited(unique, options.concurrency ?? 8, options.signal, async (s) => {
    try {
      const person = await deps.directory.getPerson(s.directoryId);
      if (!person) confirmed.push({ ...s, status: 'gone' });
      else if (isOffboardedStatus(person.status)) confirmed.push({ ...s, status: person.status.toLowerCase() });
      else
        deps.logger.info('offboarding signal not confirmed: the person is active now', {
          directoryId: s.directoryId,
          source: s.source,
          status: person.status,
        });
    } catch (error) {
      result.errors++;
      deps.logger.warn('could not confirm an offboarding signal; the status check covers the person next run', {
        directoryId: s.directoryId,
        source: s.source,
        error,
      });
    }
  });
  return confirmed;
}

// ---- drift ------------------------------------------------------------------------------------

/** What the meta entry of an open finding holds (our own JSON, still parsed, not cast). */
const DriftMarkSchema = z.object({
  group: z.string(),
  directoryId: z.string(),
  email: z.string(),
  detectedAt: z.string(),
});
export type DriftMark = z.infer<typeof DriftMarkSchema>;

function parseMark(value: string): DriftMark | null {
  try {
    const parsed = DriftMarkSchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function driftKey(group: string, directoryId: string): string {
  return `${driftGroupPrefix(group)}${encodeURIComponent(directoryId)}`;
}

function driftGroupPrefix(group: string): string {
  return `${DRIFT_PREFIX}${encodeURIComponent(group)}:`;
}

/** Open drift findings (access granted outside the bot, not yet resolved), for the digest and the Home tab. */
export async function openDriftFindings(deps: Pick<Deps, 'store'>): Promise<DriftMark[]> {
  return (await deps.store.metaWithPrefix(DRIFT_PREFIX))
    .map((m) => parseMark(m.value))
    .filter((m): m is DriftMark => m !== null);
}

async function reconcileGroup(deps: Deps, group: string, options: ReconcileOptions): Promise<GroupReconcile> {
  const out: GroupReconcile = {
    group,
    members: 0,
    openGrants: 0,
    driftDetected: 0,
    driftResolved: 0,
    removedExternally: 0,
  };
  const readAt = nowIso(deps);
  let members: Person[];
  try {
    members = await deps.directory.membersOf(group);
  } catch (error) {
    out.error = error instanceof Error ? error.message : String(error);
    deps.logger.warn('reconcile: could not read the group; skipped this run', { group, error });
    return out;
  }
  // Read after the members: a grant that ends meanwhile still counts as open here, so it is not
  // mistaken for drift; one that starts meanwhile is checked below.
  const open = await deps.store.grantsThroughGroup(group, { status: OPEN });
  out.members = members.length;
  out.openGrants = open.length;
  const memberIds = new Set(members.map((p) => p.id));
  const covered = new Set(open.map((g) => g.holder.directoryId));

  // Access granted outside the bot.
  const outside: Person[] = [];
  const keptOnPurpose = new Set<string>();
  for (const person of members) {
    if (covered.has(person.id)) continue;
    const history = await deps.store.grantsThroughGroup(group, { holderId: person.id });
    if (history.some((g) => g.alreadyMember === true)) {
      keptOnPurpose.add(person.id); // a member from before a grant of ours: kept on purpose when it ended
      continue;
    }
    // Our removal was confirmed after the member list was read: the list is stale for this person.
    if (history.some((g) => g.revokedAt !== null && g.revokedAt >= readAt)) continue;
    outside.push(person);
  }
  const marks = new Map<string, DriftMark>();
  for (const m of await deps.store.metaWithPrefix(driftGroupPrefix(group))) {
    const mark = parseMark(m.value);
    if (mark) marks.set(m.key, mark);
  }
  const fresh = outside.filter((p) => !marks.has(driftKey(group, p.id)));
  const resolved = [...marks.entries()].filter(
    ([, mark]) =>
      !memberIds.has(mark.directoryId) || covered.has(mark.directoryId) || keptOnPurpose.has(mark.directoryId),
  );

  if (fresh.length || resolved.length) {
    const now = nowIso(deps);
    const actor = systemActor('reconcile');
    await deps.store.transaction(async (tx) => {
      for (const person of fresh) {
        const mark: DriftMark = { group, directoryId: person.id, email: person.email, detectedAt: now };
        await tx.setMeta(driftKey(group, person.id), JSON.stringify(mark), now);
        await tx.appendAudit({
          at: now,
          actor,
          action: 'drift.detected',
          details: {
            kind: 'granted_outside_bot',
            group,
            person: { directoryId: person.id, email: person.email, name: person.name },
            detail: `in ${group} without an open grant from the bot`,
          },
        });
      }
      for (const [key, mark] of resolved) {
        await tx.deleteMeta(key);
        const why = !memberIds.has(mark.directoryId) ? 'no longer in the group' : 'now holds a grant from the bot';
        await tx.appendAudit({
          at: now,
          actor,
          action: 'drift.resolved',
          details: {
            kind: 'granted_outside_bot',
            group,
            person: { directoryId: mark.directoryId, email: mark.email },
            detectedAt: mark.detectedAt,
            why,
          },
        });
      }
      if (fresh.length) {
        const limit = options.alertNames ?? 20;
        const names = fresh
          .slice(0, limit)
          .map((p) => p.email)
          .join(', ');
        const more = fresh.length > limit ? ` and ${fresh.length - limit} more` : '';
        const n = fresh.length;
        await alert(
          tx,
          now,
          deps.settings.alertsChannel,
          `drift:${group}:${now}`,
          `Access granted outside the bot: ${n} ${n === 1 ? 'person is' : 'people are'} in ${group} without a grant from the bot: ${names}${more}. The bot does not remove them; check who added them in the directory.`,
        );
      }
    });
    out.driftDetected = fresh.length;
    out.driftResolved = resolved.length;
  }

  // Removed outside the bot. Only grants active before the member list was read can be judged by it.
  const gone = open.filter(
    (g): g is Grant & { activatedAt: string } =>
      g.status === 'active' && g.activatedAt !== null && g.activatedAt < readAt && !memberIds.has(g.holder.directoryId),
  );
  await forEachLimited(gone, options.concurrency ?? 8, options.signal, async (grant) => {
    let state: 'present' | 'absent' | 'unknown';
    try {
      // Asked of the grant's own provisioner, from its snapshot: the live membership read back.
      state = await provisionerFor(deps.provisioners, grant.snapshot.provision).verify(grant, grant.snapshot.provision);
    } catch (error) {
      deps.logger.warn('reconcile: could not confirm a removal; checked again next run', {
        group,
        grantId: grant.id,
        error,
      });
      return;
    }
    if (state !== 'absent') return; // the list was stale (added back, or a paging race): nothing to do
    // A handle of its own: the removals confirmed at the same time each run a transaction.
    const removal = withOwnStore(deps);
    if (await recordExternalRemoval(removal, { grantId: grant.id, detail: `not in ${group} at reconcile (${readAt})` }))
      out.removedExternally++;
  });
  return out;
}
