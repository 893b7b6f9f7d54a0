import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkPoliciesAgainstDirectory } from '../../src/adapters/policies/check-against-directory.js';
import { loadPolicies } from '../../src/adapters/policies/load-policies.js';
import type { LoadedPolicies } from '../../src/adapters/policies/loaded-policies.js';
import { FakeDirectory, person } from './fake-directory.js';

const dir = fileURLToPath(new URL('./fixtures/valid', import.meta.url));
const github = join(dir, 'github.yml');
const billing = join(dir, 'billing.yaml');

/** A directory in which every group and person the `valid` fixture names exists. */
function fullDirectory(
  overrides: { skip?: string[]; securityTeam?: number; admins?: number; appSourced?: string[] } = {},
): FakeDirectory {
  const d = new FakeDirectory();
  const skip = new Set(overrides.skip ?? []);
  const add = (name: string, members: ReturnType<typeof person>[] = []) => {
    if (!skip.has(name)) d.group(name, members, overrides.appSourced?.includes(name) ? { type: 'APP_GROUP' } : {});
  };
  add(
    'access-admins',
    Array.from({ length: overrides.admins ?? 2 }, (_, i) => person(`admin${i + 1}`)),
  );
  add(
    'security-team',
    Array.from({ length: overrides.securityTeam ?? 3 }, (_, i) => person(`sec${i + 1}`)),
  );
  for (const name of [
    'platform-team',
    'sre-oncall',
    'everyone',
    'github-owners',
    'github-members',
    'finance',
    'it-helpdesk',
  ])
    add(name);
  add('finance-leads', [person('lead1')]);
  if (!skip.has('ciso')) d.addPerson(person('ciso'));
  return d;
}

describe('checkPoliciesAgainstDirectory', () => {
  let loaded: LoadedPolicies;
  beforeAll(async () => {
    loaded = await loadPolicies(dir, { env: { BILLING_HOOK_SECRET: 'k' } });
  });

  it('finds nothing wrong when every group and approver exists and every chain has enough people', async () => {
    expect(await checkPoliciesAgainstDirectory(loaded, fullDirectory())).toEqual({ problems: [] });
  });

  it('reports a group the directory does not know, at the key that names it', async () => {
    const { problems } = await checkPoliciesAgainstDirectory(
      loaded,
      fullDirectory({ skip: ['sre-oncall', 'it-helpdesk'] }),
    );
    expect(problems).toEqual([
      {
        file: billing,
        line: 24,
        column: 25,
        path: 'roles[1].provision.manual.assignee_group',
        message: "group 'it-helpdesk' does not exist in the directory (fake)",
      },
      {
        file: github,
        line: 19,
        column: 34,
        path: 'roles[0].auto_approve.when.requester_groups[0]',
        message: "group 'sre-oncall' does not exist in the directory (fake)",
      },
    ]);
  });

  it('reports an unknown admin group in settings.yml', async () => {
    const { problems } = await checkPoliciesAgainstDirectory(loaded, fullDirectory({ skip: ['access-admins'] }));
    // Only the cause: the chains that would fall back to it are checked once it exists.
    expect(problems).toHaveLength(1);
    expect(problems[0]).toEqual({
      file: join(dir, 'settings.yml'),
      line: 1,
      column: 14,
      path: 'admin_group',
      message: "group 'access-admins' does not exist in the directory (fake)",
    });
  });

  it('refuses to provision an app-sourced group, which Okta cannot change', async () => {
    const { problems } = await checkPoliciesAgainstDirectory(
      loaded,
      fullDirectory({ appSourced: ['github-owners', 'everyone'] }),
    );
    // `everyone` is only used for eligibility: reading an app-sourced group is fine.
    expect(problems).toEqual([
      {
        file: github,
        line: 22,
        column: 19,
        path: 'roles[0].provision.okta_group',
        message:
          "group 'github-owners' is an APP_GROUP group, not OKTA_GROUP: Okta's API cannot change an app-sourced group; only OKTA_GROUP groups can be provisioned",
      },
    ]);
  });

  it('reports a named approver who is not in the directory', async () => {
    const { problems } = await checkPoliciesAgainstDirectory(loaded, fullDirectory({ skip: ['ciso'], admins: 3 }));
    expect(problems).toEqual([
      {
        file: github,
        line: 17,
        column: 15,
        path: 'roles[0].approval[2].user',
        message: 'approver ciso@example.com is not in the directory (fake)',
      },
    ]);
  });

  it('reports a chain that cannot be satisfied even with the admin fallback, at the approval key', async () => {
    // security-team needs 2 approvals; it has 1 member, and the admin group has only 1 person.
    const { problems } = await checkPoliciesAgainstDirectory(loaded, fullDirectory({ securityTeam: 1, admins: 1 }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ file: github, line: 12, column: 5, path: 'roles[0].approval' });
    expect(problems[0]?.message).toBe(
      'the approval chain of github/owner cannot be satisfied even with the admin fallback: step 2 (group security-team (admin fallback: access-admins)) needs 2 approver(s) but only 1 can decide',
    );
  });

  it('counts distinct people: the same admin cannot stand in for the manager and a second step', async () => {
    // The manager step falls back to the one admin; security-team's 2 are fine; ciso is fine: satisfiable.
    expect((await checkPoliciesAgainstDirectory(loaded, fullDirectory({ admins: 1 }))).problems).toEqual([]);
    // Without ciso in the directory, both the manager and the user step fall back to that one admin.
    const { problems } = await checkPoliciesAgainstDirectory(loaded, fullDirectory({ admins: 1, skip: ['ciso'] }));
    expect(problems.map((p) => p.path)).toEqual(['roles[0].approval', 'roles[0].approval[2].user']);
    expect(problems[0]?.message).toContain('there are not enough distinct approvers for every step');
  });

  it('asks the directory for each group once', async () => {
    const directory = fullDirectory();
    await checkPoliciesAgainstDirectory(loaded, directory);
    const counts = new Map<string, number>();
    for (const call of directory.calls) counts.set(call, (counts.get(call) ?? 0) + 1);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    expect(directory.calls).toContain('membersOf access-admins');
  });

  it('does not fail when the directory is down: it says so and reports only what it could check', async () => {
    const down = fullDirectory();
    down.goDown('okta: 503 Service Unavailable');
    expect(await checkPoliciesAgainstDirectory(loaded, down)).toEqual({
      problems: [],
      unreachable: 'okta: 503 Service Unavailable',
    });

    const flaky = fullDirectory({ skip: ['access-admins'] });
    flaky.goDownAfter(1, 'okta: timeout');
    expect(await checkPoliciesAgainstDirectory(loaded, flaky)).toEqual({
      problems: [
        expect.objectContaining({
          path: 'admin_group',
          message: "group 'access-admins' does not exist in the directory (fake)",
        }),
      ],
      unreachable: 'okta: timeout',
    });
  });
});

