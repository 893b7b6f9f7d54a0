import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { EXIT, type Command } from '../../src/cli/command.js';
import { commands } from '../../src/cli/registry.js';
import { findCommand, runCli } from '../../src/cli/run.js';
import { EXAMPLE_ENV, cli } from './helpers.js';
import { OktaStandIn } from '../okta/okta-stand-in.js';

const run = promisify(execFile);

/** Runs the real entry point as a child process; resolves with the exit code instead of throwing. */
async function child(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const childEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
  try {
    const { stdout, stderr } = await run(process.execPath, args, { env: childEnv });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('access-bot', () => {
  it('lists every command with its summary under --help', async () => {
    const { code, stdout } = await cli(['--help']);
    expect(code).toBe(EXIT.ok);
    for (const command of commands) expect(stdout).toContain(`${command.name}  `);
    expect(stdout).toContain('policies check');
    expect(stdout).toContain('policies explain');
  });

  it('lists each command under the name and summary its own module gives it', async () => {
    for (const entry of commands) {
      const command = await entry.load();
      expect({ name: command.name, summary: command.summary }).toEqual({ name: entry.name, summary: entry.summary });
    }
  });

  it('prints the help and exits 2 when run with no command', async () => {
    const { code, stderr } = await cli([]);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain('Usage: access-bot <command>');
  });

  it('exits 2 for an unknown command and suggests the ones that start the same way', async () => {
    const unknown = await cli(['frobnicate']);
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toContain('unknown command: frobnicate');
    const partial = await cli(['policies']);
    expect(partial.code).toBe(EXIT.usage);
    expect(partial.stderr).toContain('did you mean: policies check, policies explain?');
  });

  it('shows a command\'s usage with "help <command>" and with --help', async () => {
    const viaHelp = await cli(['help', 'policies', 'explain']);
    const viaFlag = await cli(['policies', 'explain', '--help']);
    expect(viaHelp.code).toBe(EXIT.ok);
    expect(viaFlag.code).toBe(EXIT.ok);
    expect(viaFlag.stdout).toBe(viaHelp.stdout);
    expect(viaFlag.stdout).toContain('Exit codes:');
  });

  it('dispatches to the command with the longest matching name', async () => {
    const seen: string[] = [];
    const fake = (name: string): Command => ({
      name,
      summary: name,
      usage: name,
      run: async (args) => (seen.push(`${name}:${args.join(',')}`), 0),
    });
    const registry = [fake('audit'), fake('audit verify')];
    expect(findCommand(['audit', 'verify', '--expect-head', 'x'], registry)?.command.name).toBe('audit verify');
    await runCli(
      ['audit', 'verify', '--expect-head', 'x'],
      { stdout: { write: () => true }, stderr: { write: () => true }, env: {} },
      registry,
    );
    await runCli(
      ['audit', 'export'],
      { stdout: { write: () => true }, stderr: { write: () => true }, env: {} },
      registry,
    );
    expect(seen).toEqual(['audit verify:--expect-head,x', 'audit:export']);
  });

  it('exits 2 on an unknown option, naming it', async () => {
    const { code, stderr } = await cli(['policies', 'check', '--frobnicate']);
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain('--frobnicate');
    expect(stderr).toContain('access-bot policies check --help');
  });

  it('exits 2 on a configuration error, naming the variable', async () => {
    const { code, stderr } = await cli(['policies', 'check'], { ...EXAMPLE_ENV, LOG_LEVEL: 'loud' });
    expect(code).toBe(EXIT.usage);
    expect(stderr).toContain('LOG_LEVEL');
  });

  it('checks the policies against Okta when OKTA_ORG_URL is set, naming each group Okta does not have', async () => {
    const okta = new OktaStandIn();
    const { url } = await okta.start();
    try {
      okta.addGroup({ id: '00gadmins', name: 'access-admins' }).addGroup({ id: '00geveryone', name: 'everyone' });
      const { code, stderr } = await cli(['policies', 'check'], {
        ...EXAMPLE_ENV,
        OKTA_ORG_URL: url,
        OKTA_API_TOKEN: 'test-token',
        SLACK_BOT_TOKEN: 'xoxb-x',
        SLACK_SIGNING_SECRET: 's',
      });
      expect(code).toBe(EXIT.problem);
      expect(stderr).toMatch(/policies\/github\.yml:\d+:\d+ roles\[0\]\.provision\.okta_group: .*github-owners/);
      expect(okta.count('/api/v1/groups', 'GET')).toBeGreaterThan(0);
    } finally {
      await okta.stop();
    }
  });
});

// The compiled command (bin/access-bot.js -> dist/) is tested as it ships, packed and installed, by .ci/pack-test.
describe('access-bot as a child process', () => {
  it("runs policies check on the example policies through npm run cli's command line and exits 0", async () => {
    const { code, stdout } = await child(['--import', 'tsx', 'src/cli/main.ts', 'policies', 'check'], EXAMPLE_ENV);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^OK: 4 apps, 7 roles in policies/);
  });

  it('exits 1 when the policies have problems', async () => {
    const { code, stdout, stderr } = await child(
      ['--import', 'tsx', 'src/cli/main.ts', 'policies', 'check', 'test/cli/fixtures/bad-policies'],
      EXAMPLE_ENV,
    );
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/test\/cli\/fixtures\/bad-policies\/github\.yml:\d+:\d+ /);
  });

  it('exits 2 on a usage error', async () => {
    const { code } = await child(
      ['--import', 'tsx', 'src/cli/main.ts', 'policies', 'explain', '--app', 'github'],
      EXAMPLE_ENV,
    );
    expect(code).toBe(2);
  });
});
