/**
 * The lifecycle bench's workload (bench/lifecycle-bench.ts: N requests through submit -> approve ->
 * provision -> expire -> revoke) on SQLite and on PostgreSQL, in one process and in several
 * processes on one database, in the same run. Each process takes every P-th person: it submits
 * their requests, approves them and runs due jobs (any process may claim any job); once all have
 * provisioned, all sweep at once (expiry, then the revocation jobs). Reports requests/s and audit
 * events/s over the whole run, and checks nothing was done twice and the chain is unbroken.
 *
 *   node --import tsx bench/replicas-lifecycle-bench.ts [--requests 10000] [--runs sqlite:1,postgres:1,postgres:3]
 * [--no-fsync]
 *
 * PostgreSQL: PG_TEST_URL (a server you run) or an embedded server started here, with fsync on
 * (`--no-fsync`: off, to see what the disk's flushes cost).
 */
import { ReviewCatalog } from '../src/domain/reviews/review-definition.js';
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { csvExportFiles } from '../src/adapters/csv/export-csv.js';
import { PgStore } from '../src/adapters/db/postgres/pg-store.js';
import { SqliteStore } from '../src/adapters/db/sqlite-store.js';
import { silentLogger } from '../src/adapters/log/json-logger.js';
import { createProvisioners } from '../src/adapters/provisioners/provisioners.js';
import { verifyChain } from '../src/domain/audit.js';
import { Catalog } from '../src/domain/catalog.js';
import type { Deps } from '../src/operations/context.js';
import type { Store } from '../src/operations/ports.js';
import { reviewRequest } from '../src/operations/review-request.js';
import { runDueJobs } from '../src/operations/run-jobs.js';
import { submitRequest } from '../src/operations/submit-request.js';
import { sweep } from '../src/operations/sweep.js';
import { callbackNotifier, FakeClock } from '../test/support/fakes.js';
import { SETTINGS } from '../test/support/lifecycle-harness.js';
import { startPgServer } from '../test/support/pg-server.js';
import { awsAdminPolicies, benchCompany } from './bench-fixtures.js';

const { values } = parseArgs({
  options: {
    requests: { type: 'string', default: '10000' },
    runs: { type: 'string', default: 'sqlite:1,postgres:1,postgres:3' },
    child: { type: 'string' },
    index: { type: 'string' },
    count: { type: 'string' },
    'no-fsync': { type: 'boolean' },
  },
});
const N = Number(values.requests);
const T0 = '2026-03-02T09:00:00.000Z';

const policies = awsAdminPolicies('engineering', 'aws-admins');

function openStore(target: string): Promise<Store> {
  return target.startsWith('postgres')
    ? PgStore.open(target, { poolSize: 4 })
    : Promise.resolve(SqliteStore.open(target));
}

type ToChild = { go: 'work' } | { go: 'sweep' };
type FromChild = { ready: true } | { provisioned: true } | { done: true; removals: number };

// ---- a worker process ---------------------------------------------------------------------------
if (values.child) {
  const index = Number(values.index);
  const count = Number(values.count);
  const directory = benchCompany(N, false);
  let removals = 0;
  const remove = directory.removeFromGroup.bind(directory);
  directory.removeFromGroup = async (p, g) => {
    removals++;
    return remove(p, g);
  };
  const clock = new FakeClock(T0);
  const deps: Deps = {
    store: await openStore(values.child),
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
  const jobs = { worker: `bench-${index}-${process.pid}`, batch: 500 };
  const send = (m: FromChild) => process.send!(m);
  const next = () => new Promise<ToChild>((resolve) => process.once('message', (m: ToChild) => resolve(m)));
  send({ ready: true });
  await next();
  const manager = { person: (await directory.getPerson('m0'))! };
  const BATCH = Math.ceil(1000 / count);
  let inBatch = 0;
  for (let i = index; i < N; i += count) {
    const requester = { person: (await directory.getPerson(`u${i}`))! };
    const result = await submitRequest(deps, { requester, app: 'aws', role: 'admin' });
    if (result.kind !== 'submitted') throw new Error(result.kind);
    await reviewRequest(deps, { actor: manager, requestId: result.request.id, decision: 'approve' });
    if (++inBatch === BATCH) {
      await runDueJobs(deps, jobs); // provision + messages
      inBatch = 0;
    }
  }
  await runDueJobs(deps, jobs);
  send({ provisioned: true });
  await next();
  clock.advance(3600);
  for (let pass = 0; pass < 100; pass++) {
    const s = await sweep(deps, jobs);
    if (s.expiredGrants === 0 && s.jobs.ran === 0) break;
  }
  send({ done: true, removals });
  await deps.store.close();
  process.exit(0);
}

// ---- the parent: one configuration after another ---------------------------------------------

function waitFor(child: ChildProcess, key: 'ready' | 'provisioned' | 'done'): Promise<FromChild> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: FromChild) => {
      if (key in m) {
        child.off('message', onMessage);
        resolve(m);
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => code !== 0 && reject(new Error(`a worker exited with ${code}`)));
  });
}

