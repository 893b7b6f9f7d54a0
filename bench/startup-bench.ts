/**
 * Start-up benchmark: `node --import tsx bench/startup-bench.ts [--root DIR] [--runs 20]`.
 *
 * Starts each command `--runs` times, one at a time, and reports medians:
 * - `access-bot --help` and `access-bot policies check` (`node ROOT/bin/access-bot.js ...`): wall
 *   time from spawn to exit, and the process's peak RSS;
 * - the idle bot, started as `npm start` starts it (ROOT/package.json's `start` script, run without
 *   npm in between), once in the sandbox (nothing configured) and once as a production start in
 *   Slack HTTP mode against the Slack Web API stand-in served by this process (YAML directory):
 *   the time until it prints its summary, its RSS one second later (idle) and its peak RSS.
 *
 * `--root` points at another checkout (with node_modules) to measure it the same way: for the
 * before/after pair, `git archive main | tar -x -C /tmp/base`, link node_modules, and run
 * `--root /tmp/base` right before or after this one. Results go to bench/out/startup-bench.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { SlackApiStandIn } from '../src/sandbox/slack-api/slack-api-server.js';

const { values } = parseArgs({ options: { root: { type: 'string' }, runs: { type: 'string', default: '20' }, 'idle-ms': { type: 'string', default: '1000' } } });
const HERE = join(import.meta.dirname, '..');
const root = resolve(values.root ?? HERE);
const runs = Number(values.runs);
const idleMs = Number(values['idle-ms']);

// Reported by the child as it exits: its peak resident set (getrusage ru_maxrss, in kB).
const REPORT_MAX_RSS = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\nbench-maxrss='+process.resourceUsage().maxRSS+'\\n'))`;

interface Sample {
  ms: number;
  rssMb?: number;
  peakMb: number;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function runCli(args: string[], env: Record<string, string>): Promise<Sample> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', REPORT_MAX_RSS, join(root, 'bin', 'access-bot.js'), ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((done) => child.on('exit', done));
  const ms = performance.now() - started;
  if (code !== 0) throw new Error(`access-bot ${args.join(' ')} exited ${code}:\n${stdout}\n${stderr}`);
  const kb = Number(/bench-maxrss=(\d+)/.exec(stderr)?.[1]);
  return { ms, peakMb: kb / 1024 };
}

function startCommand(): string[] {
  const script = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
  const argv = script.trim().split(/\s+/);
  if (argv[0] !== 'node' || /[|&;<>$`'"]/.test(script)) throw new Error(`cannot run the start script without a shell: ${script}`);
  return argv.slice(1);
}

function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
}

async function runBot(env: Record<string, string>): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), 'startup-bench-'));
  const started = performance.now();
  const child = spawn(process.execPath, startCommand(), { cwd: root, env: { ...env, PORT: '0', DATABASE_PATH: join(dir, 'access.db'), LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', done));
  try {
    const ms = await new Promise<number>((ready, fail) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        // The summary's last line names the schedules; the bot serves from then on.
        if (/schedules \(/.test(stdout)) ready(performance.now() - started);
      });
      void exited.then((code) => fail(new Error(`the bot exited (${code}) before its summary:\n${stdout}\n${stderr}`)));
    });
    await new Promise((r) => setTimeout(r, idleMs));
    const sample = { ms, rssMb: statusMb(child.pid!, 'VmRSS'), peakMb: statusMb(child.pid!, 'VmHWM') };
    child.kill('SIGTERM');
    if ((await exited) !== 0) throw new Error(`the bot did not stop cleanly on SIGTERM:\n${stderr}`);
    return sample;
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measure(name: string, once: () => Promise<Sample>): Promise<Record<string, number | string>> {
  const samples: Sample[] = [];
  await once(); // warm the file cache; not counted
  for (let i = 0; i < runs; i++) samples.push(await once());
  const row: Record<string, number | string> = { command: name, runs, medianMs: Math.round(median(samples.map((s) => s.ms))) };
  if (samples[0]!.rssMb !== undefined) row.idleRssMb = Number(median(samples.map((s) => s.rssMb!)).toFixed(1));
  row.peakRssMb = Number(median(samples.map((s) => s.peakMb)).toFixed(1));
  console.log(JSON.stringify(row));
  return row;
}

// The example policies' webhook role names BILLING_HOOK_SECRET; `policies check` and a production start need it.
const base = { PATH: process.env.PATH ?? '', POLICIES_DIR: join(root, 'policies'), DIRECTORY_FILE: join(root, 'directory.example.yml'), BILLING_HOOK_SECRET: 'bench-hook-secret' };
const production = { ...base, SLACK_BOT_TOKEN: 'xoxb-bench', SLACK_SIGNING_SECRET: 'bench-secret' };
const slack = new SlackApiStandIn({ botTokens: [production.SLACK_BOT_TOKEN] });
const { url } = await slack.start();

console.log(`startup bench: ${root} (node ${process.version}), ${runs} runs each, idle RSS read ${idleMs} ms after the summary`);
const rows = [];
try {
  rows.push(await measure('access-bot --help', () => runCli(['--help'], base)));
  rows.push(await measure('access-bot policies check', () => runCli(['policies', 'check'], base)));
  rows.push(await measure('npm start (sandbox)', () => runBot(base)));
  rows.push(await measure('npm start (Slack HTTP mode)', () => runBot({ ...production, SLACK_API_URL: url })));
} finally {
  await slack.stop();
}
mkdirSync(join(HERE, 'bench', 'out'), { recursive: true });
writeFileSync(join(HERE, 'bench', 'out', 'startup-bench.json'), JSON.stringify({ root, node: process.version, runs, idleMs, rows }, null, 2) + '\n');
