/**
 * What the database keeps per request, table by table: the bot as Slack meets it (the Slack API
 * stand-in, the real Bolt app over signed HTTP, the YAML directory), `--requests` times Ada asking
 * for AWS admin, Marcus approving in his DM, the grant provisioned, expiring an hour later and
 * revoked, with every message posted and updated as in production. Then SQLite's own page count
 * per table and index (the `dbstat` table), divided by the number of requests.
 *
 *   node --import tsx bench/growth-bench.ts [--requests 300]
 *
 * The figures are what the README's housekeeping section quotes: which tables grow for good (the
 * evidence) and which the sweep prunes after `retention`.
 */
import Database from 'better-sqlite3';
import { parseArgs } from 'node:util';
import { ACTION } from '../blocks/ids.js';
import { sweep } from '../src/operations/sweep.js';
import { startSlackFixture } from '../test/slack/slack-fixture.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '300' } } });
const N = Number(values.requests);
const JOBS = { worker: 'growth-bench', baseDelaySeconds: 1, random: () => 0.999999 };

/** Kept for good (the evidence and what it is about) or pruned by the sweep after `retention`. */
const PRUNED = new Set(['jobs', 'slack_messages']);

const fx = await startSlackFixture();
try {
  for (let i = 0; i < N; i++) {
    const res = await fx.requestViaModal('ada', 'aws', 'admin', {
      justification: `INC-${1000 + i}: restart the ingest workers`,
    });
    if (res.status !== 200) throw new Error(`request ${i}: ${res.status} ${res.body}`);
    fx.slack.workspace.closeModals('U0ADA');
    await fx.settle();
    const ask = fx.dms('marcus').at(-1)!;
    const approved = await fx.click('marcus', ask, ACTION.approve);
    if (approved.status !== 200) throw new Error(`approval ${i}: ${approved.status}`);
    await fx.settle();
    fx.h.clock.advance(3600);
    await sweep(fx.h.deps, JOBS);
    await fx.settle();
    fx.h.clock.advance(60);
  }
  const revoked = (await fx.h.store.listGrants({ status: ['revoked'], limit: N + 1 })).length;
  if (revoked !== N) throw new Error(`expected ${N} revoked grants, found ${revoked}`);
  const rows = await fx.h.store.tableSizes();

  const db = new Database(fx.h.dbPath, { readonly: true });
  const pages = db
    .prepare<[], { name: string; tbl: string; bytes: number }>(
      `select s.name as name, coalesce(m.tbl_name, s.name) as tbl, sum(s.pgsize) as bytes
         from dbstat s left join sqlite_schema m on m.name = s.name group by s.name`,
    )
    .all();
  db.close();
  const perTable = new Map<string, { data: number; indexes: number }>();
  for (const p of pages) {
    const entry = perTable.get(p.tbl) ?? { data: 0, indexes: 0 };
    if (p.name === p.tbl) entry.data += p.bytes;
    else entry.indexes += p.bytes;
    perTable.set(p.tbl, entry);
  }
  const lines = [...perTable]
    .filter(([table]) => rows[table] !== undefined && rows[table] > 0)
    .sort((a, b) => b[1].data + b[1].indexes - (a[1].data + a[1].indexes));
  let kept = 0;
  let pruned = 0;
  console.log(
    `${N} requests (approved, provisioned, expired, revoked), every message posted and updated through Slack:`,
  );
  console.log('  table              rows/request   bytes/request (data + indexes)   after retention');
  for (const [table, size] of lines) {
    const total = (size.data + size.indexes) / N;
    if (PRUNED.has(table)) pruned += total;
    else kept += total;
    console.log(
      `  ${table.padEnd(18)} ${(rows[table]! / N).toFixed(2).padStart(12)}   ${total.toFixed(0).padStart(13)} (${(size.data / N).toFixed(0)} + ${(size.indexes / N).toFixed(0)})`.padEnd(
        82,
      ) + (PRUNED.has(table) ? 'pruned' : 'kept'),
    );
  }
  console.log(
    `  kept for good: ${kept.toFixed(0)} bytes per request; pruned after retention: ${pruned.toFixed(0)} bytes per request`,
  );
} finally {
  await fx.close();
}