async function runOnce(target: string, processes: number) {
  const children = Array.from({ length: processes }, (_, index) =>
    fork(
      import.meta.filename,
      ['--child', target, '--index', String(index), '--count', String(processes), '--requests', String(N)],
      {
        execArgv: ['--import', 'tsx'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      },
    ),
  );
  await Promise.all(children.map((c) => waitFor(c, 'ready')));
  const t0 = performance.now();
  const provisioned = children.map((c) => waitFor(c, 'provisioned'));
  children.forEach((c) => c.send({ go: 'work' }));
  await Promise.all(provisioned);
  const t1 = performance.now();
  const done = children.map((c) => waitFor(c, 'done'));
  children.forEach((c) => c.send({ go: 'sweep' }));
  const results = (await Promise.all(done)) as Extract<FromChild, { done: true }>[];
  const t2 = performance.now();
  await Promise.all(children.filter((c) => c.exitCode === null).map((c) => once(c, 'exit')));

  const store = await openStore(target);
  const events = await store.auditEvents({ limit: 10_000_000 });
  const revoked = (await store.listGrants({ status: ['revoked'], limit: 10_000_000 })).length;
  await store.close();
  const perGrant = new Map<string, number>();
  for (const e of events)
    if (e.action === 'grant.revoked') perGrant.set(e.grantId!, (perGrant.get(e.grantId!) ?? 0) + 1);
  const seconds = (t2 - t0) / 1000;
  return {
    seconds,
    requestsPerSecond: N / seconds,
    eventsPerSecond: events.length / seconds,
    events: events.length,
    provisionSeconds: (t1 - t0) / 1000,
    revoked,
    twice: [...perGrant.values()].filter((n) => n > 1).length,
    removals: results.reduce((sum, r) => sum + r.removals, 0),
    chainOk: verifyChain(events).ok,
  };
}

async function createDatabase(adminUrl: string, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await client.query(`CREATE DATABASE ${name}`);
  await client.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

const runs = values.runs!.split(',').map((r) => {
  const [kind, n] = r.split(':');
  if ((kind !== 'sqlite' && kind !== 'postgres') || !Number(n))
    throw new Error(`--runs: ${r} is not sqlite:N or postgres:N`);
  return { kind, processes: Number(n) };
});
const dir = mkdtempSync(join(tmpdir(), 'access-bot-replicas-bench-'));
const server = runs.some((r) => r.kind === 'postgres')
  ? await startPgServer({ fsync: !values['no-fsync'] })
  : undefined;
try {
  console.log(`${N} requests: submit -> approve -> provision -> expire -> revoke`);
  for (const [i, run] of runs.entries()) {
    const target =
      run.kind === 'sqlite' ? join(dir, `run${i}.db`) : await createDatabase(server!.adminUrl, `bench_run${i}`);
    // Migrate before the clock starts, as a deployment does before it takes traffic.
    await (await openStore(target)).close();
    const r = await runOnce(target, run.processes);
    console.log(
      `${run.kind.padEnd(8)} ${run.processes} process${run.processes === 1 ? ' ' : 'es'}: ${r.seconds.toFixed(1)} s, ` +
        `${r.requestsPerSecond.toFixed(0)} requests/s, ${r.eventsPerSecond.toFixed(0)} audit events/s ` +
        `(${r.events} events; provisioning phase ${r.provisionSeconds.toFixed(1)} s); revoked ${r.revoked}, ` +
        `revoked twice ${r.twice}, removals ${r.removals}, chain ok ${r.chainOk}`,
    );
  }
} finally {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
}
