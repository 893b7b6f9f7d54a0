import { describe, expect, it } from 'vitest';
import { EXAMPLE_ENV, cli } from './helpers.js';

const explain = (...args: string[]) => cli(['policies', 'explain', ...args]);

describe('policies explain', () => {
  it('shows the full chain for an engineer asking for a sensitive role', async () => {
    const { code, stdout } = await explain(
      '--user',
      'ada@example.com',
      '--app',
      'github',
      '--role',
      'owner',
      '--duration',
      '2h',
      '--justification',
      'hotfix',
    );
    expect(code).toBe(0);
    expect(stdout).toContain('GitHub / Organization owner for Ada Lovelace <ada@example.com>');
    expect(stdout).toMatch(/Policy github-owner-jit, version [0-9a-f]{12}/);
    expect(stdout).toContain('✗ duration at most 1 hour: requested 2 hours');
    expect(stdout).toContain('1/3 manager: 1 of 1 (marcus@example.com)');
    expect(stdout).toContain('2/3 group security-team: 2 of 3 (sam@example.com, jordan@example.com, kim@example.com)');
    expect(stdout).toContain('posts one message in C0SECURITY');
    expect(stdout).toContain('3/3 user ciso@example.com: 1 of 1 (ciso@example.com)');
    expect(stdout).toContain('Outcome: needs approval.');
  });

  it('shows auto-approval for the on-call engineer', async () => {
    const { code, stdout } = await explain(
      '--user',
      'linus@example.com',
      '--app',
      'github',
      '--role',
      'owner',
      '--justification',
      'paged',
    );
    expect(code).toBe(0);
    expect(stdout).toContain('Outcome: auto approved. Approved automatically (auto_approve.when)');
  });

  it('shows the admin fallback when the requester has no manager', async () => {
    const { stdout } = await explain(
      '--user',
      'marcus@example.com',
      '--app',
      'laptop-admin',
      '--role',
      'admin',
      '--justification',
      'driver',
    );
    expect(stdout).toContain('manager (admin fallback: access-admins)');
    expect(stdout).toContain('fallback: marcus@example.com has no manager in the directory');
  });

  it('exits 0 for a not-eligible outcome: the explanation is the answer', async () => {
    const { code, stdout } = await explain('--user', 'dave@example.com', '--app', 'github', '--role', 'owner');
    expect(code).toBe(0);
    expect(stdout).toContain('Outcome: not eligible.');
    expect(stdout).toContain('deprovisioned');
  });

  it('finds the requester by login too, and prints JSON with --json', async () => {
    const { code, stdout } = await explain(
      '--user',
      'GRACE@example.com',
      '--app',
      'github',
      '--role',
      'member',
      '--json',
      '--at',
      '2025-01-01T00:00:00Z',
    );
    expect(code).toBe(0);
    const evaluation = JSON.parse(stdout) as { outcome: string; at: string; requester: { email: string } };
    expect(evaluation).toMatchObject({
      outcome: 'auto_approved',
      at: '2025-01-01T00:00:00.000Z',
      requester: { email: 'ciso@example.com' },
    });
  });

  it('exits 1 for an unknown user, app or role, listing what exists', async () => {
    const user = await explain('--user', 'nobody@example.com', '--app', 'github', '--role', 'owner');
    expect(user).toMatchObject({ code: 1, stdout: '' });
    expect(user.stderr).toContain('nobody@example.com is not in the directory');
    const app = await explain('--user', 'ada@example.com', '--app', 'gitlab', '--role', 'owner');
    expect(app.code).toBe(1);
    expect(app.stderr).toContain(
      'There is no application `gitlab`. Applications: `aws-prod` (AWS production), `billing` (Billing console), `github` (GitHub), `laptop-admin` (Laptop local admin).',
    );
    const role = await explain('--user', 'ada@example.com', '--app', 'github', '--role', 'admin');
    expect(role.code).toBe(1);
    expect(role.stderr).toContain(
      'GitHub has no role `admin`. Its roles: `owner` (Organization owner), `member` (Member).',
    );
  });

  it('exits 2 for missing options or a malformed duration or time', async () => {
    const missing = await explain('--app', 'github');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('missing --user, --role');
    const duration = await explain(
      '--user',
      'ada@example.com',
      '--app',
      'github',
      '--role',
      'owner',
      '--duration',
      'two hours',
    );
    expect(duration.code).toBe(2);
    expect(duration.stderr).toContain('--duration two hours is not a duration');
    const at = await explain('--user', 'ada@example.com', '--app', 'github', '--role', 'owner', '--at', 'yesterday');
    expect(at.code).toBe(2);
  });

  it('exits 1 and prints the problems when the policies are invalid', async () => {
    const { code, stderr } = await explain(
      '--user',
      'ada@example.com',
      '--app',
      'github',
      '--role',
      'owner',
      '--policies',
      'test/cli/fixtures/bad-policies',
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/bad-policies\/github\.yml:\d+:\d+/);
  });

  it('uses POLICIES_DIR and DIRECTORY_FILE from the environment', async () => {
    const { code, stderr } = await explain('--user', 'ada@example.com', '--app', 'github', '--role', 'owner');
    expect(code).toBe(0);
    expect(stderr).toBe('');
    const elsewhere = await cli(
      ['policies', 'explain', '--user', 'ada@example.com', '--app', 'github', '--role', 'owner'],
      { ...EXAMPLE_ENV, DIRECTORY_FILE: 'no/such.yml' },
    );
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain('no/such.yml');
  });

  it('runs the README example on a fresh clone, without the production secrets (item 11)', async () => {
    const { code, stdout, stderr } = await cli(
      [
        'policies',
        'explain',
        '--user',
        'marcus@example.com',
        '--app',
        'aws-prod',
        '--role',
        'admin',
        '--duration',
        '2h',
      ],
      {},
    );
    expect(code, stderr).toBe(0);
    expect(stdout).toContain('aws-prod');
  });
});
