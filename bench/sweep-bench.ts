/**
 * Sweep benchmark: the bot's own overhead for one sweep over a large database.
 *
 *   node --import tsx bench/sweep-bench.ts [--grants 100000] [--due 5000] [--groups 20]
 *
 * Seeds a SQLite file (WAL, as in production) with `--grants` active grants (and their requests
 * and finished provisioning jobs) in one transaction of direct SQL; `--due` of them are past their
 * expiry, the rest expire in 2-30 days (so no reminder is due: the figure is the revocation path).
 * The directory, provisioner and Slack are instant in-memory stand-ins, so what is measured is
 * SQLite, the audit chain, the job runner and the operations themselves.
 *
 * Reports: the first sweep (5,000 revocations started, run, confirmed and told), per due grant;
 * a second sweep with nothing due (the steady cost of every minute); reminders for 5,000 grants;
 * the weekly digest; a reconcile pass over every holder and group.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import { csvExportFiles } from '../src/adapters/csv/export-csv.js';
import { SqliteStore } from '../src/adapters/db/sqlite-store.js';
import { createProvisioners } from '../src/adapters/provisioners/provisioners.js';
import { silentLogger } from '../src/adapters/log/json-logger.js';
import { verifyChain } from '../src/domain/audit.js';
import { Catalog } from '../src/domain/catalog.js';
import { ReviewCatalog } from '../src/domain/reviews/review-definition.js';
import type { Person } from '../src/domain/person.js';
import type { LoadedPolicy, Settings } from '../src/domain/policy.js';
import { buildDigest } from '../src/operations/build-digest.js';
import type { Deps } from '../src/operations/context.js';
import type { Clock, Directory, DirectoryGroup } from '../src/operations/ports.js';
import { reconcile } from '../src/operations/reconcile.js';
import { expireGrants } from '../src/operations/revoke-grant.js';
import { runDueJobs } from '../src/operations/run-jobs.js';
import { sendReminders, sweep } from '../src/operations/sweep.js';
import { callbackNotifier } from '../test/support/fakes.js';
import { SETTINGS } from '../test/support/lifecycle-harness.js';

const { values } = parseArgs({
  options: {
    grants: { type: 'string', default: '100000' },
    due: { type: 'string', default: '5000' },
    groups: { type: 'string', default: '20' },
    keep: { type: 'boolean' },
  },
});
const GRANTS = Number(values.grants);
const DUE = Number(values.due);
const GROUPS = Number(values.groups);

const NOW = Date.parse('2026-03-09T09:00:00.000Z');
const iso = (ms: number) => new Date(ms).toISOString();
const clock = {
  ms: NOW,
  now() {
    return new Date(this.ms);
  },
} satisfies Clock & { ms: number };

/** Every call answers at once from memory: the directory costs nothing here. */
class InstantDirectory implements Directory {
  readonly kind = 'bench';
  forOperation(): Directory {
    return this;
  }
  readonly members = new Map<string, Set<string>>();
  calls = 0;
  private person(id: string): Person {
    return { id, email: `${id}@example.com`, login: `${id}@example.com`, name: id, status: 'active', active: true };
  }
  async findPerson(email: string) {
    this.calls++;
    return this.person(email.split('@')[0]!);
  }
  async getPerson(id: string) {
    this.calls++;
    return this.person(id);
  }
  async groupsOf(id: string) {
    this.calls++;
    return [...this.members].filter(([, m]) => m.has(id)).map(([g]) => g);
  }
  async membersOf(group: string) {
    this.calls++;
    return [...(this.members.get(group) ?? [])].map((id) => this.person(id));
  }
  async findGroup(name: string): Promise<DirectoryGroup> {
    this.calls++;
    return { id: name, name, manageable: true, type: 'OKTA_GROUP' };
  }
  async managerOf() {
    this.calls++;
    return null;
  }
  async isMember(id: string, group: string) {
    this.calls++;
    return this.members.get(group)?.has(id) ?? false;
  }
  async addToGroup(id: string, group: string) {
    this.calls++;
    (this.members.get(group) ?? this.members.set(group, new Set()).get(group)!).add(id);
  }
  async removeFromGroup(id: string, group: string) {
    this.calls++;
    this.members.get(group)?.delete(id);
  }
}

