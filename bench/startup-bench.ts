/**
 * Start-up benchmark: `node --import tsx bench/startup-bench.ts [--root DIR] [--base DIR] [--runs 20]`.
 *
 * Starts each command `--runs` times, one at a time, and reports medians:
 * - `access-bot --help` and `access-bot policies check` (`node ROOT/bin/access-bot.js ...`): wall
 *   time from spawn to exit, and the process's peak RSS;
 * - the idle bot, started as `npm start` starts it (ROOT/package.json's `start` script, run without
 *   npm in between): in the sandbox (nothing configured), and as production starts against the
 *   Slack Web API stand-in served by this process: Slack HTTP mode with the YAML directory; Slack
 *   HTTP mode with Okta (OKTA_ORG_URL and an API token, the configuration customers run) against
 *   the Okta stand-in (test/okta/okta-stand-in.ts) served by this process with the people and
 *   groups of ROOT/directory.example.yml, so the bot checks its policies against Okta at start as it
 *   does in production; and Socket Mode (YAML directory), whose WebSocket this process serves. For
 *   each: the time until it prints its summary, its RSS one second later (idle) and its peak RSS.
 *
 * `--root` is the checkout measured (default: this one; it needs node_modules and, for a compiled
 * start, `npm run build`). `--base` measures a second checkout in the same run, alternating one
 * start of each, so a noisy machine weighs on both alike, and prints after/before ratios. For the
 * before/after pair: `git archive main | tar -x -C /tmp/base`, `ln -s $PWD/node_modules /tmp/base/`,
 * then `--base /tmp/base`. `--only WORD` measures only the commands whose name contains WORD
 * (e.g. `--only Okta`). Results also go to bench/out/startup-bench.json.
 */
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { WebSocketServer } from 'ws';
import { parse as parseYaml } from 'yaml';
import { SlackApiStandIn } from '../src/sandbox/slack-api/slack-api-server.js';
import { OktaStandIn } from '../test/okta/okta-stand-in.js';

const { values } = parseArgs({
  options: {
    root: { type: 'string' },
    base: { type: 'string' },
    runs: { type: 'string', default: '20' },
    'idle-ms': { type: 'string', default: '1000' },
    only: { type: 'string' },
  },
});
const HERE = join(import.meta.dirname, '..');
const roots = [
  ...(values.base ? [{ label: 'base', dir: resolve(values.base) }] : []),
  { label: 'root', dir: resolve(values.root ?? HERE) },
];
const runs = Number(values.runs);
const idleMs = Number(values['idle-ms']);

// Reported by the child as it exits: its peak resident set (getrusage ru_maxrss, in kB).
const REPORT_MAX_RSS = `data:text/javascript,process.on('exit',()=>process.stderr.write('\\nbench-maxrss='+process.resourceUsage().maxRSS+'\\n'))`;

interface Sample {
  ms: number;
  rssMb?: number;
  peakMb: number;
}

type Env = Record<string, string>;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

