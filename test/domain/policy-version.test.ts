import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadPolicies } from '../../src/adapters/policies/load-policies.js';
import { canonicalDefinition, policyVersion } from '../../src/domain/policy-version.js';
import type { Role } from '../../src/domain/policy.js';
import { app, role } from './fixtures.js';

const base = role({
  sensitive: true,
  approval: [
    { kind: 'manager' },
    { kind: 'group', group: 'security-team', minApprovals: 2, notify: 'C0SECURITY' },
    { kind: 'user', user: 'ciso@example.com' },
  ],
  autoApprove: { requesterGroups: ['sre-oncall'], maxDurationSeconds: 3600 },
  extension: { maxTotalSeconds: 8 * 3600, approval: 'same' },
});
const version = (r: Role) => policyVersion(app(r), r);

describe('policy version', () => {
  it('is a SHA-256 in hex', () => {
    expect(version(base)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('does not depend on the order of keys in the definition', () => {
    const reordered = Object.fromEntries(Object.entries(base).reverse()) as unknown as Role;
    expect(version(reordered)).toBe(version(base));
  });

  it('spells durations canonically in the stored definition', () => {
    const definition = canonicalDefinition(app(base), base) as { role: { duration: unknown; auto_approve: unknown } };
    expect(definition.role.duration).toEqual({ default: '1h', max: '4h' });
    expect(definition.role.auto_approve).toEqual({ when: { requester_groups: ['sre-oncall'], max_duration: '1h' } });
  });

  it('treats a named approver case-insensitively', () => {
    expect(version({ ...base, approval: [{ kind: 'user', user: 'CISO@example.com' }] })).toBe(
      version({ ...base, approval: [{ kind: 'user', user: 'ciso@example.com' }] }),
    );
  });

  const changes: [string, Partial<Role>][] = [
    ['the name', { name: 'Owner (JIT)' }],
    ['sensitivity', { sensitive: false }],
    ['an eligible group', { eligibleGroups: ['platform-team', 'sre-oncall'] }],
    ['the default duration', { duration: { defaultSeconds: 1800, maxSeconds: 4 * 3600 } }],
    ['the maximum duration', { duration: { defaultSeconds: 3600, maxSeconds: 8 * 3600 } }],
    ['the justification rule', { justification: 'required' }],
    ['approval: auto', { approval: 'auto' }],
    [
      'the order of the steps',
      {
        approval: [
          { kind: 'group', group: 'security-team', minApprovals: 2, notify: 'C0SECURITY' },
          { kind: 'manager' },
          { kind: 'user', user: 'ciso@example.com' },
        ],
      },
    ],
    [
      'min_approvals',
      {
        approval: [
          { kind: 'manager' },
          { kind: 'group', group: 'security-team', minApprovals: 1, notify: 'C0SECURITY' },
          { kind: 'user', user: 'ciso@example.com' },
        ],
      },
    ],
    [
      'the notify channel',
      {
        approval: [
          { kind: 'manager' },
          { kind: 'group', group: 'security-team', minApprovals: 2 },
          { kind: 'user', user: 'ciso@example.com' },
        ],
      },
    ],
    ['the auto-approve groups', { autoApprove: { requesterGroups: ['platform-team'], maxDurationSeconds: 3600 } }],
    ['the auto-approve duration', { autoApprove: { requesterGroups: ['sre-oncall'], maxDurationSeconds: 7200 } }],
    ['no auto-approve', { autoApprove: undefined }],
    ['the extension limit', { extension: { maxTotalSeconds: 12 * 3600, approval: 'same' } }],
    ['the extension approval', { extension: { maxTotalSeconds: 8 * 3600, approval: 'auto' } }],
    ['extension: none', { extension: null }],
    ['the provisioned group', { provision: { method: 'okta_group', group: 'other-owners' } }],
    ['the provisioning method', { provision: { method: 'manual', assigneeGroup: 'it-helpdesk' } }],
  ];
  it.each(changes)('changes when %s changes', (_what, change) => {
    expect(version({ ...base, ...change })).not.toBe(version(base));
  });

  it('changes when the role moves to another app', () => {
    expect(policyVersion({ ...app(base), app: 'gitlab' }, base)).not.toBe(version(base));
  });
});

describe('policy version of YAML files', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  async function versionOf(policyYaml: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'policy-version-'));
    dirs.push(dir);
    await writeFile(join(dir, 'settings.yml'), 'admin_group: access-admins\nsecurity_channel: C0SECURITY\n');
    await writeFile(join(dir, 'github.yml'), policyYaml);
    const loaded = await loadPolicies(dir, { env: {} });
    const [entry] = loaded.catalog.entries();
    if (!entry) throw new Error('no role loaded');
    return entry.version;
  }

  const original = `app: github
name: GitHub
roles:
  - id: owner
    name: Owner
    policy: github-owner
    eligible_groups: [platform-team]
    duration: { default: 1h, max: 4h }
    justification: required
    approval:
      - manager
      - group: security-team
        min_approvals: 2
    extension: { max_total: 8h, approval: same }
    provision: { okta_group: github-owners }
`;

  it('does not change with key order, layout, comments or the spelling of a duration', async () => {
    const respelled = `# GitHub, reformatted
name: GitHub
app: github
roles:
  - provision:
      okta_group: github-owners
    extension:
      approval: same
      max_total: 480m
    approval:
      - manager
      - min_approvals: 2
        group: security-team
    justification: required
    duration:
      max: 240m
      default: 60m
    eligible_groups:
      - platform-team
    policy: github-owner
    name: Owner
    id: owner
`;
    expect(await versionOf(respelled)).toBe(await versionOf(original));
  });

  it('changes when any rule changes', async () => {
    const before = await versionOf(original);
    expect(await versionOf(original.replace('max: 4h', 'max: 5h'))).not.toBe(before);
    expect(await versionOf(original.replace('min_approvals: 2', 'min_approvals: 1'))).not.toBe(before);
    expect(await versionOf(original.replace('[platform-team]', '[platform-team, sre-oncall]'))).not.toBe(before);
  });
});
