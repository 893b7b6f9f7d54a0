/**
 * The weekly digest's lists in full, as one table: the Slack message shows counts and the top
 * lines of each list; this is the CSV beside it, with every entry (one row per person and access
 * in each list), so nothing the message cut is lost.
 */
import type { Digest, DigestGrantLine } from '../domain/digest.js';
import type { Cell } from './exports/export-ports.js';

const DIGEST_TABLE_COLUMNS = [
  'list',
  'person_name',
  'person_email',
  'person_directory_id',
  'app',
  'role',
  'app_name',
  'role_name',
  'grant_id',
  'at',
  'since',
  'until',
  'detail',
  'approved_by',
  'group',
  'count',
] as const;

type Row = Record<(typeof DIGEST_TABLE_COLUMNS)[number], Cell>;

const EMPTY: Row = Object.fromEntries(DIGEST_TABLE_COLUMNS.map((c) => [c, null])) as Row;

function grantRow(list: string, line: DigestGrantLine, extra: Partial<Row> = {}): Row {
  return {
    ...EMPTY,
    list,
    person_name: line.person.name,
    person_email: line.person.email,
    person_directory_id: line.person.directoryId,
    app: line.app,
    role: line.role,
    app_name: line.appName,
    role_name: line.roleName,
    grant_id: line.grantId,
    at: line.at,
    detail: line.detail ?? null,
    ...extra,
  };
}

export function digestTable(digest: Digest): { columns: readonly string[]; rows: Cell[][] } {
  const rows: Row[] = [
    ...digest.overdueRevocations.map((o) =>
      grantRow('revocation_overdue', o, {
        since: o.startedAt,
        detail: [o.detail, o.why, o.lastError && `last error: ${o.lastError}`].filter(Boolean).join(' · '),
      }),
    ),
    ...digest.breakGlass.map((b) => {
      const review =
        b.review === 'pending'
          ? `not reviewed (due ${b.dueAt})${b.overdue ? ', overdue' : ''}`
          : `${b.review.replace('_', ' ')} by ${b.reviewer ?? 'a reviewer'} at ${b.reviewedAt ?? ''}`;
      return grantRow('break_glass', b, { since: b.at, detail: `${b.durationSeconds} s; ${review}` });
    }),
    ...digest.sensitiveHolders.map((h) =>
      grantRow('sensitive_access_now', h, {
        since: h.since,
        until: h.until,
        approved_by: h.approvedBy.join('; ') || 'approved automatically',
      }),
    ),
    ...digest.granted.map((g) => grantRow('granted', g)),
    ...digest.extended.map((g) => grantRow('extended', g)),
    ...digest.revoked.map((r) => grantRow('revoked', r)),
    ...digest.failures.provisioningFailed.map((f) => grantRow('provisioning_failed', f)),
    ...digest.failures.revocationFailed.map((f) => grantRow('revocation_failed', f, { count: f.attempts })),
    ...digest.repeatedExtensions.map((r) => ({
      ...EMPTY,
      list: 'repeated_extension',
      person_name: r.person.name,
      person_email: r.person.email,
      person_directory_id: r.person.directoryId,
      app: r.app,
      role: r.role,
      app_name: r.appName,
      role_name: r.roleName,
      count: r.count,
    })),
    ...digest.drift.detected.map((d) => ({
      ...EMPTY,
      list: 'drift_detected',
      person_name: d.person.name ?? null,
      person_email: d.person.email,
      person_directory_id: d.person.directoryId,
      group: d.group,
      at: d.at,
    })),
  ];
  const givenUp = digest.failures.messagesGivenUp;
  if (givenUp) rows.push({ ...EMPTY, list: 'messages_given_up', count: givenUp });
  return { columns: DIGEST_TABLE_COLUMNS, rows: rows.map((r) => DIGEST_TABLE_COLUMNS.map((c) => r[c])) };
}
