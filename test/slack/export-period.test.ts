import { describe, expect, it } from 'vitest';
import { exportPeriod, ExportPeriodError } from '../../src/adapters/slack/export-period.js';
import { parseAccessCommand } from '../../src/adapters/slack/access-commands.js';
import { parseDelegateCommand } from '../../src/adapters/slack/delegate-flow.js';

const now = new Date('2026-05-10T10:00:00.000Z');

describe('export period presets', () => {
  it('counts rolling periods back from now and leaves them open-ended', () => {
    expect(exportPeriod('last_7_days', now, 'Europe/Berlin')).toEqual({
      from: '2026-05-03T10:00:00.000Z',
      to: null,
      label: 'last 7 days',
    });
    expect(exportPeriod('last_30_days', now, 'Europe/Berlin').from).toBe('2026-04-10T10:00:00.000Z');
  });

  it("starts quarters and years at midnight in the bot's time zone", () => {
    expect(exportPeriod('this_quarter', now, 'Europe/Berlin')).toMatchObject({
      from: '2026-03-31T22:00:00.000Z',
      to: null,
    });
    expect(exportPeriod('last_quarter', now, 'Europe/Berlin')).toMatchObject({
      from: '2025-12-31T23:00:00.000Z',
      to: '2026-03-31T22:00:00.000Z',
      label: 'last quarter (Q1 2026)',
    });
    expect(exportPeriod('last_quarter', new Date('2026-02-01T00:00:00.000Z'), 'America/New_York')).toMatchObject({
      from: '2025-10-01T04:00:00.000Z',
      to: '2026-01-01T05:00:00.000Z',
    });
    expect(exportPeriod('this_year', now, 'UTC')).toMatchObject({ from: '2026-01-01T00:00:00.000Z', to: null });
  });

  it('includes both custom days, across a daylight-saving change', () => {
    expect(exportPeriod('custom', now, 'Europe/Berlin', { from: '2026-03-29', to: '2026-03-29' })).toMatchObject({
      from: '2026-03-28T23:00:00.000Z',
      to: '2026-03-29T22:00:00.000Z',
    });
    expect(() => exportPeriod('custom', now, 'Europe/Berlin', {})).toThrow(ExportPeriodError);
    expect(() => exportPeriod('custom', now, 'Europe/Berlin', { from: '2026-03-02', to: '2026-03-01' })).toThrow(
      'must not be before',
    );
  });
});

describe('/access subcommand parsing', () => {
  it('reads each subcommand, and sends anything else to the help', () => {
    // The words after the subcommand come along as typed (a delegate's mention keeps its case);
    // each subcommand lower-cases what it reads as a name (app, role, a review's id).
    expect(parseAccessCommand('')).toEqual({ kind: 'help', words: [] });
    expect(parseAccessCommand('  LIST ')).toEqual({ kind: 'list', words: [] });
    expect(parseAccessCommand('explain GitHub owner')).toEqual({
      kind: 'explain',
      words: ['GitHub', 'owner'],
      app: 'github',
      role: 'owner',
    });
    expect(parseAccessCommand('request aws')).toEqual({ kind: 'request', words: ['aws'], app: 'aws' });
    expect(parseAccessCommand('break-glass aws-prod admin')).toEqual({
      kind: 'break-glass',
      words: ['aws-prod', 'admin'],
      app: 'aws-prod',
      role: 'admin',
    });
    expect(parseAccessCommand('delegate <@U0KIM|kim> until 2026-12-24')).toEqual({
      kind: 'delegate',
      words: ['<@U0KIM|kim>', 'until', '2026-12-24'],
    });
    expect(parseAccessCommand('Review START Quarterly-Sensitive')).toEqual({
      kind: 'review',
      words: ['START', 'Quarterly-Sensitive'],
    });
    for (const kind of ['pending', 'revoke', 'export', 'whoami', 'digest', 'help', 'review'] as const) {
      expect(parseAccessCommand(kind)).toEqual({ kind, words: [] });
    }
    expect(parseAccessCommand('frobnicate')).toEqual({ kind: 'unknown', word: 'frobnicate' });
  });
});

describe('/access delegate parsing', () => {
  it('reads a picked person or an email and the last day, off, and sends anything incomplete to the form', () => {
    expect(parseDelegateCommand(['<@U0KIM|kim>', 'until', '2026-12-24'])).toEqual({
      kind: 'delegate',
      delegate: { slackUserId: 'U0KIM' },
      day: '2026-12-24',
    });
    expect(parseDelegateCommand(['kim@example.com', '2026-12-24'])).toEqual({
      kind: 'delegate',
      delegate: { email: 'kim@example.com' },
      day: '2026-12-24',
    });
    expect(parseDelegateCommand(['OFF'])).toEqual({ kind: 'off' });
    expect(parseDelegateCommand([])).toEqual({ kind: 'form' });
    expect(parseDelegateCommand(['@kim', 'until', 'friday'])).toMatchObject({
      kind: 'form',
      problem: expect.stringContaining('Usage'),
    });
    expect(parseDelegateCommand(['<@U0KIM|kim>', 'and', 'x', 'until', '2026-12-24'])).toMatchObject({ kind: 'form' });
  });
});
