/**
 * Export benchmark: `node --import tsx bench/export-bench.ts [--events 1000000] [--keep]`.
 *
 * 1. Builds a fresh database (migrations applied) and fills the audit log with N valid, hash-chained
 *    events by direct SQL inserts: a realistic mix of requests, decisions, grants and revocations,
 *    with justifications that contain commas, quotes, line breaks and formulas.
 * 2. Runs `access-bot export events --out FILE` as a child process under `/usr/bin/time -v` (wall
 *    time and peak RSS of the whole process, Node start-up included).
 * 3. Runs the equivalent query with `sqlite3 -csv` on the same file, the same way.
 *
 * 4. Runs the export command alone in a child process (`--lean-child`), without the rest of the
 *    CLI: the full CLI loads every command and, through the runtime, the Okta SDK before it
 *    dispatches, and that start-up is most of its time and memory for a short export.
 *
 * Goals: the export takes at most 3x the sqlite3 time, and its peak RSS stays under 200 MB.
 * Results are printed and written to bench/out/export-bench.json.
 */
if (process.argv[2] === '--lean-child') {
  // Only the export command: what `access-bot export` costs once the CLI loads commands lazily.
  const { exportCommand } = await import('../src/cli/commands/export.js');
  process.exitCode = await exportCommand.run(process.argv.slice(3), { stdout: process.stdout, stderr: process.stderr, env: process.env });
  process.exit();
}

import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { generate } from './generate-audit-log.js';

const { values } = parseArgs({ options: { events: { type: 'string', default: '1000000' }, keep: { type: 'boolean', default: false } } });
const total = Number(values.events);
const root = process.cwd();

ensureSqlite3();
const dir = mkdtempSync(join(tmpdir(), 'export-bench-'));
const dbPath = join(dir, 'access.db');
try {
  const t0 = performance.now();
  await generate(dbPath, total);
  const genSeconds = (performance.now() - t0) / 1000;
  console.log(`generated ${total} chained events in ${genSeconds.toFixed(1)} s (${(statSync(dbPath).size / 1e6).toFixed(0)} MB database)`);

  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    DATABASE_PATH: dbPath,
    POLICIES_DIR: join(root, 'policies'),
    DIRECTORY_FILE: join(root, 'directory.example.yml'),
    BILLING_HOOK_SECRET: 'bench',
    LOG_LEVEL: 'warn',
  };

  // Warm the page cache the same way for both, so neither pays for the first read from disk.
  execFileSync('sqlite3', [dbPath, 'SELECT count(*), sum(length(details)) FROM audit_events'], { stdio: 'ignore' });

  const csvOut = join(dir, 'events.csv');
  const ours = await timed(process.execPath, ['--import', 'tsx', join(root, 'src/cli/main.ts'), 'export', 'events', '--out', csvOut, '--no-bom'], env, null);
  console.log(ours.stderr.trim());

  const leanOut = join(dir, 'events-lean.csv');
  const lean = await timed(process.execPath, ['--import', 'tsx', join(root, 'bench/export-bench.ts'), '--lean-child', 'events', '--out', leanOut, '--no-bom'], env, null);

  const sqliteOut = join(dir, 'sqlite3.csv');
  const query = `SELECT seq, at, json_extract(actor, '$.kind') AS actor_kind, json_extract(actor, '$.email') AS actor_email,
      json_extract(actor, '$.directoryId') AS actor_directory_id, json_extract(actor, '$.slackId') AS actor_slack_id,
      json_extract(actor, '$.component') AS actor_component, action, request_id, grant_id, details, prev_hash, hash
    FROM audit_events ORDER BY id`;
  const theirs = await timed('sqlite3', ['-csv', '-header', dbPath, query], env, sqliteOut);

  const result = {
    events: total,
    export: { seconds: ours.seconds, peakRssMb: ours.peakRssMb, bytes: statSync(csvOut).size },
    exportCommandAlone: { seconds: lean.seconds, peakRssMb: lean.peakRssMb, bytes: statSync(leanOut).size },
    sqlite3: { seconds: theirs.seconds, peakRssMb: theirs.peakRssMb, bytes: statSync(sqliteOut).size },
    ratio: ours.seconds / theirs.seconds,
    ratioCommandAlone: lean.seconds / theirs.seconds,
    goals: { timeWithin3x: ours.seconds <= 3 * theirs.seconds, rssUnder200Mb: ours.peakRssMb < 200 },
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
  };
  console.log('');
  console.log(`                    wall time   peak RSS   output`);
  console.log(`access-bot export   ${ours.seconds.toFixed(2).padStart(7)} s  ${ours.peakRssMb.toFixed(0).padStart(5)} MB  ${(result.export.bytes / 1e6).toFixed(0)} MB`);
  console.log(`export cmd alone    ${lean.seconds.toFixed(2).padStart(7)} s  ${lean.peakRssMb.toFixed(0).padStart(5)} MB  ${(result.exportCommandAlone.bytes / 1e6).toFixed(0)} MB`);
  console.log(`sqlite3 -csv        ${theirs.seconds.toFixed(2).padStart(7)} s  ${theirs.peakRssMb.toFixed(0).padStart(5)} MB  ${(result.sqlite3.bytes / 1e6).toFixed(0)} MB`);
  console.log(`ratio ${result.ratio.toFixed(2)}x (goal <= 3x: ${result.goals.timeWithin3x ? 'met' : 'MISSED'}); peak RSS goal < 200 MB: ${result.goals.rssUnder200Mb ? 'met' : 'MISSED'}`);
  console.log(`export command alone: ${result.ratioCommandAlone.toFixed(2)}x, ${lean.peakRssMb.toFixed(0)} MB`);
  mkdirSync(join(root, 'bench/out'), { recursive: true });
  writeFileSync(join(root, 'bench/out/export-bench.json'), JSON.stringify(result, null, 2) + '\n');
} finally {
  if (values.keep) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

/** Runs a command under /usr/bin/time -v; stdout to `outFile` when given. */
async function timed(cmd: string, args: string[], env: Record<string, string>, outFile: string | null): Promise<{ seconds: number; peakRssMb: number; stderr: string }> {
  const fd = outFile ? openSync(outFile, 'w') : 'ignore';
  const start = performance.now();
  const child = spawn('/usr/bin/time', ['-v', cmd, ...args], { env, stdio: ['ignore', fd, 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const code: number = await new Promise((resolve) => child.on('close', resolve));
  const seconds = (performance.now() - start) / 1000;
  if (typeof fd === 'number') closeSync(fd);
  if (code !== 0) throw new Error(`${cmd} exited ${code}:\n${stderr}`);
  const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? NaN);
  const own = stderr.split('\n').filter((l) => !/^\t/.test(l) && !l.startsWith('Command being timed')).join('\n');
  return { seconds, peakRssMb: rssKb / 1024, stderr: own };
}

function ensureSqlite3(): void {
  try {
    execFileSync('sqlite3', ['-version'], { stdio: 'ignore' });
  } catch {
    console.log('sqlite3 not found; installing it with apt-get');
    execFileSync('apt-get', ['install', '-y', 'sqlite3'], { stdio: 'inherit' });
  }
  if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is needed for peak RSS (apt-get install -y time)');
}
