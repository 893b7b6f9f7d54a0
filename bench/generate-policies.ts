/**
 * Generates a large, realistic policy folder and a matching directory for the benchmark:
 * `apps` policy files of 2-4 roles each, with manager/group/user chains, auto-approval rules, the
 * three provisioning methods and every extension form; a company of `people` in teams.
 * Deterministic for a given seed.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface GeneratedCompany {
  /** Data for `YamlDirectory.fromData`. */
  directory: { people: Record<string, unknown>[]; groups: Record<string, { type?: string; members: string[] }> };
  /** The environment the generated webhook policies need. */
  env: Record<string, string>;
}

export function seededRandom(seed: number): (n: number) => number {
  // mulberry32
  let state = seed | 0;
  return (n: number) => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
}

export async function generateBenchPolicies(
  dir: string,
  options: { apps?: number; people?: number; seed?: number } = {},
): Promise<GeneratedCompany> {
  const apps = options.apps ?? 500;
  const peopleCount = options.people ?? 2000;
  const rand = seededRandom(options.seed ?? 42);
  const pick = <T>(items: readonly T[]): T => items[rand(items.length)] as T;

  // The company: teams of ~20 with a manager each, approver groups of 3-12, 5 admins.
  const teams = Math.max(1, Math.ceil(peopleCount / 20));
  const people: Record<string, unknown>[] = [];
  const groups: GeneratedCompany['directory']['groups'] = {};
  const add = (group: string, email: string) => (groups[group] ??= { members: [] }).members.push(email);
  for (let i = 0; i < peopleCount; i++) {
    const team = i % teams;
    const isManager = i < teams;
    const email = `person${i}@bench.example.com`;
    const status = rand(100) === 0 ? 'deprovisioned' : rand(200) === 0 ? 'suspended' : 'active';
    people.push({
      id: `00u${i.toString(36).padStart(6, '0')}`,
      email,
      name: `Person ${i}`,
      title: isManager ? 'Manager' : 'Engineer',
      status,
      ...(isManager ? {} : { manager: `person${team}@bench.example.com` }),
    });
    add('everyone', email);
    add(`team-${team}`, email);
    if (rand(10) === 0) add('oncall', email);
  }
  const approverGroups = 40;
  for (let g = 0; g < approverGroups; g++) {
    const size = 3 + rand(10);
    for (let k = 0; k < size; k++) add(`approvers-${g}`, `person${rand(peopleCount)}@bench.example.com`);
    groups[`approvers-${g}`]!.members = [...new Set(groups[`approvers-${g}`]!.members)];
  }
  for (let k = 0; k < 5; k++) add('access-admins', `person${peopleCount - 1 - k}@bench.example.com`);
  for (let k = 0; k < 4; k++) add('it-helpdesk', `person${peopleCount - 10 - k}@bench.example.com`);
  groups.oncall ??= { members: [] };

  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, 'settings.yml'),
    stringify({
      admin_group: 'access-admins',
      security_channel: 'C0SECURITY',
      alerts_channel: 'C0ACCESSOPS',
      timezone: 'Europe/Berlin',
      approval_timeout: '72h',
      reminders: ['1d', '1h'],
    }),
  );

  const durations: [string, string][] = [
    ['15m', '1h'],
    ['1h', '4h'],
    ['1h', '8h'],
    ['4h', '1d'],
    ['1d', '7d'],
    ['7d', '30d'],
    ['30d', '90d'],
  ];
  for (let a = 0; a < apps; a++) {
    const app = `app-${a}`;
    const roleCount = 2 + rand(3);
    const roles = [];
    for (let r = 0; r < roleCount; r++) {
      const id = `role-${r}`;
      const [def, max] = pick(durations);
      const eligible = [
        ...new Set(Array.from({ length: 1 + rand(3) }, () => (rand(4) === 0 ? 'everyone' : `team-${rand(teams)}`))),
      ];
      const steps: unknown[] = [];
      const chainKind = rand(10);
      if (chainKind > 0) {
        steps.push('manager');
        if (chainKind > 4)
          steps.push({
            group: `approvers-${rand(approverGroups)}`,
            min_approvals: 1 + rand(2),
            ...(rand(3) === 0 ? { notify: `C0APP${a}` } : {}),
          });
        if (chainKind > 7) steps.push({ user: `person${rand(peopleCount)}@bench.example.com` });
      }
      const provisionKind = rand(10);
      let provision: Record<string, unknown>;
      if (provisionKind < 7) {
        const group = `${app}-${id}`;
        groups[group] = { members: [] };
        provision = { okta_group: group };
      } else if (provisionKind < 9) {
        provision = {
          webhook: {
            url: `https://${app}.internal.example.com/hooks`,
            secret_env: 'BENCH_HOOK_SECRET',
            timeout: '10s',
          },
        };
      } else {
        provision = { manual: { assignee_group: 'it-helpdesk' } };
      }
      roles.push({
        id,
        name: `Role ${r} of ${app}`,
        policy: `${app}-${id}`,
        ...(rand(4) === 0 ? { sensitive: true } : {}),
        eligible_groups: eligible,
        duration: { default: def, max },
        justification: rand(2) === 0 ? 'required' : 'optional',
        approval: steps.length === 0 ? 'auto' : steps,
        ...(steps.length > 0 && rand(3) === 0
          ? { auto_approve: { when: { requester_groups: ['oncall'], max_duration: def } } }
          : {}),
        extension: pick(['none', { max_total: max, approval: 'same' }, { max_total: max, approval: 'auto' }] as const),
        provision,
      });
    }
    await writeFile(
      join(dir, `${app}.yml`),
      stringify({ app, name: `Application ${a}`, description: `Generated application ${a}`, roles }),
    );
  }
  return { directory: { people, groups }, env: { BENCH_HOOK_SECRET: 'bench-secret' } };
}