async function runCli(root: string, args: string[], env: Env): Promise<Sample> {
  const started = performance.now();
  const child = spawn(process.execPath, ['--import', REPORT_MAX_RSS, join(root, 'bin', 'access-bot.js'), ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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

function startCommand(root: string): string[] {
  const script = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { scripts: { start: string } })
    .scripts.start;
  const argv = script.trim().split(/\s+/);
  if (argv[0] !== 'node' || /[|&;<>$`'"]/.test(script))
    throw new Error(`cannot run the start script without a shell: ${script}`);
  return argv.slice(1);
}

function statusMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1]) / 1024;
}

async function runBot(root: string, env: Env): Promise<Sample> {
  const dir = mkdtempSync(join(tmpdir(), 'startup-bench-'));
  const started = performance.now();
  const child = spawn(process.execPath, startCommand(root), {
    cwd: root,
    env: { ...env, PORT: '0', DATABASE_PATH: join(dir, 'access.db'), LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((done) => child.on('exit', done));
  try {
    const ms = await new Promise<number>((ready, fail) => {
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        // The summary (one write) names the schedules; the bot serves from then on.
        if (/^ {2}schedules: /m.test(stdout)) ready(performance.now() - started);
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

type Row = Record<string, number | string>;

/** One start of each checkout in turn, `runs` times, after one uncounted start each (file cache). */
async function measure(name: string, once: (root: string) => Promise<Sample>): Promise<Row[]> {
  const samples = roots.map(() => [] as Sample[]);
  for (const { dir } of roots) await once(dir);
  for (let i = 0; i < runs; i++) for (const [k, { dir }] of roots.entries()) samples[k]!.push(await once(dir));
  const rows = roots.map(({ label }, k): Row => {
    const s = samples[k]!;
    const row: Row = { command: name, checkout: label, runs, medianMs: Math.round(median(s.map((x) => x.ms))) };
    if (s[0]!.rssMb !== undefined) row.idleRssMb = Number(median(s.map((x) => x.rssMb!)).toFixed(1));
    row.peakRssMb = Number(median(s.map((x) => x.peakMb)).toFixed(1));
    return row;
  });
  for (const row of rows) console.log(JSON.stringify(row));
  if (rows.length === 2) {
    const [before, after] = rows as [Row, Row];
    const ratio = (key: string) =>
      before[key] === undefined ? undefined : Number((Number(after[key]) / Number(before[key])).toFixed(2));
    console.log(
      JSON.stringify({
        command: name,
        'root/base': { ms: ratio('medianMs'), idleRss: ratio('idleRssMb'), peakRss: ratio('peakRssMb') },
      }),
    );
  }
  return rows;
}

const envFor = (root: string): Env => ({
  PATH: process.env.PATH ?? '',
  POLICIES_DIR: join(root, 'policies'),
  DIRECTORY_FILE: join(root, 'directory.example.yml'),
  // The example policies' webhook role names this secret; `policies check` and a production start need it.
  BILLING_HOOK_SECRET: 'bench-hook-secret',
});
/**
 * Okta with the people and groups of the YAML directory (managers by id, as `managerId` holds
 * them in Okta), for a production start that checks its policies against Okta.
 */
function oktaLike(directoryFile: string): OktaStandIn {
  const yaml = parseYaml(readFileSync(directoryFile, 'utf8')) as {
    people: {
      id?: string;
      email: string;
      login?: string;
      name: string;
      title?: string;
      status?: string;
      manager?: string;
    }[];
    groups: Record<string, { type?: 'OKTA_GROUP' | 'APP_GROUP'; members?: string[] }>;
  };
  const idOf = (ref: string) => {
    const p = yaml.people.find((x) => x.id === ref || x.email === ref || x.login === ref);
    if (!p) throw new Error(`${directoryFile}: no person ${ref}`);
    return p.id ?? p.email;
  };
  const okta = new OktaStandIn({ token: 'bench-okta-token' });
  for (const p of yaml.people) {
    const [firstName, ...rest] = p.name.split(' ');
    okta.addUser({
      id: idOf(p.email),
      email: p.email,
      login: p.login,
      firstName,
      lastName: rest.join(' '),
      title: p.title,
      status: (p.status ?? 'active').toUpperCase(),
      profile: { managerId: p.manager ? idOf(p.manager) : null },
    });
  }
  for (const [name, g] of Object.entries(yaml.groups)) {
    const id = `00g-${name}`;
    okta.addGroup({ id, name, type: g.type });
    for (const member of g.members ?? []) okta.addMember(id, idOf(member));
  }
  return okta;
}

const slack = new SlackApiStandIn({ botTokens: ['xoxb-bench'], appTokens: ['xapp-bench'] });
const { url } = await slack.start();
// Socket Mode: apps.connections.open hands out this WebSocket, which says hello as Slack does.
const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
await new Promise((listening) => wss.once('listening', listening));
wss.on('connection', (ws) =>
  ws.send(JSON.stringify({ type: 'hello', num_connections: 1, connection_info: { app_id: 'A0BENCH' } })),
);
slack.setSocketModeUrl(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/link`);
// One Okta per checkout: each has its own directory.example.yml.
const oktas = new Map<string, OktaStandIn>();
for (const { dir } of roots) {
  const okta = oktaLike(join(dir, 'directory.example.yml'));
  await okta.start();
  oktas.set(dir, okta);
}
// The example settings sign audit checkpoints: a production start needs the key.
const signingKey = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const production = (root: string): Env => ({
  ...envFor(root),
  AUDIT_SIGNING_KEY: signingKey,
  SLACK_BOT_TOKEN: 'xoxb-bench',
  SLACK_SIGNING_SECRET: 'bench-secret',
  SLACK_API_URL: url,
});
const withOkta = (root: string): Env => ({
  ...production(root),
  OKTA_ORG_URL: oktas.get(root)!.url,
  OKTA_API_TOKEN: 'bench-okta-token',
});
const socketMode = (root: string): Env => {
  const { SLACK_SIGNING_SECRET: _, ...env } = production(root);
  return { ...env, SLACK_APP_TOKEN: 'xapp-bench' };
};

console.log(
  `startup bench (node ${process.version}): ${roots.map((r) => `${r.label} ${r.dir}`).join(', ')}; ${runs} runs each, idle RSS ${idleMs} ms after the summary`,
);
const commands: [string, (root: string) => Promise<Sample>][] = [
  ['access-bot --help', (root) => runCli(root, ['--help'], envFor(root))],
  ['access-bot policies check', (root) => runCli(root, ['policies', 'check'], envFor(root))],
  ['npm start (sandbox)', (root) => runBot(root, envFor(root))],
  ['npm start (Slack HTTP mode)', (root) => runBot(root, production(root))],
  ['npm start (Slack HTTP mode, Okta)', (root) => runBot(root, withOkta(root))],
  ['npm start (Socket Mode)', (root) => runBot(root, socketMode(root))],
];
const rows: Row[] = [];
try {
  for (const [name, once] of commands)
    if (!values.only || name.includes(values.only)) rows.push(...(await measure(name, once)));
} finally {
  for (const client of wss.clients) client.terminate();
  wss.close();
  for (const okta of oktas.values()) await okta.stop();
  await slack.stop();
}
mkdirSync(join(HERE, 'bench', 'out'), { recursive: true });
writeFileSync(
  join(HERE, 'bench', 'out', 'startup-bench.json'),
  JSON.stringify({ roots, node: process.version, runs, idleMs, rows }, null, 2) + '\n',
);
