/**
 * Three replicas on one PostgreSQL database revoke 2,000 expired grants (Okta group memberships)
 * against the Okta stand-in limited to 600 membership calls a minute: each replica runs its sweep
 * passes as the bot does (expiry, then the revocation jobs it claims), through the real SDK and
 * OktaDirectory, whose call gate shares Okta's rate-limit windows through the database.
 *
 *   node --import tsx bench/replicas-okta-revoke-bench.ts            # 600 per 60 s (at least 3.3 min)
 *   options: --count 2000 --limit 600 --window-ms 60000 --replicas 3
 *
 * Reports: the rate as a fraction of the limit (goal >= 0.9), 429s (goal: none repeated into a
 * window that already answered 429), revocations lost or repeated (must be 0).
 */
import { ReviewCatalog } from '../src/domain/reviews/review-definition.js';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { csvExportFiles } from '../src/adapters/csv/export-csv.js';
import { PgStore } from '../src/adapters/db/postgres/pg-store.js';
import { silentLogger } from '../src/adapters/log/json-logger.js';
import { OktaDirectory } from '../src/adapters/okta/okta-directory.js';
import { SharedRateWindows } from '../src/adapters/okta/shared-rate-windows.js';
import { createProvisioners } from '../src/adapters/provisioners/provisioners.js';
import { verifyChain } from '../src/domain/audit.js';
import { Catalog } from '../src/domain/catalog.js';
import type { Deps } from '../src/operations/context.js';
import { systemClock } from '../src/operations/ports.js';
import { sweep } from '../src/operations/sweep.js';
import { OktaStandIn } from '../test/okta/okta-stand-in.js';
import { callbackNotifier } from '../test/support/fakes.js';
import { SETTINGS } from '../test/support/lifecycle-harness.js';
import { startPgServer } from '../test/support/pg-server.js';
import { awsAdminPolicies } from './bench-fixtures.js';

const { values } = parseArgs({
  options: {
    count: { type: 'string', default: '2000' },
    limit: { type: 'string', default: '600' },
    'window-ms': { type: 'string', default: '60000' },
    replicas: { type: 'string', default: '3' },
    child: { type: 'string' },
    okta: { type: 'string' },
    token: { type: 'string' },
    index: { type: 'string' },
  },
});
const count = Number(values.count);
const limit = Number(values.limit);
const windowMs = Number(values['window-ms']);
const replicas = Number(values.replicas);
const GROUP = 'bench-group';
const userId = (i: number) => `00ub${String(i).padStart(5, '0')}`;

const policies = awsAdminPolicies(GROUP, GROUP);

