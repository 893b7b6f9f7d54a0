/** The `/access` subcommand table is the one list: the help and the app manifest follow it. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { HELP, SUBCOMMANDS, usageHint } from '../../src/adapters/slack/access-commands.js';

describe('the /access subcommand table', () => {
  it("is what manifest.yml declares as the command's usage hint", () => {
    const manifest = parse(readFileSync(new URL('../../manifest.yml', import.meta.url), 'utf8')) as {
      features: { slash_commands: { command: string; usage_hint: string }[] };
    };
    const access = manifest.features.slash_commands.find((c) => c.command === '/access')!;
    expect(access.usage_hint).toBe(usageHint());
    expect(usageHint()).toBe(
      'request [app] [role] | break-glass <app> <role> | delegate @person until <date> | list | pending | ' +
        'explain <app> <role> | whoami | review [start <id>] | revoke | export | digest | help',
    );
  });

  it("gives every subcommand a help line, in the table's order", () => {
    expect(HELP.map((l) => l.usage)).toEqual(SUBCOMMANDS.map((s) => `/access ${s.name}`));
    expect(new Set(SUBCOMMANDS.map((s) => s.name)).size).toBe(SUBCOMMANDS.length);
  });
});
