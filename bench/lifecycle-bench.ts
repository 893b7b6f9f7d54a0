/**
 * 10,000 requests through submit -> approve -> provision -> expire -> revoke on a SQLite file, in one
 * process; then 10,000 expired grants swept by two processes on the same file at once (no double
 * revocation, no SQLITE_BUSY, an unbroken audit chain).
 *
 *   node --import tsx bench/lifecycle-bench.ts [--requests 10000] [--one] [--postgres] [--stream-to URL] [--json]
 *
 * `--one`: the one-process lifecycle only. Besides wall time it prints the process's CPU time (user +
 * system) per request: on a shared machine the wall time also counts the time other processes had
 * the cores, the CPU time does not. Profile it with `node --cpu-prof` and bench/profile-summary.ts.
 *
 * `--postgres`: the one-process lifecycle on PostgreSQL (an embedded server with fsync on, started
 * for the run, or `PG_TEST_URL`), the store the bot uses with DATABASE_URL.
 *
 * `--stream-to URL` runs the audit stream during the lifecycle, as the bot does: two sinks, a
 * webhook to URL (a receiver in another process, HMAC key `bench-audit-secret`, plain http to
 * loopback) and a JSON-lines file, each streamed by its own loop in this process. The lifecycle's
 * time is measured as without; the time the sinks then take to catch up is printed apart.
 * bench/audit-stream-bench.ts compares the two. `--json` prints the one-process figures as one
 * JSON line.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { AuditStreamer } from '../src/adapters/audit-stream/audit-streamer.js';
import { createAuditSinks } from '../src/adapters/audit-stream/create-sinks.js';
import { csvExportFiles } from '../src/adapters/csv/export-csv.js';
import { PgStore } from '../src/adapters/db/postgres/pg-store.js';
import { SqliteStore } from '../src/adapters/db/sqlite-store.js';
import { createProvisioners } from '../src/adapters/provisioners/provisioners.js';
import { silentLogger } from '../src/adapters/log/json-logger.js';
import { Catalog } from '../src/domain/catalog.js';
import { ReviewCatalog } from '../src/domain/reviews/review-definition.js';
import { verifyChain } from '../src/domain/audit.js';
import { SINK_DEFAULTS, type AuditSinkSettings } from '../src/domain/audit-sinks.js';
import type { Deps } from '../src/operations/context.js';
import { forOperation } from '../src/operations/operation-scope.js';
import type { Store } from '../src/operations/ports.js';
import { reviewRequest } from '../src/operations/review-request.js';
import { runDueJobs } from '../src/operations/run-jobs.js';
import { submitRequest } from '../src/operations/submit-request.js';
import { sweep } from '../src/operations/sweep.js';
import { callbackNotifier, FakeClock } from '../test/support/fakes.js';
import { startPgServer } from '../test/support/pg-server.js';
import { SETTINGS } from '../test/support/lifecycle-harness.js';
import type { YamlDirectory } from '../src/adapters/directory/yaml-directory.js';
import { awsAdminPolicies, benchCompany } from './bench-fixtures.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    child: { type: 'string' },
    db: { type: 'string' },
    at: { type: 'string' },
    one: { type: 'boolean' },
    postgres: { type: 'boolean' },
    'stream-to': { type: 'string' },
    json: { type: 'boolean', default: false },
  },
});
const N = Number(values.requests);

const policies = awsAdminPolicies('engineering', 'aws-admins');

function depsFor(
  dbPath: string,
  directory: YamlDirectory,
  clock: FakeClock,
  store: Store = SqliteStore.open(dbPath),
): Deps {
  return {
    store,
    directory,
    catalog: new Catalog(policies),
    reviews: new ReviewCatalog(),
    settings: { ...SETTINGS, remindersSeconds: [] },
    clock,
    logger: silentLogger,
    provisioners: createProvisioners({ directory, env: {}, webhook: { call: async () => ({ status: 200 }) } }),
    notifier: callbackNotifier(() => {}),
    exportFiles: csvExportFiles(),
  };
}

const jobs = { worker: `bench-${process.pid}`, batch: 500 };

/**
 * Async contexts started (AsyncLocalStorage.run / enterWith): on Node 20 the first one keeps promise
 * hooks on for the rest of the process, which every promise pays for. The lifecycle starts none.
 */
let asyncContextsStarted = 0;
for (const name of ['run', 'enterWith'] as const) {
  const original = AsyncLocalStorage.prototype[name] as (...args: unknown[]) => unknown;
  Object.defineProperty(AsyncLocalStorage.prototype, name, {
    value(this: AsyncLocalStorage<unknown>, ...args: unknown[]) {
      asyncContextsStarted++;
      return original.apply(this, args);
    },
  });
}

/** Write transactions committed or rolled back through the store, counted by `countTransactions`. */
let transactionsSoFar = 0;
function countTransactions(store: Store): Store {
  const transaction = store.transaction.bind(store);
  const counted: Store['transaction'] = (fn) => {
    transactionsSoFar++;
    return transaction(fn);
  };
  return Object.assign(store, { transaction: counted });
}