const groupName = (i: number) => `app${i % GROUPS}-admins`;
const policies: LoadedPolicy[] = Array.from({ length: GROUPS }, (_, i) => ({
  app: `app${i}`,
  name: `App ${i}`,
  source: { file: 'bench' },
  roles: [
    {
      id: 'admin',
      name: 'Administrator',
      policy: `app${i}-admin`,
      sensitive: i % 4 === 0,
      eligibleGroups: ['everyone'],
      duration: { defaultSeconds: 3600, maxSeconds: 30 * 86400 },
      justification: 'optional',
      approval: 'auto',
      extension: null,
      provision: { method: 'okta_group', group: groupName(i) },
    },
  ],
}));
const settings: Settings = SETTINGS;

/** Seeds the file directly (100,000 grants through the store would take minutes). */
function seed(path: string, directory: InstantDirectory): void {
  const db = new Database(path);
  const insertRequest =
    db.prepare(`insert into requests (id, kind, grant_id, requester_id, requester_email, requester_name, app, role, policy_name, policy_version,
    justification, requested_seconds, granted_seconds, status, current_step, step_count, created_at, approval_deadline, decided_at)
    values (?, 'access', ?, ?, ?, ?, ?, 'admin', ?, 'v1', 'bench', ?, ?, 'approved', -1, 0, ?, ?, ?)`);
  const insertGrant =
    db.prepare(`insert into grants (id, request_id, holder_id, holder_email, holder_name, app, role, policy_name, policy_version, sensitive, snapshot,
    provision_group, already_member, status, duration_seconds, created_at, activated_at, expires_at, reminders_sent, failures)
    values (?, ?, ?, ?, ?, ?, 'admin', ?, 'v1', ?, ?, ?, 0, 'active', ?, ?, ?, ?, '[]', 0)`);
  const insertJob = db.prepare(
    `insert into jobs (key, kind, payload, status, attempts, run_at, created_at, updated_at) values (?, 'provision', ?, 'done', 1, ?, ?, ?)`,
  );
  db.transaction(() => {
    for (let i = 0; i < GRANTS; i++) {
      const id = `grt_${String(i).padStart(7, '0')}`;
      const req = `req_${String(i).padStart(7, '0')}`;
      const holder = `u${i % Math.ceil(GRANTS / 2)}`; // two grants per person on average
      const app = `app${i % GROUPS}`;
      const group = groupName(i);
      const activated = NOW - 3 * 86400_000;
      // The first DUE grants expired in the last hour; the rest expire in 2-30 days.
      const expires = i < DUE ? NOW - 1000 - (i % 3600) * 1000 : NOW + 2 * 86400_000 + (i % (28 * 86400)) * 1000;
      const seconds = Math.round((expires - activated) / 1000);
      insertRequest.run(
        req,
        id,
        holder,
        `${holder}@example.com`,
        holder,
        app,
        `${app}-admin`,
        seconds,
        seconds,
        iso(activated),
        iso(activated),
        iso(activated),
      );
      const snapshot = JSON.stringify({
        provision: { method: 'okta_group', group },
        policyName: `${app}-admin`,
        policyVersion: 'v1',
      });
      insertGrant.run(
        id,
        req,
        holder,
        `${holder}@example.com`,
        holder,
        app,
        `${app}-admin`,
        (i % GROUPS) % 4 === 0 ? 1 : 0,
        snapshot,
        group,
        seconds,
        iso(activated),
        iso(activated),
        iso(expires),
      );
      insertJob.run(
        `provision:${id}`,
        JSON.stringify({ kind: 'provision', grantId: id }),
        iso(activated),
        iso(activated),
        iso(activated),
      );
      (directory.members.get(group) ?? directory.members.set(group, new Set()).get(group)!).add(holder);
    }
  })();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.exec('analyze');
  db.close();
}

