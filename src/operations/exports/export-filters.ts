/**
 * Export filters, parsed once at the boundary (command line or Slack modal) into a normalised form
 * the storage adapter can compare as text: times become `toISOString()` strings, the same form the
 * database stores, so `created_at >= from` is a correct comparison.
 */

const EXPORT_KINDS = ['requests', 'access', 'events', 'policies', 'reviews'] as const;
export type ExportKind = (typeof EXPORT_KINDS)[number];

export interface ExportFilters {
  /** Inclusive start of the period (ISO 8601 UTC, milliseconds), or null for "from the beginning". */
  from: string | null;
  /** Exclusive end of the period, or null for "until now". */
  to: string | null;
  app: string | null;
  role: string | null;
  /** A person, by email (lower-cased; matched case-insensitively) or directory id. */
  person: string | null;
  /** Reviews only: one campaign (`rvc_…`). */
  campaign?: string;
}

/** Filters as typed: every field optional text. */
export interface RawExportFilters {
  from?: string | null;
  to?: string | null;
  app?: string | null;
  role?: string | null;
  user?: string | null;
  campaign?: string | null;
}

export type ExportFilterField = 'kind' | 'from' | 'to' | 'app' | 'role' | 'user' | 'campaign';

/** A filter that cannot be used; `field` names it, so a form can show the message next to it. */
export class ExportFilterError extends Error {
  readonly code = 'invalid_export_filter' as const;
  constructor(
    readonly field: ExportFilterField,
    message: string,
  ) {
    super(message);
    this.name = 'ExportFilterError';
  }
}

export const NO_FILTERS: ExportFilters = { from: null, to: null, app: null, role: null, person: null };

function isExportKind(value: string): value is ExportKind {
  return (EXPORT_KINDS as readonly string[]).includes(value);
}

export function parseExportKind(value: string | undefined): ExportKind {
  if (value === undefined || !isExportKind(value)) {
    throw new ExportFilterError(
      'kind',
      `${value === undefined ? 'no export named' : `unknown export "${value}"`}: choose one of ${EXPORT_KINDS.join(', ')}`,
    );
  }
  return value;
}

export function parseExportFilters(kind: ExportKind, raw: RawExportFilters): ExportFilters {
  const from = parseInstant('from', raw.from);
  const to = parseInstant('to', raw.to);
  if (from !== null && to !== null && from >= to) {
    throw new ExportFilterError(
      'to',
      `the period is empty: --to (${to}) must be after --from (${from}); --from is inclusive, --to exclusive`,
    );
  }
  const app = parseName('app', raw.app);
  const role = parseName('role', raw.role);
  let person = parseName('user', raw.user);
  if (person !== null && person.includes('@')) person = person.toLowerCase();
  if (kind === 'policies' && person !== null) {
    throw new ExportFilterError(
      'user',
      'the policies export has no people in it: --user applies to requests, access, events and reviews',
    );
  }
  const campaign = raw.campaign === undefined || raw.campaign === null ? null : raw.campaign.trim();
  if (campaign !== null) {
    if (kind !== 'reviews') throw new ExportFilterError('campaign', '--campaign applies to the reviews export only');
    if (!/^rvc_[A-Za-z0-9]{1,60}$/.test(campaign))
      throw new ExportFilterError(
        'campaign',
        `--campaign "${campaign}" is not a review campaign id (rvc_…; see reviews status --all)`,
      );
    return { from, to, app, role, person, campaign };
  }
  return { from, to, app, role, person };
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})$/i;

/**
 * `YYYY-MM-DD` (midnight UTC) or a date and time with a zone (`2026-03-01T09:30:00Z`,
 * `2026-03-01T10:30+01:00`). A time without a zone is refused: which midnight is meant matters
 * when a period is evidence.
 */
function parseInstant(field: 'from' | 'to', value: string | null | undefined): string | null {
  if (value === undefined || value === null || value.trim() === '') return null;
  const text = value.trim();
  const hint = `--${field} "${text}" is not a date (YYYY-MM-DD, UTC) or a date and time with a zone (2026-03-01T09:30:00Z or 2026-03-01T10:30:00+01:00)`;
  const date = DATE.exec(text);
  const dateTime = date ? null : DATE_TIME.exec(text);
  if (!date && !dateTime) {
    if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text))
      throw new ExportFilterError(
        field,
        `--${field} "${text}" has no time zone: add Z (UTC) or an offset such as +01:00`,
      );
    throw new ExportFilterError(field, hint);
  }
  const [, y, mo, d, h = '00', mi = '00', s = '00'] = (date ?? dateTime)!;
  // Date.parse would roll 2026-02-30 over to March; check each part against a real calendar.
  const probe = new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d)));
  const realDate =
    probe.getUTCFullYear() === Number(y) && probe.getUTCMonth() === Number(mo) - 1 && probe.getUTCDate() === Number(d);
  if (!realDate || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) throw new ExportFilterError(field, hint);
  const ms = Date.parse(date ? `${text}T00:00:00Z` : text.toUpperCase());
  if (Number.isNaN(ms)) throw new ExportFilterError(field, hint);
  return new Date(ms).toISOString();
}

function parseName(field: 'app' | 'role' | 'user', value: string | null | undefined): string | null {
  if (value === undefined || value === null) return null;
  const text = value.trim();
  if (text === '') throw new ExportFilterError(field, `--${field} is empty`);
  // eslint-disable-next-line no-control-regex
  if (text.length > 320 || /[\u0000-\u001f\u007f]/.test(text))
    throw new ExportFilterError(
      field,
      `--${field} is not a valid ${field === 'user' ? 'email or directory id' : `${field} id`}`,
    );
  return text;
}

/** The filters as recorded in the export's audit event and shown in the summary. */
export function describeFilters(filters: ExportFilters): Record<string, string> {
  const out: Record<string, string> = {};
  if (filters.from) out.from = filters.from;
  if (filters.to) out.to = filters.to;
  if (filters.app) out.app = filters.app;
  if (filters.role) out.role = filters.role;
  if (filters.person) out.user = filters.person;
  if (filters.campaign) out.campaign = filters.campaign;
  return out;
}
