/**
 * Export benchmark: `node --import tsx bench/export-bench.ts [--events 1000000] [--keep] [--base DIR]`.
 *
 * 1. Builds a fresh database (migrations applied) and fills the audit log with N valid, hash-chained
 *    events by direct SQL inserts: a realistic mix of requests, decisions, grants and revocations,
 *    with justifications that contain commas, quotes, line breaks and formulas.
 * 2. Compiles the build (`npm run build`) and runs the installed command, `access-bot export events
 *    --out FILE` (bin/access-bot.js, the compiled CLI), as a child process under `/usr/bin/time -v`
 *    (wall time and peak RSS of the whole process, Node start-up included).
 * 3. Runs the equivalent query with `sqlite3 -csv` on the same file, the same way.
 * 4. For comparison, the same export from the TypeScript sources through tsx (`npm run cli`),
 *    which pays for compiling every module it loads.
 *
 * `--base DIR`: a second checkout (e.g. a worktree at main, built) runs its command on the same
 * database too, right after this one, for a before/after in one run. Its `dist/` is used as it is,
 * never rebuilt: the checkout may be shared, and read-only.
 *
 * `--rounds N` (default 1): runs the export, sqlite3 and the base N times, in that order, and reports
 * each one's median and the median of the per-round ratios. Every timed run starts with `sync`, so
 * none pays for writing back the pages the generator or an earlier run left dirty (the first export
 * after generating the database used to, which made whichever checkout ran first look slower). Each
 * run's output file from the round before is removed before that `sync`, so no run pays for
 * replacing it: sqlite3's was truncated before its clock started, while the export replaced its own
 * file inside its run, and freeing a 375 MB file (ext4 here is mounted with `discard`) took about
 * 0.22 s, besides what replacing by rename then cost the export's commit (export-csv.ts).
 *
 * Each run's CPU time (user + system, from /usr/bin/time) is printed per round beside the wall time:
 * on a machine shared with other work it moves less than the wall time does.
 *
 * Goals: the export takes at most 2x the sqlite3 time, and its peak RSS stays under 150 MB.
 * Results are printed and written to bench/out/export-bench.json.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, openSync, closeSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { generate } from './generate-audit-log.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    keep: { type: 'boolean', default: false },
    base: { type: 'string' },
    rounds: { type: 'string', default: '1' },
  },
});
const total = Number(values.events);
const rounds = Math.max(1, Number(values.rounds));
const root = process.cwd();

ensureSqlite3();
const dir = mkdtempSync(join(tmpdir(), 'export-bench-'));
const dbPath = join(dir, 'access.db');
try {
  const t0 = performance.now();
  await generate(dbPath, total);
  const genSeconds = (performance.now() - t0) / 1000;
  console.log(
    `generated ${total} chained events in ${genSeconds.toFixed(1)} s (${(statSync(dbPath).size / 1e6).toFixed(0)} MB database)`,
  );

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

  const query = `SELECT seq, at, json_extract(actor, '$.kind') AS actor_kind, json_extract(actor, '$.email') AS actor_email,
      json_extract(actor, '$.directoryId') AS actor_directory_id, json_extract(actor, '$.slackId') AS actor_slack_id,
      json_extract(actor, '$.component') AS actor_component, action, request_id, grant_id, details, prev_hash, hash
    FROM audit_events ORDER BY id`;
  const sqliteOut = join(dir, 'sqlite3.csv');
  const exportArgs = (out: string) => ['export', 'events', '--out', out, '--no-bom'];
  const compiled = (checkout: string, out: string) =>
    timed(process.execPath, [join(checkout, 'bin/access-bot.js'), ...exportArgs(out)], env, null, out);
  execFileSync(process.execPath, [join(root, 'scripts/build.js')], { stdio: 'inherit' });
  // dist/cli.js since the build bundles; dist/src/cli/main.js in a checkout from before.
  if (values.base && !['dist/cli.js', 'dist/src/cli/main.js'].some((built) => existsSync(join(values.base!, built))))
    throw new Error(`${values.base} is not built: run "npm run build" there first`);

  const csvOut = join(dir, 'events.csv');
  const sqliteRuns: Timed[] = [];
  const ourRuns: Timed[] = [];
  const baseRuns: Timed[] = [];
  const baseOut = join(dir, 'events-base.csv');
  for (let round = 0; round < rounds; round++) {
    ourRuns.push(await compiled(root, csvOut));
    if (round === 0) console.log(ourRuns[0]!.stderr.trim());
    sqliteRuns.push(await timed('sqlite3', ['-csv', '-header', dbPath, query], env, sqliteOut, sqliteOut));
    if (values.base) baseRuns.push(await compiled(values.base, baseOut));
  }
  const ours = median(ourRuns);
  const theirs = median(sqliteRuns);
  const base = values.base ? median(baseRuns) : undefined;
  // In round order, as printed beside the base's; the median from a sorted copy.
  const ratios = ourRuns.map((r, i) => r.seconds / sqliteRuns[i]!.seconds);
  const ratio = [...ratios].sort((a, b) => a - b)[Math.floor(ratios.length / 2)]!;
  const medianOf = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const cpu = (runs: Timed[]) => medianOf(runs.map((r) => r.cpuSeconds));
  const tsxOut = join(dir, 'events-tsx.csv');
  const fromSources = await timed(
    process.execPath,
    ['--import', 'tsx', join(root, 'src/cli/main.ts'), ...exportArgs(tsxOut)],
    env,
    null,
  );

  const result = {
    events: total,
    export: {
      seconds: ours.seconds,
      cpuSeconds: cpu(ourRuns),
      peakRssMb: ours.peakRssMb,
      bytes: statSync(csvOut).size,
    },
    sqlite3: {
      seconds: theirs.seconds,
      cpuSeconds: cpu(sqliteRuns),
      peakRssMb: theirs.peakRssMb,
      bytes: statSync(sqliteOut).size,
    },
    ...(base
      ? {
          base: {
            dir: values.base,
            seconds: base.seconds,
            cpuSeconds: cpu(baseRuns),
            peakRssMb: base.peakRssMb,
            bytes: statSync(baseOut).size,
          },
        }
      : {}),
    fromSources: { seconds: fromSources.seconds, peakRssMb: fromSources.peakRssMb, bytes: statSync(tsxOut).size },
    rounds,
    ratios,
    ratio,
    goals: { timeWithin2x: ratio <= 2, rssUnder150Mb: ours.peakRssMb < 150 },
    machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
  };
  const row = (name: string, r: { seconds: number; peakRssMb: number }, bytes: number) =>
    console.log(
      `${name.padEnd(22)}${r.seconds.toFixed(2).padStart(7)} s  ${r.peakRssMb.toFixed(0).padStart(5)} MB  ` +
        `${(bytes / 1e6).toFixed(0)} MB  ${(r.seconds / theirs.seconds).toFixed(2)}x`,
    );
  console.log('');
  if (rounds > 1) {
    console.log(
      `medians of ${rounds} rounds; export / sqlite3 per round: ${ratios.map((r) => r.toFixed(2)).join(', ')}`,
    );
    if (base)
      console.log(
        `base / sqlite3 per round: ${baseRuns.map((r, i) => (r.seconds / sqliteRuns[i]!.seconds).toFixed(2)).join(', ')}`,
      );
    const cpuRounds = (runs: Timed[]) => runs.map((r) => r.cpuSeconds.toFixed(2)).join(', ');
    console.log(
      `CPU seconds (user + system) per round: export ${cpuRounds(ourRuns)}; sqlite3 ${cpuRounds(sqliteRuns)}`,
    );
    if (base) console.log(`  base ${cpuRounds(baseRuns)}`);
  }
  console.log(`                       wall time   peak RSS   output  vs sqlite3`);
  row('access-bot export', ours, result.export.bytes);
  if (base && result.base) row('  the same, --base', base, result.base.bytes);
  row('  from sources (tsx)', fromSources, result.fromSources.bytes);
  row('sqlite3 -csv', theirs, result.sqlite3.bytes);
  console.log(
    `ratio ${ratio.toFixed(2)}x (goal <= 2x: ${result.goals.timeWithin2x ? 'met' : 'MISSED'}); ` +
      `peak RSS ${ours.peakRssMb.toFixed(0)} MB (goal < 150 MB: ${result.goals.rssUnder150Mb ? 'met' : 'MISSED'})`,
  );
  mkdirSync(join(root, 'bench/out'), { recursive: true });
  writeFileSync(join(root, 'bench/out/export-bench.json'), JSON.stringify(result, null, 2) + '\n');
} finally {
  if (values.keep) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}

interface Timed {
  seconds: number;
  /** User plus system CPU time: less swayed than the wall time by other processes on a shared machine. */
  cpuSeconds: number;
  peakRssMb: number;
  stderr: string;
}

/** The run with the median time (the upper one of two middles); its own peak RSS with it. */
function median(runs: Timed[]): Timed {
  return [...runs].sort((a, b) => a.seconds - b.seconds)[Math.floor(runs.length / 2)]!;
}

/**
 * Runs a command under /usr/bin/time -v; stdout to `outFile` when given. The file the run writes
 * (`writes`) is removed and dirty pages are written back first (`sync`), so the run does not pay for
 * what was written before it.
 */
async function timed(
  cmd: string,
  args: string[],
  env: Record<string, string>,
  outFile: string | null,
  writes?: string,
): Promise<Timed> {
  if (writes) rmSync(writes, { force: true });
  execFileSync('sync');
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
  const cpu = (label: string) => Number(new RegExp(`${label} time \\(seconds\\): ([\\d.]+)`).exec(stderr)?.[1] ?? NaN);
  const own = stderr
    .split('\n')
    .filter((l) => !/^\t/.test(l) && !l.startsWith('Command being timed'))
    .join('\n');
  return { seconds, cpuSeconds: cpu('User') + cpu('System'), peakRssMb: rssKb / 1024, stderr: own };
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
