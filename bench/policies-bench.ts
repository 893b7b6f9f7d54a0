/**
 * Policy benchmark: `node --import tsx bench/policies-bench.ts [--apps 500] [--requests 100000]`.
 *
 * 1. Generates a policy folder (500 apps of 2-4 roles) and a company of 2,000 people in a temp dir.
 * 2. Times `loadPolicies` (read, parse, validate, version every role) and the start-up check
 *    against the directory (`checkPoliciesAgainstDirectory` on a YamlDirectory).
 * 3. Evaluates 100,000 random requests. Directory facts are built once per requester-role pair,
 *    from in-memory maps and before the clock starts, so the figure is `evaluate()` itself.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { YamlDirectory } from '../src/adapters/directory/yaml-directory.js';
import { checkPoliciesAgainstDirectory } from '../src/adapters/policies/check-against-directory.js';
import { loadPolicies } from '../src/adapters/policies/load-policies.js';
import type { CatalogEntry } from '../src/domain/catalog.js';
import { evaluate, type DirectoryFacts, type Outcome } from '../src/domain/evaluate.js';
import type { Person } from '../src/domain/person.js';
import { generateBenchPolicies, seededRandom } from './generate-policies.js';

const { values } = parseArgs({
  options: {
    apps: { type: 'string', default: '500' },
    requests: { type: 'string', default: '100000' },
    people: { type: 'string', default: '2000' },
  },
});
const apps = Number(values.apps);
const requests = Number(values.requests);

const dir = await mkdtemp(join(tmpdir(), 'policies-bench-'));
try {
  const company = await generateBenchPolicies(dir, { apps, people: Number(values.people) });

  const t0 = performance.now();
  const loaded = await loadPolicies(dir, { env: company.env });
  const loadMs = performance.now() - t0;

  const directory = YamlDirectory.fromData(company.directory, 'bench directory');
  const t1 = performance.now();
  const { problems, unreachable } = await checkPoliciesAgainstDirectory(loaded, directory);
  const checkMs = performance.now() - t1;
  if (problems.length > 0 || unreachable) {
    console.error(
      problems
        .slice(0, 10)
        .map((p) => `${p.file}:${p.line}:${p.column} ${p.path}: ${p.message}`)
        .join('\n'),
      unreachable ?? '',
    );
    throw new Error(`the generated policies have ${problems.length} problems`);
  }

  // In-memory directory data: what gatherDirectoryFacts would read, without the async round trips.
  const people = directory.listPeople();
  const members = new Map<string, Person[]>();
  const groupsOf = new Map<string, string[]>();
  for (const group of directory.listGroups()) {
    const list = await directory.membersOf(group);
    members.set(group, list);
    for (const p of list) (groupsOf.get(p.id) ?? groupsOf.set(p.id, []).get(p.id)!).push(group);
  }
  const managers = new Map<string, Person | null>();
  for (const p of people) managers.set(p.id, await directory.managerOf(p.id));
  const byEmail = new Map(people.map((p) => [p.email.toLowerCase(), p]));
  const adminGroup = loaded.settings.adminGroup;

  const factsFor = (requester: Person, entry: CatalogEntry): DirectoryFacts => {
    const steps = entry.role.approval === 'auto' ? [] : entry.role.approval;
    const groupMembers: Record<string, Person[]> = { [adminGroup]: members.get(adminGroup) ?? [] };
    const users: Record<string, Person | null> = {};
    for (const step of steps) {
      if (step.kind === 'group') groupMembers[step.group] = members.get(step.group) ?? [];
      if (step.kind === 'user') users[step.user.toLowerCase()] = byEmail.get(step.user.toLowerCase()) ?? null;
    }
    return {
      requester,
      requesterGroups: groupsOf.get(requester.id) ?? [],
      manager: managers.get(requester.id) ?? null,
      groupMembers,
      users,
      adminGroup,
    };
  };

  // The requests, and their facts (once per pair), prepared before timing.
  const rand = seededRandom(7);
  const entries = loaded.catalog.entries();
  const factsCache = new Map<string, DirectoryFacts>();
  const work: {
    entry: CatalogEntry;
    facts: DirectoryFacts;
    durationSeconds: number | undefined;
    justification: string | undefined;
  }[] = [];
  for (let i = 0; i < requests; i++) {
    const requester = people[rand(people.length)]!;
    const entry = entries[rand(entries.length)]!;
    const key = `${requester.id}|${entry.role.policy}`;
    let facts = factsCache.get(key);
    if (!facts) factsCache.set(key, (facts = factsFor(requester, entry)));
    const durationSeconds = rand(3) === 0 ? undefined : [900, 3600, 14_400, 86_400, 604_800][rand(5)];
    work.push({ entry, facts, durationSeconds, justification: rand(4) === 0 ? undefined : 'benchmark' });
  }

  const outcomes: Record<Outcome, number> = {
    not_eligible: 0,
    invalid_request: 0,
    auto_approved: 0,
    needs_approval: 0,
    unsatisfiable: 0,
  };
  const now = new Date();
  const t2 = performance.now();
  for (const { entry, facts, durationSeconds, justification } of work) {
    outcomes[evaluate(entry.app, entry.role, entry.version, facts, { durationSeconds, justification }, now).outcome]++;
  }
  const evalMs = performance.now() - t2;

  const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
  console.log(
    `policies: ${loaded.policies.length} files, ${entries.length} roles; directory: ${people.length} people, ${directory.listGroups().length} groups`,
  );
  console.log(`loadPolicies:                  ${loadMs.toFixed(0)} ms`);
  console.log(`checkPoliciesAgainstDirectory: ${checkMs.toFixed(0)} ms`);
  console.log(
    `evaluate: ${fmt(requests)} requests (${fmt(factsCache.size)} distinct requester-role pairs) in ${evalMs.toFixed(0)} ms = ${fmt((requests / evalMs) * 1000)} evaluations/s`,
  );
  console.log(
    `outcomes: ${Object.entries(outcomes)
      .map(([k, v]) => `${k} ${fmt(v)}`)
      .join(', ')}`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