describe('checkPoliciesAgainstDirectory on the groups and people of escalations and break-glass', () => {
  it('reports an escalation target and break-glass groups the directory does not know, at their keys', async () => {
    // The sandbox's own policies: AWS admin escalates to access-admins, and allows break-glass to
    // sre-oncall, reviewed by security-team.
    const examples = fileURLToPath(new URL('../../policies', import.meta.url));
    const sandbox = await loadPolicies(examples, { env: { BILLING_HOOK_SECRET: 'k', AUDIT_SIGNING_KEY: 'pem' } });
    const d = new FakeDirectory();
    d.group('access-admins', [person('admin1'), person('admin2')]);
    const { problems } = await checkPoliciesAgainstDirectory(sandbox, d);
    const aws = problems.filter((p) => p.file === join(examples, 'aws.yml') && /escalate_to|break_glass/.test(p.path));
    expect(aws.map((p) => [p.path, p.message])).toEqual([
      ['roles[0].break_glass.eligible_groups[0]', "group 'sre-oncall' does not exist in the directory (fake)"],
      ['roles[0].break_glass.reviewers.group', "group 'security-team' does not exist in the directory (fake)"],
    ]);
    // access-admins exists: the escalation is fine; named without it, it is reported too.
    const empty = await checkPoliciesAgainstDirectory(sandbox, new FakeDirectory());
    expect(
      empty.problems.some(
        (p) => p.path === 'roles[0].approval[0].escalate_to.group' && p.message.includes("'access-admins'"),
      ),
    ).toBe(true);
    for (const p of aws) expect(p.line).toBeGreaterThan(0);
  });
});

describe('checkPoliciesAgainstDirectory on access reviews', () => {
  it('checks review groups and reviewers with the same lookups and words as the policies, at their keys', async () => {
    const copy = await mkdtemp(join(tmpdir(), 'check-reviews-'));
    try {
      await cp(dir, copy, { recursive: true });
      await mkdir(join(copy, 'reviews'));
      const review = (id: string, lines: string[]) =>
        writeFile(
          join(copy, 'reviews', `${id}.yml`),
          [`review: ${id}`, `name: ${id}`, ...lines, 'due: 2w', ''].join('\n'),
        );
      await review('finance', [
        'scope:',
        '  groups: [finance, nowhere]',
        'remediate: remove',
        'reviewer: { user: gone@example.com }',
        'fallback_reviewer: { group: it-helpdesk }',
      ]);
      await review('leads', ['scope:', '  groups: [finance-leads]', 'reviewer: { user: quiet@example.com }']);
      const withReviews = await loadPolicies(copy, { env: { BILLING_HOOK_SECRET: 'k' } });
      const d = fullDirectory({ appSourced: ['finance'] });
      d.addPerson(person('quiet', { active: false, status: 'SUSPENDED' }));
      const { problems } = await checkPoliciesAgainstDirectory(withReviews, d);
      const finance = join(copy, 'reviews', 'finance.yml');
      const leads = join(copy, 'reviews', 'leads.yml');
      expect(problems.map((p) => [p.file, p.line, p.path, p.message])).toEqual([
        [
          finance,
          4,
          'scope.groups[0]',
          "group 'finance' is an APP_GROUP group: the directory's API cannot remove its members, so 'remediate: remove' cannot work; use 'remediate: report'",
        ],
        [finance, 4, 'scope.groups[1]', "group 'nowhere' does not exist in the directory (fake)"],
        [finance, 6, 'reviewer.user', 'reviewer gone@example.com is not in the directory (fake)'],
        [
          finance,
          7,
          'fallback_reviewer.group',
          "group 'it-helpdesk' has no active member, so nobody could review these items",
        ],
        [leads, 5, 'reviewer.user', 'reviewer quiet@example.com is not active in the directory (SUSPENDED)'],
      ]);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });
});
