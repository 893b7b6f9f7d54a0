/**
 * How long the event loop spends inside SQLite's COMMIT: a preload that times every `COMMIT`
 * statement better-sqlite3 runs in this process and prints the total at exit. A commit that also
 * checkpoints the WAL (copies its pages into the database file and syncs both) shows as a slow one.
 *
 *   node --import tsx --import ./bench/commit-time.ts bench/lifecycle-bench.ts --requests 5000 --one
 *
 * Run from the checkout whose better-sqlite3 the bench loads (the one in the current folder).
 */
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';

const Database = createRequire(`${process.cwd()}/`)('better-sqlite3') as typeof BetterSqlite3;
const probe = new Database(':memory:');
const prototype = Object.getPrototypeOf(probe.prepare('select 1')) as { run: (...args: unknown[]) => unknown };
probe.close();

const SLOW_NS = 2_000_000n;
const run = prototype.run;
let commits = 0;
let total = 0n;
let slowest = 0n;
let slow = 0;
let slowTotal = 0n;

prototype.run = function (this: BetterSqlite3.Statement, ...args: unknown[]) {
  if (this.source !== 'COMMIT') return run.apply(this, args);
  const start = process.hrtime.bigint();
  try {
    return run.apply(this, args);
  } finally {
    const took = process.hrtime.bigint() - start;
    commits++;
    total += took;
    if (took > slowest) slowest = took;
    if (took > SLOW_NS) {
      slow++;
      slowTotal += took;
    }
  }
};

const ms = (ns: bigint) => (Number(ns) / 1e6).toFixed(0);
process.on('exit', () => {
  console.log(
    `COMMIT on the event loop: ${commits} commits, ${ms(total)} ms in all, the slowest ${ms(slowest)} ms; ` +
      `${slow} over 2 ms, ${ms(slowTotal)} ms of them`,
  );
});
