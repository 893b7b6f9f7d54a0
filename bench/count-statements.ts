/**
 * Counts the SQLite statements a bench runs, per request and by SQL text: the bench is imported
 * after better-sqlite3's Statement methods are wrapped, so every run/get/all/iterate is counted.
 *
 *   node --import tsx bench/count-statements.ts bench/lifecycle-bench.ts --requests 3000 --one
 *
 * The per-request figures divide by `--requests` (default 10000, as the lifecycle bench).
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';

const [bench, ...rest] = process.argv.slice(2);
if (!bench) throw new Error('usage: count-statements.ts BENCH.ts [bench options]');
process.argv.splice(2, 1);
const requestsAt = rest.indexOf('--requests');
const requests = requestsAt >= 0 ? Number(rest[requestsAt + 1]) : 10_000;

type Runner = (this: Database.Statement, ...args: unknown[]) => unknown;
const probe = new Database(':memory:');
const statementPrototype = Object.getPrototypeOf(probe.prepare('SELECT 1')) as Record<string, Runner>;
probe.close();
const counts = new Map<string, number>();
let total = 0;
for (const name of ['run', 'get', 'all', 'iterate']) {
  const original = statementPrototype[name]!;
  statementPrototype[name] = function (...args) {
    total++;
    counts.set(this.source, (counts.get(this.source) ?? 0) + 1);
    return original.apply(this, args);
  };
}

process.on('exit', () => {
  console.log(`statements run: ${total} (${(total / requests).toFixed(1)} per request)`);
  const top = [...counts].sort((a, b) => b[1] - a[1]).slice(0, 40);
  for (const [source, count] of top) {
    console.log(`${(count / requests).toFixed(2).padStart(7)}  ${source.replace(/\s+/g, ' ').slice(0, 140)}`);
  }
});

await import(pathToFileURL(resolve(bench)).href);
