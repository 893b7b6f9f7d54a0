/**
 * The export form's period presets as instants: calendar periods (quarters, the year, custom
 * dates) start at midnight in the bot's time zone, which is what "last quarter" means to the
 * people reading the file; the file itself keeps UTC times. The end is exclusive; a period still
 * running has none ("until now": everything in the export's snapshot, as the CLI without --to).
 */
import type { ExportPeriodPreset } from '../../../blocks/view-models.js';

export interface ExportPeriod {
  from: string | null;
  to: string | null;
  label: string;
}

export class ExportPeriodError extends Error {
  constructor(
    readonly field: 'from' | 'to',
    message: string,
  ) {
    super(message);
    this.name = 'ExportPeriodError';
  }
}

const DAY_MS = 86_400_000;

export function isPeriodPreset(value: string | undefined): value is ExportPeriodPreset {
  return (
    value === 'last_7_days' ||
    value === 'last_30_days' ||
    value === 'this_quarter' ||
    value === 'last_quarter' ||
    value === 'this_year' ||
    value === 'custom'
  );
}

export function exportPeriod(
  preset: ExportPeriodPreset,
  now: Date,
  timeZone: string,
  custom: { from?: string | undefined; to?: string | undefined } = {},
): ExportPeriod {
  const end = null;
  const { year, month } = localDate(now, timeZone);
  const quarterStartMonth = Math.floor((month - 1) / 3) * 3 + 1;
  switch (preset) {
    case 'last_7_days':
      return { from: new Date(now.getTime() - 7 * DAY_MS).toISOString(), to: end, label: 'last 7 days' };
    case 'last_30_days':
      return { from: new Date(now.getTime() - 30 * DAY_MS).toISOString(), to: end, label: 'last 30 days' };
    case 'this_quarter':
      return {
        from: zonedMidnight(year, quarterStartMonth, 1, timeZone),
        to: end,
        label: `this quarter (Q${(quarterStartMonth + 2) / 3} ${year})`,
      };
    case 'last_quarter': {
      const prevYear = quarterStartMonth === 1 ? year - 1 : year;
      const prevMonth = quarterStartMonth === 1 ? 10 : quarterStartMonth - 3;
      return {
        from: zonedMidnight(prevYear, prevMonth, 1, timeZone),
        to: zonedMidnight(year, quarterStartMonth, 1, timeZone),
        label: `last quarter (Q${(prevMonth + 2) / 3} ${prevYear})`,
      };
    }
    case 'this_year':
      return { from: zonedMidnight(year, 1, 1, timeZone), to: end, label: `this year (${year})` };
    case 'custom': {
      const from = custom.from ? dayStart(custom.from, timeZone, 'from') : null;
      // The last day is included: the period ends at the next midnight.
      const to: string | null = custom.to ? nextDayStart(custom.to, timeZone) : end;
      if (!from && !custom.to)
        throw new ExportPeriodError('from', 'A custom period needs a first day (and optionally a last day).');
      if (from && to && from >= to) throw new ExportPeriodError('to', 'The last day must not be before the first day.');
      return { from, to, label: 'custom period' };
    }
  }
}

function parseDay(text: string, field: 'from' | 'to'): [number, number, number] {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) throw new ExportPeriodError(field, `"${text}" is not a date.`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

function dayStart(text: string, timeZone: string, field: 'from' | 'to'): string {
  const [y, m, d] = parseDay(text, field);
  return zonedMidnight(y, m, d, timeZone);
}

function nextDayStart(text: string, timeZone: string): string {
  const [y, m, d] = parseDay(text, 'to');
  const next = new Date(Date.UTC(y, m - 1, d) + DAY_MS);
  return zonedMidnight(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone);
}

function localDate(at: Date, timeZone: string): { year: number; month: number; day: number } {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric' })
      .formatToParts(at)
      .map((p) => [p.type, p.value]),
  );
  return { year: Number(parts.year), month: Number(parts.month), day: Number(parts.day) };
}

/** How far the zone's wall clock is ahead of UTC at an instant (ms). */
function offsetMs(utcMs: number, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    })
      .formatToParts(new Date(utcMs))
      .map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(
    Number(parts.year),
    Number(parts.month) - 1,
    Number(parts.day),
    Number(parts.hour),
    Number(parts.minute),
    Number(parts.second),
  );
  return wall - (utcMs - (utcMs % 1000));
}

/** The instant of midnight starting a calendar day in a zone (twice corrected, for DST edges). */
function zonedMidnight(year: number, month: number, day: number, timeZone: string): string {
  const wall = Date.UTC(year, month - 1, day);
  let t = wall - offsetMs(wall, timeZone);
  t = wall - offsetMs(t, timeZone);
  return new Date(t).toISOString();
}

/**
 * The end of a day named `YYYY-MM-DD` in a zone (the next midnight there): "until 2026-12-24"
 * includes the 24th. Null for anything that is not a real date.
 */
export function endOfDay(day: string, timeZone: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day.trim());
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d) return null;
  return nextDayStart(day.trim(), timeZone);
}

/** Today as `YYYY-MM-DD` in a zone (a datepicker's initial date). */
export function localDay(at: Date, timeZone: string): string {
  const { year, month, day } = localDate(at, timeZone);
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}
