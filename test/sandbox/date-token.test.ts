import { describe, expect, it } from 'vitest';
// The page's own module (plain JavaScript for the browser): the sandbox draws Slack's date tokens with it.
// @ts-expect-error -- no type declarations for the page's scripts
import { formatDateToken as untyped } from '../../src/sandbox/page/block-kit.js';

const formatDateToken = untyped as (
  unix: string,
  format: string,
  ctx: { timezone?: string; now?: Date },
) => string | null;

/** Mon 2 Mar 2026, 09:00 UTC. */
const UNIX = String(Date.parse('2026-03-02T09:00:00Z') / 1000);

describe('Slack date tokens on the sandbox page', () => {
  it("are drawn in the reader's zone, as Slack draws them for each reader", () => {
    const berlin = { timezone: 'Europe/Berlin', now: new Date('2026-03-10T12:00:00Z') };
    const newYork = { timezone: 'America/New_York', now: new Date('2026-03-10T12:00:00Z') };
    expect(formatDateToken(UNIX, '{date_short} at {time}', berlin)).toBe('Mar 2, 2026 at 10:00 AM');
    expect(formatDateToken(UNIX, '{date_short} at {time}', newYork)).toBe('Mar 2, 2026 at 4:00 AM');
    expect(formatDateToken(UNIX, '{date_long} {time_secs} {date_num}', newYork)).toBe(
      'Monday, March 2nd, 2026 4:00:00 AM 2026-03-02',
    );
  });

  it("say Today, Yesterday and Tomorrow against the bot's clock, in the reader's zone", () => {
    const at = (now: string) => ({ timezone: 'Europe/Berlin', now: new Date(now) });
    expect(formatDateToken(UNIX, '{date_short_pretty} at {time}', at('2026-03-02T20:00:00Z'))).toBe(
      'Today at 10:00 AM',
    );
    expect(formatDateToken(UNIX, '{date_pretty}', at('2026-03-03T08:00:00Z'))).toBe('Yesterday');
    expect(formatDateToken(UNIX, '{date_long_pretty}', at('2026-03-01T08:00:00Z'))).toBe('Tomorrow');
    // 23:30 UTC on the 1st is already the 2nd in Berlin: the reader's day counts.
    expect(formatDateToken(UNIX, '{date_pretty}', at('2026-03-01T23:30:00Z'))).toBe('Today');
    expect(formatDateToken(UNIX, '{ago}', at('2026-03-02T11:00:00Z'))).toBe('2 hours ago');
  });

  it('leave a malformed token to its fallback', () => {
    expect(formatDateToken('soon', '{date}', { timezone: 'UTC' })).toBeNull();
  });
});
