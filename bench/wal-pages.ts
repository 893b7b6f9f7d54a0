/**
 * Which tables and indexes a bench's commits write: WAL pages per request, by b-tree. A connection
 * holding a read transaction from the start keeps every frame in the WAL (no checkpoint can pass
 * it), and before the bench's writing connection closes, the WAL's frame headers (their page
 * numbers) are mapped to tables and indexes through `dbstat`.
 *
 *   node --import tsx bench/wal-pages.ts bench/lifecycle-bench.ts --requests 1000 --one
 *
 * A page may have moved to another b-tree between its writes (freed, then reused): the mapping is
 * the final state's, which is close enough for where the bytes go.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';

const [bench, ...rest] = process.argv.slice(2);
if (!bench) throw new Error('usage: wal-pages.ts BENCH.ts [bench options]');
process.argv.splice(2, 1);
const requestsAt = rest.indexOf('--requests');
const requests = requestsAt >= 0 ? Number(rest[requestsAt + 1]) : 10_000;

type Method = (this: Database.Database, ...args: unknown[]) => unknown;
const prototype = Database.prototype as unknown as Record<string, Method>;
const pragma = prototype.pragma!;
const close = prototype.close!;
let writer: Database.Database | undefined;
let holder: Database.Database | undefined;

prototype.pragma = function (...args) {
  const result = pragma.apply(this, args);
  if (!writer && String(args[0]).replace(/\s/g, '') === 'journal_mode=WAL') hold(this);
  return result;
};

/** Keeps every frame `db` writes in its WAL: a reader whose snapshot no checkpoint may pass. */
function hold(db: Database.Database): void {
  writer = db;
  holder = new Database(db.name, { readonly: true });
  holder.exec('BEGIN');
  holder.prepare('SELECT count(*) FROM sqlite_schema').get();
}

prototype.close = function (...args) {
  if (this === writer && this.open) report(this);
  return close.apply(this, args);
};

function report(db: Database.Database): void {
  const wal = readFileSync(`${db.name}-wal`);
  const pageSize = wal.readUInt32BE(8);
  const perPage = new Map<number, number>();
  let frames = 0;
  let commits = 0;
  for (let at = 32; at + 24 + pageSize <= wal.length; at += 24 + pageSize) {
    const page = wal.readUInt32BE(at);
    perPage.set(page, (perPage.get(page) ?? 0) + 1);
    frames++;
    if (wal.readUInt32BE(at + 4) !== 0) commits++;
  }
  const owner = new Map<number, string>();
  for (const row of db.prepare('SELECT name, pageno FROM dbstat').all() as { name: string; pageno: number }[]) {
    owner.set(row.pageno, row.name);
  }
  const byName = new Map<string, number>();
  for (const [page, count] of perPage) {
    const name = owner.get(page) ?? (page === 1 ? 'page 1 (header)' : 'free or gone');
    byName.set(name, (byName.get(name) ?? 0) + count);
  }
  console.log(
    `WAL: page size ${pageSize}, ${frames} frames in ${commits} commits ` +
      `(${(frames / requests).toFixed(1)} pages per request, ${(frames / commits).toFixed(2)} per commit)`,
  );
  for (const [name, count] of [...byName].sort((a, b) => b[1] - a[1])) {
    console.log(`${(count / requests).toFixed(2).padStart(7)}  ${name}`);
  }
  holder?.close();
}

await import(pathToFileURL(resolve(bench)).href);