const dir = mkdtempSync(join(tmpdir(), 'sweep-bench-'));
try {
  const store = SqliteStore.open(join(dir, 'access.db'));
  const directory = new InstantDirectory();
  let t = performance.now();
  seed(join(dir, 'access.db'), directory);
  const seedMs = performance.now() - t;

  const deps: Deps = {
    store,
    directory,
    catalog: new Catalog(policies),
    reviews: new ReviewCatalog(),
    settings,
    clock,
    logger: silentLogger,
    provisioners: createProvisioners({ directory, env: {}, webhook: { call: async () => ({ status: 200 }) } }),
    notifier: callbackNotifier(() => {}),
    exportFiles: csvExportFiles(),
  };
  const ms = (x: number) => `${x.toFixed(0)} ms`;
  const lines: string[] = [
    `seeded ${GRANTS.toLocaleString('en-US')} active grants (${DUE.toLocaleString('en-US')} due) in ${ms(seedMs)}`,
  ];

  t = performance.now();
  const started = await expireGrants(deps);
  const expireMs = performance.now() - t;
  const jobsStart = performance.now();
  const jobRun = await runDueJobs(deps, { worker: 'bench' });
  const jobsMs = performance.now() - jobsStart;
  const rest = await sweep(deps, { worker: 'bench' });
  const firstMs = performance.now() - t;
  const first = { expiredGrants: started + rest.expiredGrants, jobs: { done: jobRun.done + rest.jobs.done } };
  const revoked = (await store.listGrants({ status: ['revoked'], limit: GRANTS })).length;
  if (first.expiredGrants !== DUE || revoked !== DUE)
    throw new Error(`expected ${DUE} revoked, got ${first.expiredGrants} started and ${revoked} revoked`);
  lines.push(
    `sweep with ${DUE} due: ${ms(firstMs)} (${(firstMs / DUE).toFixed(3)} ms per due grant; ${first.jobs.done} jobs: ${DUE} revocations + ${first.jobs.done - DUE} messages)`,
    `  of which: starting ${started} revocations ${ms(expireMs)}, running the jobs ${ms(jobsMs)}`,
  );

  clock.ms += 60_000;
  const idle: number[] = [];
  for (let i = 0; i < 5; i++) {
    t = performance.now();
    await sweep(deps, { worker: 'bench' });
    idle.push(performance.now() - t);
    clock.ms += 60_000;
  }
  lines.push(`sweep with nothing due (the every-minute cost): median ${ms(idle.sort((a, b) => a - b)[2]!)} of 5`);

  // Reminders: move to where the first 5,000 of the rest are inside their "1 day left" window.
  const before = clock.ms;
  clock.ms = NOW + 86400_000 + 2 * DUE * 1000;
  t = performance.now();
  const reminded = await sendReminders(deps);
  const remindMs = performance.now() - t;
  t = performance.now();
  const again = await sendReminders(deps);
  const remindAgainMs = performance.now() - t;
  lines.push(`reminders: ${reminded} sent in ${ms(remindMs)}; the next pass finds ${again} in ${ms(remindAgainMs)}`);
  clock.ms = before;

  t = performance.now();
  const digest = await buildDigest(deps, clock.now());
  lines.push(
    `digest: ${ms(performance.now() - t)} (${digest.sensitiveHolders.length} sensitive holders, ${digest.revoked.length} revoked this week)`,
  );

  t = performance.now();
  directory.calls = 0;
  const rec = await reconcile(deps);
  lines.push(
    `reconcile: ${ms(performance.now() - t)} (${rec.offboarding.checked} holders checked, ${rec.groups.length} groups, ${rec.driftDetected} drift, ${directory.calls} directory calls)`,
  );

  t = performance.now();
  const chain = verifyChain(await store.auditEvents({ limit: Number.MAX_SAFE_INTEGER }));
  if (!chain.ok) throw new Error('audit chain broken');
  lines.push(`audit chain: ${chain.count} events verified in ${ms(performance.now() - t)}`);
  await store.close();
  process.stdout.write(lines.join('\n') + '\n');
} finally {
  if (values.keep) process.stdout.write(`database kept in ${dir}\n`);
  else rmSync(dir, { recursive: true, force: true });
}
