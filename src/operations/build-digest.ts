/**
 * The weekly digest, computed from the store for the seven days before `now`: the audit log says
 * what happened in the week (it is the record auditors trust), the grants table says who holds
 * what now. Reads only, in a fixed number of queries however large the company (no read per grant).
 */
import type { AuditEvent } from '../domain/audit.js';
import {
  DIGEST_PERIOD_DAYS,
  REPEATED_EXTENSION_THRESHOLD,
  REPEATED_EXTENSION_WINDOW_DAYS,
  type Digest,
  type DigestBreakGlass,
  type DigestGrantLine,
  type DigestHolding,
  type DigestOverdue,
  type DigestRepeatedExtension,
} from '../domain/digest.js';
import { describeDuration } from '../domain/duration.js';
import type { Grant } from '../domain/records.js';
import { revocationOverdue } from '../domain/revocation-overdue.js';
import type { Deps } from './context.js';
import { openDriftFindings } from './reconcile.js';

const DAY_MS = 86_400_000;

export async function buildDigest(deps: Pick<Deps, 'store' | 'catalog' | 'settings'>, now: Date): Promise<Digest> {
  const { store } = deps;
  const periodEnd = now.toISOString();
  const periodStart = new Date(now.getTime() - DIGEST_PERIOD_DAYS * DAY_MS).toISOString();
  const windowStart = new Date(now.getTime() - REPEATED_EXTENSION_WINDOW_DAYS * DAY_MS).toISOString();

  const events = await store.auditEventsBetween(periodStart, periodEnd, [
    'grant.activated',
    'grant.extended',
    'grant.revoked',
    'grant.provisioningFailed',
    'grant.revocationFailed',
    'job.abandoned',
    'drift.detected',
    'breakGlass.invoked',
  ]);
  const unreviewed = await store.listBreakGlassReviews({ status: ['pending'], limit: Number.MAX_SAFE_INTEGER });
  const extensionEvents = await store.auditEventsBetween(windowStart, periodEnd, ['grant.extended']);
  const active = await store.listGrants({ status: ['active'], sensitive: true, limit: Number.MAX_SAFE_INTEGER });
  const revoking = await store.listGrants({ status: ['revoking'], limit: Number.MAX_SAFE_INTEGER });

  // Every grant an event names, in one read.
  const ids = new Set<string>();
  for (const e of [...events, ...extensionEvents]) if (e.grantId) ids.add(e.grantId);
  for (const r of unreviewed) ids.add(r.grantId);
  const grants = new Map((await store.getGrants([...ids])).map((g) => [g.id, g]));
  for (const g of [...active, ...revoking]) grants.set(g.id, g);

  const line = (grant: Grant, at: string, detail?: string): DigestGrantLine => {
    const entry = deps.catalog.find(grant.app, grant.role);
    return {
      grantId: grant.id,
      person: { directoryId: grant.holder.directoryId, name: grant.holder.name, email: grant.holder.email },
      app: grant.app,
      appName: entry?.app.name ?? grant.app,
      role: grant.role,
      roleName: entry?.role.name ?? grant.role,
      sensitive: grant.sensitive,
      at,
      ...(detail === undefined ? {} : { detail }),
    };
  };
  const linesOf = (
    action: AuditEvent['action'],
    detail: (e: AuditEvent) => string | undefined = () => undefined,
  ): DigestGrantLine[] =>
    events
      .filter((e) => e.action === action && e.grantId && grants.has(e.grantId))
      .map((e) => line(grants.get(e.grantId!)!, e.at, detail(e)));

  // Who holds sensitive access now, and who approved it.
  const decisions = await store.decisionsFor([...new Set(active.map((g) => g.requestId))]);
  const sensitiveHolders: DigestHolding[] = active
    .map((g) => ({
      ...line(g, g.activatedAt ?? g.createdAt),
      since: g.activatedAt ?? g.createdAt,
      until: g.expiresAt,
      approvedBy: [
        ...new Set(
          (decisions.get(g.requestId) ?? []).filter((d) => d.decision === 'approve').map((d) => d.approver.name),
        ),
      ],
    }))
    .sort(
      (a, b) =>
        a.appName.localeCompare(b.appName) ||
        a.roleName.localeCompare(b.roleName) ||
        a.since.localeCompare(b.since) ||
        a.grantId.localeCompare(b.grantId),
    );

  // Emergency access: every grant taken this week, and every one still owed a review.
  const breakGlassIds = [
    ...new Set([
      ...events.filter((e) => e.action === 'breakGlass.invoked' && e.grantId).map((e) => e.grantId!),
      ...unreviewed.map((r) => r.grantId),
    ]),
  ].filter((id) => grants.has(id));
  const reviews = await store.breakGlassReviewsFor(breakGlassIds);
  const REVIEW_ORDER = { pending: 0, not_justified: 1, justified: 2 } as const;
  const breakGlass: DigestBreakGlass[] = breakGlassIds
    .flatMap((id) => {
      const grant = grants.get(id)!;
      const review = reviews.get(id);
      if (!review) return [];
      return [
        {
          ...line(grant, grant.createdAt),
          durationSeconds: grant.durationSeconds,
          review: review.status,
          reviewer: review.reviewer?.name ?? null,
          reviewedAt: review.reviewedAt,
          dueAt: review.dueAt,
          overdue: review.status === 'pending' && review.dueAt <= periodEnd,
        },
      ];
    })
    .sort(
      (a, b) =>
        REVIEW_ORDER[a.review] - REVIEW_ORDER[b.review] ||
        Number(b.overdue) - Number(a.overdue) ||
        a.at.localeCompare(b.at),
    );

  const revoked = linesOf('grant.revoked', (e) => String(e.details.reason ?? 'unknown'));
  const revokedByReason: Record<string, number> = {};
  for (const r of revoked) revokedByReason[r.detail!] = (revokedByReason[r.detail!] ?? 0) + 1;

  // Revocation failures: one line per grant, with this week's attempts and the last error.
  const failedRevocations = new Map<string, DigestGrantLine & { attempts: number }>();
  for (const e of events) {
    if (e.action !== 'grant.revocationFailed' || !e.grantId || !grants.has(e.grantId)) continue;
    const seen = failedRevocations.get(e.grantId);
    failedRevocations.set(e.grantId, {
      ...line(grants.get(e.grantId)!, e.at, String(e.details.error ?? '')),
      attempts: (seen?.attempts ?? 0) + 1,
    });
  }

  const overdueRevocations: DigestOverdue[] = [];
  for (const g of revoking) {
    const state = revocationOverdue(g, periodEnd);
    if (!state.overdue) continue;
    overdueRevocations.push({
      ...line(g, g.revocationStartedAt!, g.revocationReason ?? undefined),
      startedAt: g.revocationStartedAt!,
      failures: g.failures,
      why: state.why!,
      lastError: g.lastError,
    });
  }
  overdueRevocations.sort((a, b) => a.startedAt.localeCompare(b.startedAt));

  // The same person extending the same access again and again: standing access in disguise.
  const extensionCounts = new Map<string, DigestRepeatedExtension>();
  for (const e of extensionEvents) {
    const g = e.grantId ? grants.get(e.grantId) : undefined;
    if (!g) continue;
    const key = `${g.holder.directoryId}\u0000${g.app}\u0000${g.role}`;
    const l = line(g, e.at);
    const seen = extensionCounts.get(key) ?? {
      person: l.person,
      app: l.app,
      appName: l.appName,
      role: l.role,
      roleName: l.roleName,
      count: 0,
    };
    seen.count++;
    extensionCounts.set(key, seen);
  }
  const repeatedExtensions = [...extensionCounts.values()]
    .filter((r) => r.count >= REPEATED_EXTENSION_THRESHOLD)
    .sort((a, b) => b.count - a.count || a.person.email.localeCompare(b.person.email));

  const driftDetected = events
    .filter((e) => e.action === 'drift.detected')
    .map((e) => {
      const person = (e.details.person ?? {}) as { directoryId?: unknown; email?: unknown; name?: unknown };
      return {
        group: String(e.details.group ?? ''),
        person: {
          directoryId: String(person.directoryId ?? ''),
          email: String(person.email ?? ''),
          ...(typeof person.name === 'string' ? { name: person.name } : {}),
        },
        at: e.at,
      };
    });

  return {
    generatedAt: periodEnd,
    periodStart,
    periodEnd,
    timezone: deps.settings.timezone,
    sensitiveHolders,
    granted: linesOf('grant.activated'),
    extended: linesOf('grant.extended', (e) =>
      typeof e.details.addedSeconds === 'number' ? `+${describeDuration(e.details.addedSeconds)}` : undefined,
    ),
    revoked,
    revokedByReason,
    failures: {
      provisioningFailed: linesOf('grant.provisioningFailed', (e) => String(e.details.error ?? '')),
      revocationFailed: [...failedRevocations.values()],
      messagesGivenUp: events.filter(
        (e) => e.action === 'job.abandoned' && String(e.details.job ?? '').startsWith('notify:'),
      ).length,
    },
    overdueRevocations,
    breakGlass,
    repeatedExtensions,
    repeatedExtensionWindowDays: REPEATED_EXTENSION_WINDOW_DAYS,
    drift: {
      detected: driftDetected,
      removedExternally: revoked.filter((r) => r.detail === 'removed_externally'),
      openNow: (await openDriftFindings(deps)).length,
    },
    auditHead: await store.auditHead(),
  };
}
