import { describe, expect, it } from 'vitest';
import { exportPeriod, ExportPeriodError } from '../../src/adapters/slack/export-period.js';
import { parseAccessCommand } from '../../src/adapters/slack/access-commands.js';

const now = new Date('2026-05-10T10:00:00.000Z');

describe('export period presets', () => {
  it('counts rolling periods back from now and leaves them open-ended', () => {
    expect(exportPeriod('last_7_days', now, 'Europe/Berlin')).toEqual({ from: '2026-05-03T10:00:00.000Z', to: null, label: 'last 7 days' });
    expect(exportPeriod('last_30_days', now, 'Europe/Berlin').from).toBe('2026-04-10T10:00:00.000Z');
  });

  it('starts quarters and years at midnight in the bot\'s time zone', () => {
    expect(exportPeriod('this_quarter', now, 'Europe/Berlin')).toMatchObject({ from: '2026-03-31T22:00:00.000Z', to: null });
    expect(exportPeriod('last_quarter', now, 'Europe/Berlin')).toMatchObject({ from: '2025-12-31T23:00:00.000Z', to: '2026-03-31T22:00:00.000Z', label: 'last quarter (Q1 2026)' });
    expect(exportPeriod('last_quarter', new Date('2026-02-01T00:00:00.000Z'), 'America/New_York')).toMatchObject({ from: '2025-10-01T04:00:00.000Z', to: '2026-01-01T05:00:00.000Z' });
    expect(exportPeriod('this_year', now, 'UTC')).toMatchObject({ from: '2026-01-01T00:00:00.000Z', to: null });
  });

  it('includes both custom days, across a daylight-saving change', () => {
    expect(exportPeriod('custom', now, 'Europe/Berlin', { from: '2026-03-29', to: '2026-03-29' })).toMatchObject({ from: '2026-03-28T23:00:00.000Z', to: '2026-03-29T22:00:00.000Z' });
    expect(() => exportPeriod('custom', now, 'Europe/Berlin', {})).toThrow(ExportPeriodError);
    expect(() => exportPeriod('custom', now, 'Europe/Berlin', { from: '2026-03-02', to: '2026-03-01' })).toThrow('must not be before');
  });
});

describe('/access subcommand parsing', () => {
  it('reads each subcommand, and sends anything else to the help', () => {
    expect(parseAccessCommand('')).toEqual({ kind: 'help', words: [] });
    expect(parseAccessCommand('  LIST ')).toEqual({ kind: 'list', words: [] });
    expect(parseAccessCommand('explain GitHub owner')).toEqual({ kind: 'explain', words: ['github', 'owner'], app: 'github', role: 'owner' });
    expect(parseAccessCommand('request aws')).toEqual({ kind: 'request', words: ['aws'], app: 'aws' });
    expect(parseAccessCommand('review start Quarterly-Sensitive')).toEqual({ kind: 'review', words: ['start', 'quarterly-sensitive'] });
    for (const kind of ['pending', 'revoke', 'export', 'whoami', 'digest', 'help', 'review'] as const) {
      expect(parseAccessCommand(kind)).toEqual({ kind, words: [] });
    }
    expect(parseAccessCommand('frobnicate')).toEqual({ kind: 'unknown', word: 'frobnicate' });
  });
});