// ---- a replica ---------------------------------------------------------------------------------
if (values.child) {
  const store = await PgStore.open(values.child, { poolSize: 4 });
  const directory = new OktaDirectory({
    orgUrl: values.okta!,
    auth: { mode: 'token', token: values.token! },
    managerAttribute: 'managerId',
    sharedRateLimits: new SharedRateWindows(store),
  });
  const deps: Deps = {
    store,
    directory,
    catalog: new Catalog(policies),
    reviews: new ReviewCatalog(),
    settings: { ...SETTINGS, remindersSeconds: [] },
    clock: systemClock,
    logger: silentLogger,
    provisioners: createProvisioners({ directory, env: {}, webhook: { call: async () => ({ status: 200 }) } }),
    notifier: callbackNotifier(() => {}),
    exportFiles: csvExportFiles(),
  };
  const jobs = { worker: `replica${values.index}`, batch: 50, baseDelaySeconds: 1 };
  process.send!({ ready: true });
  await new Promise((resolve) => process.once('message', resolve));
  // Sweep passes, as the bot's schedule runs them, until every grant is revoked.
  for (;;) {
    const s = await sweep(deps, jobs);
    const left = (await store.listGrants({ status: ['active', 'revoking'], limit: 1 })).length;
    if (left === 0) break;
    if (s.jobs.ran === 0) await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await store.close();
  process.exit(0);
}

// ---- the parent ----------------------------------------------------------------------------------
const server = await startPgServer({ fsync: true });
const okta = new OktaStandIn({
  rateLimits: {
    membership: { limit, windowMs },
    userGroups: { limit: 1200, windowMs },
    group: { limit: 1000, windowMs },
    groups: { limit: 600, windowMs },
  },
});
okta.addGroup({ id: '00gbench', name: GROUP });
for (let i = 0; i < count; i++)
  okta.addUser({ id: userId(i), email: `b${i}@example.com` }).addMember('00gbench', userId(i));
const { url: oktaUrl } = await okta.start();
try {
  const admin = new pg.Client({ connectionString: server.adminUrl });
  await admin.connect();
  await admin.query('CREATE DATABASE bench_revoke');
  await admin.end();
  const url = new URL(server.adminUrl);
  url.pathname = '/bench_revoke';
  const databaseUrl = url.toString();

  // 2,000 grants that expired a minute ago, each holding one membership.
  const seed = await PgStore.open(databaseUrl);
  const past = new Date(Date.now() - 60_000).toISOString();
  const before = new Date(Date.now() - 3_660_000).toISOString();
  await seed.transaction(async (tx) => {
    for (let i = 0; i < count; i++) {
      const holder = { directoryId: userId(i), email: `b${i}@example.com`, name: `B ${i}` };
      await tx.insertRequest({
        id: `req_b${i}`,
        kind: 'access',
        grantId: null,
        requester: holder,
        app: 'aws',
        role: 'admin',
        policyName: 'aws-admin',
        policyVersion: 'v',
        justification: '',
        requestedSeconds: 3600,
        grantedSeconds: 3600,
        status: 'approved',
        autoApproveRule: null,
        currentStep: -1,
        stepCount: 1,
        createdAt: before,
        approvalDeadline: past,
        decidedAt: before,
        decisionReason: null,
      });
      await tx.insertGrant({
        id: `grt_b${i}`,
        requestId: `req_b${i}`,
        holder,
        app: 'aws',
        role: 'admin',
        policyName: 'aws-admin',
        policyVersion: 'v',
        sensitive: true,
        breakGlass: false,
        snapshot: { provision: { method: 'okta_group', group: GROUP }, policyName: 'aws-admin', policyVersion: 'v' },
        alreadyMember: false,
        status: 'active',
        durationSeconds: 3600,
        maxTotalSeconds: null,
        extensionApproval: null,
        createdAt: before,
        activatedAt: before,
        expiresAt: past,
        revocationReason: null,
        revocationNote: null,
        revokedBy: null,
        revocationStartedAt: null,
        revokedAt: null,
        remindersSent: [],
        failures: 0,
        lastError: null,
      });
    }
  });

  const children = Array.from({ length: replicas }, (_, index) =>
    fork(
      import.meta.filename,
      ['--child', databaseUrl, '--okta', oktaUrl, '--token', okta.token, '--index', String(index)],
      {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    ),
  );
  await Promise.all(children.map((c) => once(c, 'message')));
  const started = Date.now();
  const exited = children.map((c) => once(c, 'exit'));
  children.forEach((c) => c.send({ go: true }));
  const codes = (await Promise.all(exited)).map(([code]) => code as number);
  const elapsedMs = Date.now() - started;

  const deletes = okta.matching('/api/v1/groups/00gbench/users/', 'DELETE');
  const answered = deletes.filter((r) => r.status === 204);
  const limited = deletes.filter((r) => r.status === 429);
  // A 429 repeated: a call sent into a window after that window already answered 429.
  const windowOf = (at: number) => Math.floor(at / windowMs);
  const firstLimited = new Map<number, number>();
  for (const r of limited) if (!firstLimited.has(windowOf(r.at))) firstLimited.set(windowOf(r.at), r.at);
  const repeated = limited.filter((r) => r.at > firstLimited.get(windowOf(r.at))!).length;
  const perUser = new Map<string, number>();
  for (const r of answered) perUser.set(r.path, (perUser.get(r.path) ?? 0) + 1);

  const events = await seed.auditEvents({ limit: 10_000_000 });
  const revokedEvents = events.filter((e) => e.action === 'grant.revoked');
  const perGrant = new Map<string, number>();
  for (const e of revokedEvents) perGrant.set(e.grantId!, (perGrant.get(e.grantId!) ?? 0) + 1);
  const revoked = (await seed.listGrants({ status: ['revoked'], limit: 10_000_000 })).length;
  const jobsPerWorker = await seed.listJobs({ limit: 10_000_000 });
  await seed.close();

  const minimumMs = (count / limit) * windowMs;
  console.log(
    `${replicas} replicas revoking ${count} grants, Okta limit ${limit} membership calls per ${windowMs / 1000} s (exit codes ${codes.join(', ')})`,
  );
  console.log(`  time: ${(elapsedMs / 1000).toFixed(1)} s (minimum at the limit: ${(minimumMs / 1000).toFixed(1)} s)`);
  console.log(
    `  rate: ${((count / elapsedMs) * 60_000).toFixed(0)} removals/min = ${(count / elapsedMs / (limit / windowMs)).toFixed(2)} of the limit`,
  );
  console.log(
    `  DELETE calls: ${deletes.length} (${answered.length} answered 204, ${limited.length} answered 429, ${repeated} of them into a window that had answered 429 already)`,
  );
  console.log(
    `  still members: ${okta.memberIds('00gbench').length}; users removed more than once: ${[...perUser.values()].filter((n) => n > 1).length}`,
  );
  console.log(
    `  grants revoked: ${revoked}/${count}; grant.revoked events: ${revokedEvents.length}; any grant revoked twice: ${[...perGrant.values()].some((n) => n > 1)}; chain ok: ${verifyChain(events).ok}`,
  );
  console.log(`  jobs: ${jobsPerWorker.length}, done ${jobsPerWorker.filter((j) => j.status === 'done').length}`);
} finally {
  await okta.stop();
  await server.stop();
}