/** The audit stream as the bot runs it: a webhook sink to `url` and a file sink in `dir`. */
function benchStreamer(deps: Deps, url: string, dir: string): AuditStreamer {
  const common = {
    format: 'json',
    batchSize: SINK_DEFAULTS.batchSize,
    alertAfterSeconds: SINK_DEFAULTS.alertAfterSeconds,
  } as const;
  const configured: AuditSinkSettings[] = [
    { ...common, name: 'siem', type: 'webhook', url, secretEnv: 'BENCH_AUDIT_SECRET', timeoutSeconds: 10 },
    { ...common, name: 'archive', type: 'file', path: 'audit-stream.jsonl', maxBytes: SINK_DEFAULTS.maxBytes, keep: 2 },
  ];
  const sinks = createAuditSinks(configured, {
    env: { BENCH_AUDIT_SECRET: 'bench-audit-secret' },
    allowInsecureLoopback: true,
    baseDir: dir,
  });
  return new AuditStreamer(deps, { sinks });
}

if (values.child === 'sweeper') {
  // One of two processes sweeping the same file: count what this one removed.
  const directory = benchCompany(N, true);
  let removals = 0;
  const remove = directory.removeFromGroup.bind(directory);
  directory.removeFromGroup = async (p, g) => {
    removals++;
    return remove(p, g);
  };
  const clock = new FakeClock(values.at);
  const deps = depsFor(values.db!, directory, clock);
  let busy = 0;
  const started = performance.now();
  for (let pass = 0; pass < 50; pass++) {
    try {
      const s = await sweep(deps, jobs);
      if (s.expiredGrants === 0 && s.jobs.ran === 0 && pass > 0) break;
    } catch (error) {
      if (String((error as { code?: string }).code).startsWith('SQLITE_BUSY')) busy++;
      else throw error;
    }
  }
  process.stdout.write(JSON.stringify({ removals, busy, ms: performance.now() - started }) + '\n');
  await deps.store.close();
  process.exit(0);
}

