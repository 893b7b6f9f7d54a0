import { mkdtemp, readFile, rm, writeFile, cp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { EXAMPLE_ENV, cli } from './helpers.js';

const BAD = 'test/cli/fixtures/bad-policies';

describe('policies check', () => {
  const temp: string[] = [];
  afterAll(async () => {
    await Promise.all(temp.map((d) => rm(d, { recursive: true, force: true })));
  });

  it('passes the example policies against the example directory and lists every role with its version', async () => {
    const { code, stdout, stderr } = await cli(['policies', 'check']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('OK: 4 apps, 7 roles in policies (settings: policies/settings.yml; directory: yaml)');
    expect(lines).toHaveLength(10);
    expect(lines[8]).toBe('1 access review:');
    expect(lines[9]).toMatch(
      /^ {2}quarterly-sensitive {2}[0-9a-f]{12} {2}github\/owner, aws-prod\/admin, group github-owners, group aws-prod-readonly; due 2w, schedule "0 9 1 1,4,7,10 \*"$/,
    );
    expect(stdout).toMatch(
      /github\/owner\s+github-owner-jit\s+[0-9a-f]{12}\s+sensitive, 3-step chain \(auto_approve\.when\), provision: okta_group/,
    );
    expect(stdout).toMatch(/billing\/viewer\s+billing-viewer\s+[0-9a-f]{12}\s+1-step chain, provision: webhook/);
    expect(stdout).toMatch(/laptop-admin\/admin\s+.*provision: manual/);
    expect(stdout).toMatch(/github\/member\s+.*auto-approved/);
  });

  it('takes the folder as an argument, and the directory file from --directory', async () => {
    const { code } = await cli(['policies', 'check', 'policies', '--directory', 'directory.example.yml'], {
      BILLING_HOOK_SECRET: 'x',
      DIRECTORY_FILE: 'nowhere.yml',
    });
    expect(code).toBe(0);
  });

  it('passes on a fresh clone without the production secrets, warning about the unset secret_env (item 11)', async () => {
    // A policy repository's CI has none of the production secrets.
    const { code, stdout, stderr } = await cli(['policies', 'check', 'policies'], {
      DIRECTORY_FILE: 'directory.example.yml',
    });
    expect(code, stderr).toBe(0);
    expect(stdout).toMatch(/^OK: 4 apps, 7 roles in policies/);
    expect(stderr).toMatch(
      /^warning: policies\/billing\.yml:\d+:\d+ roles\[0\]\.provision\.webhook\.secret_env: .*BILLING_HOOK_SECRET is not set/m,
    );
    expect(stderr).toContain('--strict');
  });

  it('with --strict, an unset secret_env is an error naming the variable, as at a production start', async () => {
    const { code, stderr } = await cli(['policies', 'check', '--strict'], {
      ...EXAMPLE_ENV,
      BILLING_HOOK_SECRET: undefined,
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(
      /^policies\/billing\.yml:\d+:\d+ roles\[0\]\.provision\.webhook\.secret_env: .*BILLING_HOOK_SECRET/m,
    );
    expect((await cli(['policies', 'check', '--strict'], EXAMPLE_ENV)).code).toBe(0);
  });

  it('prints every problem of a bad folder as file:line:col and exits 1', async () => {
    const { code, stdout, stderr } = await cli(['policies', 'check', BAD]);
    expect(code).toBe(1);
    expect(stdout).toBe('');
    expect(stderr).toMatch(new RegExp(`^${BAD}/github\\.yml:14:5 roles\\[0\\]\\.colour: unknown key 'colour'`, 'm'));
    expect(stderr).toMatch(new RegExp(`^${BAD}/github\\.yml:8:\\d+ roles\\[0\\]\\.duration`, 'm'));
    expect(stderr).toMatch(/problems? in test\/cli\/fixtures\/bad-policies/);
  });

  it('reports groups the directory does not have, and groups it cannot provision, at their line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'policies-check-'));
    temp.push(dir);
    await writeFile(join(dir, 'settings.yml'), 'admin_group: access-admins\nsecurity_channel: C0SECURITY\n');
    await cp(join(BAD, 'salesforce.yml'), join(dir, 'salesforce.yml'));
    const { code, stderr } = await cli(['policies', 'check', dir]);
    expect(code).toBe(1);
    expect(stderr).toContain(
      `${dir}/salesforce.yml:7:23 roles[0].eligible_groups[0]: group 'sales-team' does not exist`,
    );
    expect(stderr).toMatch(
      new RegExp(
        `${dir}/salesforce\\.yml:11:\\d+ roles\\[0\\]\\.provision\\.okta_group: group 'salesforce-users' is an APP_GROUP group, not OKTA_GROUP`,
      ),
    );
    expect(stderr).toContain('2 problems in');
  });

  it('reports every problem of a review definition at its file, line and key (issue 17)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'policies-check-'));
    temp.push(dir);
    await cp('policies', dir, { recursive: true });
    const review = [
      'review: bad-review',
      'name: A review with mistakes',
      'schedule: "99 * * * *"',
      'scope:',
      '  roles: [github/nope, foo/bar]',
      '  groups: [aws-prod-readonly]',
      'reviewer: { user: nobody }',
      'fallback_reviewer: manager',
      'due: 14x',
      'undecided: maybe',
      'colour: blue',
    ].join('\n');
    await writeFile(join(dir, 'reviews', 'bad.yml'), `${review}\n`);
    const { code, stderr } = await cli(['policies', 'check', dir], { BILLING_HOOK_SECRET: 'x' });
    expect(code).toBe(1);
    const file = `${dir}/reviews/bad.yml`;
    expect(stderr).toContain(`${file}:3:11 schedule: must be a cron expression`);
    expect(stderr).toContain(
      `${file}:5:11 scope.roles[0]: unknown role 'github/nope': app 'github' has no role 'nope'`,
    );
    expect(stderr).toContain(`${file}:5:24 scope.roles[1]: unknown role 'foo/bar': no policy defines app 'foo'`);
    // The people rule policies use (escalate_to, break_glass.reviewers), with its messages.
    expect(stderr).toContain(`${file}:7:19 reviewer.user: must be a person's email address, got 'nobody'`);
    expect(stderr).toContain(
      `${file}:8:20 fallback_reviewer: must be {user: email} or {group: name} (the manager cannot be the fallback)`,
    );
    expect(stderr).toContain(`${file}:9:6 due: must be a duration`);
    expect(stderr).toContain(`${file}:10:12 undecided: must be 'keep' or 'revoke', got 'maybe'`);
    expect(stderr).toContain(`${file}:11:1 colour: unknown key 'colour'`);
    expect(stderr).toContain('8 problems in');
  });

  it('checks a review against the directory: groups that exist and can be managed, reviewers who can be found', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'policies-check-'));
    temp.push(dir);
    await cp('policies', dir, { recursive: true });
    const review = [
      'review: second',
      'name: Directory mistakes',
      'scope:',
      '  groups: [no-such-group, salesforce-users]',
      'reviewer: { user: nobody@example.com }',
      'fallback_reviewer: { group: finance-teams }',
      'due: 14d',
      'reminders: [20d]',
      'remediate: remove',
    ].join('\n');
    await writeFile(join(dir, 'reviews', 'second.yml'), `${review}\n`);
    const first = await cli(['policies', 'check', dir], { BILLING_HOOK_SECRET: 'x' });
    expect(first.stderr).toContain(
      `${dir}/reviews/second.yml:8:13 reminders[0]: a reminder 20d before the due time is not after the start (due: 2w)`,
    );
    await writeFile(join(dir, 'reviews', 'second.yml'), `${review.replace('[20d]', '[2d]')}\n`);
    const { code, stderr } = await cli(['policies', 'check', dir], { BILLING_HOOK_SECRET: 'x' });
    expect(code).toBe(1);
    const file = `${dir}/reviews/second.yml`;
    expect(stderr).toContain(`${file}:4:12 scope.groups[0]: group 'no-such-group' does not exist in the directory`);
    expect(stderr).toContain(
      `${file}:4:27 scope.groups[1]: group 'salesforce-users' is an APP_GROUP group: the directory's API cannot remove`,
    );
    expect(stderr).toContain(`${file}:5:19 reviewer.user: reviewer nobody@example.com is not in the directory`);
    expect(stderr).toContain(
      `${file}:6:29 fallback_reviewer.group: group 'finance-teams' does not exist in the directory`,
    );
    expect(stderr).toContain('4 problems in');
  });

  it('exits 1 when the directory file is invalid, naming its line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'policies-check-'));
    temp.push(dir);
    await writeFile(
      join(dir, 'directory.yml'),
      'people:\n  - email: ada@example.com\n    name: Ada\n    status: retired\n',
    );
    const { code, stderr } = await cli(['policies', 'check', '--directory', join(dir, 'directory.yml')]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${dir}/directory.yml:4:13 people.0.status:`);
  });

  it("warns about an audit sink's unset secret or token and a missing signing key; --strict makes them errors", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'policies-check-'));
    temp.push(dir);
    await cp('policies', dir, { recursive: true });
    const sinks = [
      '  - name: siem',
      '    type: webhook',
      '    url: https://siem.example.com/access-bot',
      '    secret_env: SIEM_HOOK_SECRET',
      '  - name: splunk',
      '    type: splunk_hec',
      '    url: https://splunk.example.com:8088',
      '    token_env: SPLUNK_HEC_TOKEN',
    ];
    const settings = (await readFile(join(dir, 'settings.yml'), 'utf8')).replace(
      'audit_sinks:\n',
      `audit_sinks:\n${sinks.join('\n')}\n`,
    );
    await writeFile(join(dir, 'settings.yml'), settings);
    const env = { ...EXAMPLE_ENV, AUDIT_SIGNING_KEY: undefined };
    const warned = await cli(['policies', 'check', dir], env);
    expect(warned.code, warned.stderr).toBe(0);
    expect(warned.stderr).toMatch(
      new RegExp(
        `^warning: ${dir}/settings\\.yml:\\d+:\\d+ audit_sinks\\[0\\]\\.secret_env: the environment variable SIEM_HOOK_SECRET is not set`,
        'm',
      ),
    );
    expect(warned.stderr).toMatch(
      /^warning: .*audit_sinks\[1\]\.token_env: the environment variable SPLUNK_HEC_TOKEN is not set/m,
    );
    expect(warned.stderr).toMatch(
      /^warning: .*audit_checkpoints: the environment variable AUDIT_SIGNING_KEY is not set/m,
    );
    const strict = await cli(['policies', 'check', '--strict', dir], env);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('3 problems in');
    expect(
      (
        await cli(['policies', 'check', '--strict', dir], {
          ...EXAMPLE_ENV,
          SIEM_HOOK_SECRET: 's',
          SPLUNK_HEC_TOKEN: 't',
        })
      ).code,
    ).toBe(0);
  });

  it('exits 1 for a folder that does not exist', async () => {
    const { code, stderr } = await cli(['policies', 'check', 'no/such/folder']);
    expect(code).toBe(1);
    expect(stderr).toContain('no/such/folder');
  });
});
