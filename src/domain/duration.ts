/** Durations in policies and settings: an integer and a unit, `30s`, `15m`, `4h`, `7d`, `2w`. */

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400, w: 604_800 } as const;
type Unit = keyof typeof UNIT_SECONDS;

const DURATION_PATTERN = /^([1-9][0-9]{0,6})([smhdw])$/;

/** Parses `4h` into seconds; returns null for anything else (the caller says where it was). */
export function parseDuration(text: string): number | null {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) return null;
  return Number(match[1]) * UNIT_SECONDS[match[2] as Unit];
}

/** The largest whole unit: 3600 -> `1h`, 5400 -> `90m`. The canonical spelling of a duration. */
export function formatDuration(seconds: number): string {
  for (const unit of ['w', 'd', 'h', 'm'] as const) {
    const size = UNIT_SECONDS[unit];
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/**
 * A readable form for messages, as a policy author would write it: the largest unit that says it
 * exactly (`30 days`, not `4 weeks 2 days`; `90 minutes`; `2 weeks` only when whole weeks); a
 * duration no unit says exactly gets its two largest parts, weeks left out (`89 days 3 hours`).
 */
export function describeDuration(seconds: number): string {
  const rest0 = Math.max(0, Math.round(seconds));
  if (rest0 === 0) return '0 seconds';
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  for (const [unit, size] of [
    ['week', 604_800],
    ['day', 86_400],
    ['hour', 3600],
    ['minute', 60],
    ['second', 1],
  ] as const) {
    if (rest0 >= size && rest0 % size === 0) return plural(rest0 / size, unit);
  }
  const parts: string[] = [];
  let rest = rest0;
  for (const [unit, size] of [
    ['day', 86_400],
    ['hour', 3600],
    ['minute', 60],
    ['second', 1],
  ] as const) {
    if (rest >= size) {
      const n = Math.floor(rest / size);
      rest -= n * size;
      parts.push(plural(n, unit));
    }
    if (parts.length === 2) break;
  }
  return parts.join(' ');
}

/** The presets offered in the request modal, in seconds (15m 1h 4h 8h 1d 7d 30d 90d). */
export const DURATION_PRESETS_SECONDS: readonly number[] = [
  900, 3600, 14_400, 28_800, 86_400, 604_800, 2_592_000, 7_776_000,
];