const dir = mkdtempSync(join(tmpdir(), 'access-bot-bench-'));
try {
  // ---- one process: the whole lifecycle ------------------------------------------------------
  const dbPath = join(dir, 'one.db');
  const clock = new FakeClock('2026-03-02T09:00:00.000Z');
  const pgServer = values.postgres ? await startPgServer({ fsync: true }) : undefined;
  const store = countTransactions(pgServer ? await PgStore.open(pgServer.adminUrl) : SqliteStore.open(dbPath));
  const deps = depsFor(dbPath, benchCompany(N, false), clock, store);
  const manager = { person: (await deps.directory.getPerson('m0'))! };
  const streamer = values['stream-to'] ? benchStreamer(deps, values['stream-to'], dir) : undefined;
  let streamedTo = 0;
  streamer?.onEvent((event) => {
    if (event.kind === 'step' && event.step.kind === 'delivered' && event.sink === 'siem') streamedTo = event.step.to;
  });
  streamer?.start();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const transactions0 = transactionsSoFar;
  const BATCH = 1000;
  for (let start = 0; start < N; start += BATCH) {
    for (let i = start; i < Math.min(N, start + BATCH); i++) {
      const requester = { person: (await deps.directory.getPerson(`u${i}`))! };
      // Each one an operation of its own, as the listener router runs it.
      const result = await submitRequest(forOperation(deps), { requester, app: 'aws', role: 'admin' });
      if (result.kind !== 'submitted') throw new Error(result.kind);
      await reviewRequest(forOperation(deps), { actor: manager, requestId: result.request.id, decision: 'approve' });
      // Each request and decision arrives in a turn of the event loop of its own, as Slack's HTTP
      // requests do: whatever else the process runs (the audit stream) gets its turns between them.
      await new Promise((resolve) => setImmediate(resolve));
    }
    await runDueJobs(deps, jobs); // provision + messages
  }
  const tProvisioned = performance.now();
  clock.advance(3600);
  await sweep(deps, jobs); // expire -> revoke
  const t1 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const transactions = transactionsSoFar - transactions0;
  let catchUpSeconds: number | undefined;
  const streamedAtEnd = streamedTo;
  if (streamer) {
    // The sinks catch up on what the lifecycle wrote after it finished (not part of its time).
    const head = (await deps.store.auditHead()).seq;
    while (streamedTo < head) await new Promise((resolve) => setTimeout(resolve, 20));
    catchUpSeconds = (performance.now() - t1) / 1000;
    await streamer.stop();
  }
  const events = await deps.store.auditEvents({ limit: 10_000_000 });
  const revoked = (await deps.store.listGrants({ status: ['revoked'], limit: 10_000_000 })).length;
  const chain = verifyChain(events);
  await deps.store.close();
  const seconds = (t1 - t0) / 1000;
  console.log(
    `one process, ${N} requests: ${seconds.toFixed(1)} s (${(N / seconds).toFixed(0)} requests/s end to end; provisioning phase ${((tProvisioned - t0) / 1000).toFixed(1)} s)`,
  );
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  console.log(
    `  CPU time: ${cpuSeconds.toFixed(1)} s (${((cpuSeconds * 1000) / N).toFixed(2)} ms per request, ${(N / cpuSeconds).toFixed(0)} requests per CPU second; user ${(cpu.user / 1e6).toFixed(1)} s, system ${(cpu.system / 1e6).toFixed(1)} s)`,
  );
  console.log(`  write transactions: ${transactions} (${(transactions / N).toFixed(2)} per request)`);
  console.log(`  async contexts started (AsyncLocalStorage): ${asyncContextsStarted}`);
  if (asyncContextsStarted > 0)
    throw new Error('the lifecycle started an AsyncLocalStorage context: promise hooks stay on');
  console.log(
    `  audit events: ${events.length} (${(events.length / seconds).toFixed(0)}/s), revoked: ${revoked}, chain ok: ${chain.ok}`,
  );
  if (catchUpSeconds !== undefined) {
    console.log(
      `  audit stream on (webhook + file): ${streamedAtEnd} of ${events.length} events delivered when the lifecycle ended, all ${catchUpSeconds.toFixed(2)} s later`,
    );
  }
  if (values.json) {
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    console.log(
      JSON.stringify({
        requests: N,
        seconds,
        cpuSeconds,
        provisioningSeconds: (tProvisioned - t0) / 1000,
        transactions,
        events: events.length,
        chainOk: chain.ok,
        stream: Boolean(streamer),
        streamedAtEnd,
        catchUpSeconds,
      }),
    );
  }
  if (pgServer) await pgServer.stop();
  else
    console.log(
      `  database: ${(statSync(dbPath).size / 1e6).toFixed(1)} MB (+ WAL ${(statSync(dbPath + '-wal', { throwIfNoEntry: false })?.size ?? 0) / 1e6} MB)`,
    );

  if (!values.one && !values.postgres) await sweepWithTwoProcesses(dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** 10,000 expired grants swept by two processes on one file at once. */
async function sweepWithTwoProcesses(dir: string): Promise<void> {
  const sharedPath = join(dir, 'two.db');
  const seedClock = new FakeClock('2026-03-02T09:00:00.000Z');
  const seed = depsFor(sharedPath, benchCompany(N, true), seedClock);
  await seed.store.transaction(async (tx) => {
    for (let i = 0; i < N; i++) {
      const id = `req_seed${i}`;
      await tx.insertRequest({
        id,
        kind: 'access',
        grantId: null,
        requester: { directoryId: `u${i}`, email: `user${i}@example.com`, name: `User ${i}` },
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
        createdAt: '2026-03-02T08:00:00.000Z',
        approvalDeadline: '2026-03-05T08:00:00.000Z',
        decidedAt: '2026-03-02T08:00:00.000Z',
        decisionReason: null,
      });
      await tx.insertGrant({
        id: `grt_seed${i}`,
        requestId: id,
        holder: { directoryId: `u${i}`, email: `user${i}@example.com`, name: `User ${i}` },
        app: 'aws',
        role: 'admin',
        policyName: 'aws-admin',
        policyVersion: 'v',
        sensitive: true,
        breakGlass: false,
        snapshot: {
          provision: { method: 'okta_group', group: 'aws-admins' },
          policyName: 'aws-admin',
          policyVersion: 'v',
        },
        alreadyMember: false,
        status: 'active',
        durationSeconds: 3600,
        maxTotalSeconds: null,
        extensionApproval: null,
        createdAt: '2026-03-02T08:00:00.000Z',
        activatedAt: '2026-03-02T08:00:00.000Z',
        expiresAt: '2026-03-02T09:00:00.000Z',
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
  await seed.store.close();
  const run = () => {
    const proc = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, 'lifecycle-bench.ts'),
        '--child',
        'sweeper',
        '--db',
        sharedPath,
        '--requests',
        String(N),
        '--at',
        '2026-03-02T09:30:00.000Z',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
    return once(proc, 'exit').then(() => JSON.parse(out) as { removals: number; busy: number; ms: number });
  };
  const t2 = performance.now();
  const [a, b] = await Promise.all([run(), run()]);
  const t3 = performance.now();
  const check = SqliteStore.open(sharedPath);
  const all = await check.auditEvents({ limit: 10_000_000 });
  const revokedEvents = all.filter((e) => e.action === 'grant.revoked').length;
  const perGrant = new Map<string, number>();
  for (const e of all) if (e.action === 'grant.revoked') perGrant.set(e.grantId!, (perGrant.get(e.grantId!) ?? 0) + 1);
  console.log(`two processes sweeping ${N} expired grants: ${((t3 - t2) / 1000).toFixed(1)} s`);
  console.log(
    `  removals: ${a.removals} + ${b.removals} = ${a.removals + b.removals}; grant.revoked events: ${revokedEvents}; any grant revoked twice: ${[...perGrant.values()].some((n) => n > 1)}`,
  );
  console.log(`  SQLITE_BUSY errors: ${a.busy + b.busy}; chain ok: ${verifyChain(all).ok}`);
  await check.close();
}
