/**
 * `/access request` under concurrency, against a bare Bolt app measured in the same run (issue 6,
 * "Bench"): 50 concurrent signed slash commands, each with its own fresh trigger id; per request
 * the time to the HTTP answer (the ack) and the time until the Slack stand-in receives the
 * `views.open` with that trigger id. Goal: p99 within 1.3x of the bare app, `views.open` p99 under
 * 300 ms.
 *
 * One process holds the stand-in, the real bot (createSlackBot over its HTTP receiver, a SQLite
 * file in a temp dir, the example policies from policies/, the example directory plus generated
 * people who are also Slack users of the stand-in, so identity binding works) and the bare app
 * (acks, then views.open). Warm-up rounds (3 per app by default) are not counted; then the apps
 * alternate which goes first in each round.
 *
 * The bare app opens the same form as the bot (`--bare-form same`, the default): the first form
 * the bot opens in the warm-up is handed to it, and it opens that view object as it is (it builds
 * nothing). A form's size costs both sides (the WebClient serialises it, the stand-in checks it,
 * Slack's answer echoes it back), so with a one-block modal the bare app would be spared work that
 * showing this form needs whoever shows it. `--bare-form trivial` keeps the one-block modal (the
 * comparison of earlier rounds).
 *
 *   node --import tsx bench/slack-ack-bench.ts [--concurrency 50] [--rounds 10] [--warmup 3] [--text "request github
 * member"] [--slack-process] [--bare-process] [--bare-users-info] [--replicas 3 [--bare-behind-balancer]
 * [--replica-cpu-prof dir]]
 *
 * `--replicas N`: the bot is N replica processes (test/replicas/replica-process.ts, composed as
 * `npm start` composes the bot) on one PostgreSQL database (an embedded server, fsync on), behind
 * the loopback load balancer (test/replicas/loopback-balancer.ts); the ack is timed where the
 * balancer sends it. The bare Bolt app is the same single app as always, reached directly, or
 * through a loopback balancer of its own with `--bare-behind-balancer` (the same hop as the bot's).
 * The replicas' CPU time per bot request is reported; `--replica-cpu-prof <dir>` has each replica
 * write a V8 CPU profile there (open it in Chrome DevTools) to see where that time goes.
 * The replicas log at `error` (their stderr is this process's); `BENCH_LOG_LEVEL=warn` shows what
 * they tell people instead of a form (an expired click, Slack not answering), to explain errors.
 * `--bare-process` runs the bare app in a process of its own (bench/bare-app-process.ts) and
 * reports its CPU per request too: the bot's CPU per request against a bare app's, the ratio
 * the latency ratio tends to on a machine whose cores are all busy. Both are also measured over
 * an idle window after the warm-up (`--idle-ms`, default 3000): what each spends with no request
 * (the replicas' schedules and leases), so the CPU per request can be read with and without it.
 *
 * `--bare-users-info`: the bare app calls users.info before it opens the form, as the bot must on
 * every request (security review M1: who acts is asked of Slack live): the floor of any app that
 * keeps that rule, to tell the bot's own cost from the round trip's.
 *
 * `--text request` measures the bare `/access request` (the app picker only, no identity look-up);
 * the default also names an app and role, so the bot then identifies the person (users.info, the
 * binding) and shows the form with the person's roles: at once in views.open when the directory
 * answers within the form's open budget, otherwise in a views.update; its timing is reported as well.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { loadavg, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fork, type ChildProcess } from 'node:child_process';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { ACTION } from '../blocks/ids.js';
import { csvExportFiles } from '../src/adapters/csv/export-csv.js';
import { connectSlack, createSlackBot, slackNotifier, type SlackBot } from '../src/adapters/slack/create-slack-app.js';
import { DisplayLookups } from '../src/adapters/slack/display-lookups.js';
import { SqliteStore } from '../src/adapters/db/sqlite-store.js';
import { createProvisioners } from '../src/adapters/provisioners/provisioners.js';
import { YamlDirectory } from '../src/adapters/directory/yaml-directory.js';
import { silentLogger } from '../src/adapters/log/json-logger.js';
import { checkPoliciesAgainstDirectory } from '../src/adapters/policies/check-against-directory.js';
import { loadPolicies } from '../src/adapters/policies/load-policies.js';
import { formatProblem } from '../src/adapters/policies/policy-problem.js';
import type { Deps } from '../src/operations/context.js';
import { systemClock } from '../src/operations/ports.js';
import { SlackApiStandIn } from '../src/sandbox/slack-api/slack-api-server.js';
import type { ApiCall } from '../src/sandbox/slack-api/slack-workspace.js';
import { LoopbackBalancer } from '../test/replicas/loopback-balancer.js';
import { BENCH_SECRET, BENCH_TOKEN, startBareApp } from './bare-app-process.js';
import { TEST_SIGNING_KEY_PEM } from '../test/support/signing-key.js';
import { startPgServer } from '../test/support/pg-server.js';
import { sendSlashCommand } from '../test/support/slack-signing.js';

const { values } = parseArgs({
  options: {
    concurrency: { type: 'string', default: '50' },
    rounds: { type: 'string', default: '10' },
    text: { type: 'string', default: 'request github member' },
    warmup: { type: 'string', default: '3' },
    'timeout-ms': { type: 'string', default: '5000' },
    // Run the Slack stand-in in a process of its own, as real Slack would be (default: in this process).
    'slack-process': { type: 'boolean', default: false },
    replicas: { type: 'string', default: '0' },
    // With --replicas: the bare app behind a loopback balancer of its own too, so both pay the same hop.
    'bare-behind-balancer': { type: 'boolean', default: false },
    // With --replicas: each replica writes a V8 CPU profile (--cpu-prof) into this folder when it stops.
    'replica-cpu-prof': { type: 'string' },
    // The bare app in a process of its own, so its CPU per request is measured like the replicas'.
    'bare-process': { type: 'boolean', default: false },
    // same: the bare app opens the form the bot opened; trivial: a one-block modal.
    'bare-form': { type: 'string', default: 'same' },
    // The bare app calls users.info before views.open, as the bot must (security review M1).
    'bare-users-info': { type: 'boolean', default: false },
    'idle-ms': { type: 'string', default: '3000' },
  },
});
const CONCURRENCY = Number(values.concurrency);
const ROUNDS = Number(values.rounds);
const TEXT = values.text!;
const WARMUP = Number(values.warmup);
const ROUND_TIMEOUT_MS = Number(values['timeout-ms']);
const REPLICAS = Number(values.replicas);
const PROFILE_DIR = values['replica-cpu-prof'];
const BARE_FORM = values['bare-form'];
const IDLE_MS = Number(values['idle-ms']);
if (!(CONCURRENCY > 0) || !(ROUNDS > 0)) throw new Error('--concurrency and --rounds must be positive numbers');
if (BARE_FORM !== 'same' && BARE_FORM !== 'trivial') throw new Error('--bare-form is same or trivial');
if (!(IDLE_MS >= 0)) throw new Error('--idle-ms must be a number of milliseconds');

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(
  ROOT,
  'bench',
  'out',
  Number(values.replicas) > 0 ? 'slack-ack-bench-replicas.json' : 'slack-ack-bench.json',
);
const SECRET = BENCH_SECRET;
const TOKEN = BENCH_TOKEN;
const GOAL_RATIO = 1.3;
const GOAL_VIEWS_OPEN_P99_MS = 300;

type AppName = 'bot' | 'bare';

/** One request's fate. Times in ms from just before the POST was sent. */
interface Sample {
  app: AppName;
  round: number;
  user: string;
  triggerId: string;
  ackMs?: number;
  /** When the app's HTTP server handed the ack to the socket (no client-side read delay). */
  serverAckMs?: number;
  ackStatus?: number;
  /** A non-empty ack body (e.g. an ephemeral refusal): the modal path did not run as meant. */
  ackBody?: string;
  viewsOpenMs?: number;
  viewsOpenError?: string;
  /** For a request that got no views.open: the Slack calls the stand-in saw about its user, timed from the command. */
  slackCalls?: string[];
  /** The bot only, when the command names an app: the modal updated with the person's roles. */
  viewsUpdateMs?: number;
  viewsUpdateError?: string;
  error?: string;
}

// ---- the world -------------------------------------------------------------------------------

const USER_COUNT = Math.max(CONCURRENCY, 50);
const benchUsers = Array.from({ length: USER_COUNT }, (_, i) => {
  const n = String(i + 1).padStart(3, '0');
  return {
    slackId: `U0BENCH${n}`,
    directoryId: `00u-bench-${n}`,
    email: `bench${n}@example.com`,
    name: `Bench Person ${n}`,
  };
});

/** directory.example.yml with the bench people added (in `everyone`, managed by Marcus), as YAML text. */
function benchDirectoryYaml(): string {
  const data = parseYaml(readFileSync(join(ROOT, 'directory.example.yml'), 'utf8')) as {
    people: Record<string, unknown>[];
    groups: Record<string, { members?: string[] }>;
  };
  for (const u of benchUsers)
    data.people.push({
      id: u.directoryId,
      email: u.email,
      name: u.name,
      title: 'Engineer',
      manager: 'marcus@example.com',
    });
  const everyone = data.groups.everyone;
  if (!everyone?.members) throw new Error('directory.example.yml has no `everyone` group');
  everyone.members.push(...benchUsers.map((u) => u.email));
  return stringifyYaml(data);
}

/** Started pieces are stopped in reverse order, also when a later one fails to start. */
async function startWorld() {
  const cleanups: (() => unknown)[] = [];
  const closeAll = async () => {
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error('slack-ack-bench: cleaning up failed', error);
      }
    }
  };
  try {
    return await startPieces(cleanups, closeAll);
  } catch (error) {
    await closeAll();
    throw error;
  }
}

async function startPieces(cleanups: (() => unknown)[], closeAll: () => Promise<void>) {
  const slack = values['slack-process'] ? await remoteSlack() : await localSlack();
  cleanups.push(() => slack.stop());

  const loaded = await loadPolicies(join(ROOT, 'policies'), { env: {}, onMissingSecret: () => {} });
  const directory = YamlDirectory.parse(benchDirectoryYaml(), 'bench-directory.yml');
  const check = await checkPoliciesAgainstDirectory(loaded, directory);
  if (check.problems.length > 0)
    throw new Error(`the policies do not fit the bench directory:\n${check.problems.map(formatProblem).join('\n')}`);

  const tmp = mkdtempSync(join(tmpdir(), 'slack-ack-bench-'));
  cleanups.push(() => rmSync(tmp, { recursive: true, force: true }));
  const bare = await startBare(slack.url, cleanups);
  if (REPLICAS > 0) {
    let bareUrl = bare.url;
    if (values['bare-behind-balancer']) {
      const balancer = new LoopbackBalancer(() => [bare.url]);
      bareUrl = await balancer.start();
      if (values['bare-process']) watchAcks('bare', balancer.server!);
      cleanups.push(() => balancer.stop());
    }
    return {
      slack,
      ...(await startReplicas(slack.url, tmp, cleanups)),
      bareUrl,
      bareCpuMs: bare.cpuMs,
      showBareForm: bare.showForm,
      close: closeAll,
    };
  }
  const store = SqliteStore.open(join(tmp, 'access.db'));
  cleanups.push(async () => await store.close());
  const connection = await connectSlack({
    token: TOKEN,
    signingSecret: SECRET,
    port: 0,
    host: '127.0.0.1',
    apiUrl: slack.url,
    logger: silentLogger,
    clock: systemClock,
  });
  const parts = {
    store,
    directory,
    catalog: loaded.catalog,
    reviews: loaded.reviews,
    settings: loaded.settings,
    clock: systemClock,
    logger: silentLogger,
    provisioners: createProvisioners({ directory, env: {}, webhook: { call: async () => ({ status: 200 }) } }),
    exportFiles: csvExportFiles(),
  };
  const display = new DisplayLookups(parts, connection.gate);
  const deps: Deps = { ...parts, notifier: slackNotifier(connection, parts, display) };
  const bot: SlackBot = await createSlackBot(connection, { deps, display, jobs: { worker: 'slack-ack-bench' } });
  const botPort = await bot.start();
  cleanups.push(() => bot.stop());
  const botServer = (bot.app as unknown as { receiver: { server?: Server } }).receiver.server;
  if (!botServer) throw new Error('the bot has no HTTP server to watch');
  watchAcks('bot', botServer);
  return {
    slack,
    idle: () => bot.jobs.idle(),
    botUrl: `http://127.0.0.1:${botPort}`,
    replicaCpuMs: undefined,
    bareUrl: bare.url,
    bareCpuMs: bare.cpuMs,
    showBareForm: bare.showForm,
    close: closeAll,
  };
}

function watchAcks(app: AppName, server: Server): void {
  server.on('request', (req, res) => {
    const ts = req.headers['x-slack-request-timestamp'];
    res.once('finish', () => {
      const p = typeof ts === 'string' ? byTimestamp.get(`${app}:${ts}`) : undefined;
      if (p) p.sample.serverAckMs = performance.now() - p.t0;
    });
  });
}

/**
 * The bare Bolt app (bench/bare-app-process.ts): here, or in a process of its own with
 * `--bare-process`, whose CPU per request is then reported next to the replicas'.
 */
async function startBare(
  slackUrl: string,
  cleanups: (() => unknown)[],
): Promise<{ url: string; cpuMs?: () => Promise<number>; showForm: (view: object) => Promise<void> }> {
  if (values['bare-process']) {
    const args = [slackUrl, ...(values['bare-users-info'] ? ['users-info'] : [])];
    const child = fork(join(ROOT, 'bench', 'bare-app-process.ts'), args, {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    cleanups.push(() => stopChild(child));
    const port = await new Promise<number>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`the bare app exited (${code}) before it was ready`)));
      child.on('message', (m: { ready?: boolean; port?: number }) => m.ready && resolve(m.port!));
    });
    const showForm = (form: object) =>
      new Promise<void>((resolve) => {
        const listener = (m: { formShown?: boolean }) => {
          if (!m.formShown) return;
          child.off('message', listener);
          resolve();
        };
        child.on('message', listener);
        child.send({ form });
      });
    return { url: `http://127.0.0.1:${port}`, cpuMs: () => cpuOf(child), showForm };
  }
  const bare = await startBareApp(slackUrl, { usersInfo: values['bare-users-info'] });
  cleanups.push(() => bare.app.stop());
  watchAcks('bare', bare.server);
  return { url: `http://127.0.0.1:${bare.port}`, showForm: async (form) => bare.showForm(form) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** A child's CPU time so far (user + system, ms), as it reports it over IPC. */
function cpuOf(child: ChildProcess): Promise<number> {
  return new Promise<number>((resolve) => {
    const listener = (m: { cpuUsage?: NodeJS.CpuUsage }) => {
      if (!m.cpuUsage) return;
      child.off('message', listener);
      resolve((m.cpuUsage.user + m.cpuUsage.system) / 1000);
    };
    child.on('message', listener);
    child.send({ cpuUsage: true });
  });
}

/** N replicas of the bot on one PostgreSQL database, behind the loopback balancer. */
async function startReplicas(slackUrl: string, tmp: string, cleanups: (() => unknown)[]) {
  const server = await startPgServer({ fsync: true });
  cleanups.push(() => server.stop());
  const databaseUrl = new URL(server.adminUrl);
  databaseUrl.pathname = '/postgres';
  const pgCpu = postgresCpu(Number(databaseUrl.port));
  const directoryFile = join(tmp, 'bench-directory.yml');
  writeFileSync(directoryFile, benchDirectoryYaml());
  const env = {
    PATH: process.env.PATH ?? '',
    PORT: '0',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'error',
    DATABASE_URL: databaseUrl.toString(),
    POLICIES_DIR: join(ROOT, 'policies'),
    DIRECTORY_FILE: directoryFile,
    SLACK_BOT_TOKEN: TOKEN,
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slackUrl,
    // The example billing policy names this webhook secret; a production start needs it set.
    BILLING_HOOK_SECRET: 'bench',
    // The example settings sign audit checkpoints; a production start needs the key.
    AUDIT_SIGNING_KEY: TEST_SIGNING_KEY_PEM,
  };
  const urls: (string | undefined)[] = [];
  const children: ChildProcess[] = [];
  cleanups.push(async () => await Promise.all(children.map(stopChild)));
  // One after the other: the first migrates the database.
  for (let index = 0; index < REPLICAS; index++) {
    const child = fork(join(ROOT, 'test', 'replicas', 'replica-process.ts'), [], {
      execArgv: ['--import', 'tsx', ...(PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [])],
      env: { ...env, REPLICA_NAME: `replica${index}` },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    urls[index] = await new Promise<string>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`replica${index} exited (${code}) before it was ready`)));
      child.on('message', (m: { ready?: boolean; port?: number }) => m.ready && resolve(`http://127.0.0.1:${m.port}`));
    });
  }
  const balancer = new LoopbackBalancer(() => urls);
  const botUrl = await balancer.start();
  cleanups.push(() => balancer.stop());
  watchAcks('bot', balancer.server!);
  /** The replicas' CPU time so far, user + system, in ms (summed over all of them). */
  const cpuMs = async () => (await Promise.all(children.map(cpuOf))).reduce((a, b) => a + b, 0);
  // Opening the form starts no job; the identity bindings of the first contact commit before the
  // ack of the next round's command could need them. A pause keeps the rounds apart.
  return {
    idle: () => new Promise<void>((resolve) => setTimeout(resolve, 300)),
    botUrl,
    replicaCpuMs: cpuMs,
    ...(pgCpu ? { pgCpuMs: async () => pgCpu() } : {}),
  };
}

/**
 * The database server's CPU so far (ms), read from /proc (Linux): the postmaster listening on
 * `port`, its children that ended (cutime, cstime) and those alive (the connections' backends).
 * The replicas' CPU leaves it out, and it runs on the same cores. Undefined where /proc is not.
 */
function postgresCpu(port: number): (() => number) | undefined {
  if (!existsSync('/proc/self/stat')) return undefined;
  const stat = (pid: string) => {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    return text.slice(text.lastIndexOf(')') + 2).split(' ');
  };
  const pids = () => readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  const postmaster = pids().find((pid) => {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      return /postgres$/.test(args[0] ?? '') && args[args.indexOf('-p') + 1] === String(port);
    } catch {
      return false;
    }
  });
  if (!postmaster) return undefined;
  const TICK_MS = 10; // USER_HZ is 100 on Linux
  return () => {
    let ticks = 0;
    for (const pid of pids()) {
      try {
        const f = stat(pid);
        // f[1] is the parent pid; f[11..14] utime, stime, cutime, cstime (stat fields 14-17).
        if (pid === postmaster) ticks += Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
        else if (f[1] === postmaster) ticks += Number(f[11]) + Number(f[12]);
      } catch {
        // The process ended between the listing and the read.
      }
    }
    return ticks * TICK_MS;
  };
}

// ---- the Slack stand-in, here or in its own process ---------------------------------------------

const CHANNELS = [
  { id: 'C0SECURITY', name: 'security' },
  { id: 'C0ACCESSOPS', name: 'access-ops' },
  { id: 'C0GENERAL', name: 'general' },
];

interface BenchSlack {
  url: string;
  /** Trigger ids for these users, minted (as Slack does) before the payloads are sent. */
  mint(users: string[]): Promise<string[]>;
  /** API calls as the stand-in saw them; `at` in this process's performance.now() terms. */
  onCall(listener: (call: ApiCall, at: number) => void): () => void;
  stop(): Promise<void>;
}

async function localSlack(): Promise<BenchSlack> {
  // Latency, not Slack's budget, is measured: 50 people x 13 rounds x 2 apps open far more modals a
  // minute than views.open's Tier 4 allows one app, so the stand-in's rate limits are off here.
  const slack = new SlackApiStandIn({ botTokens: [TOKEN], rateLimits: false });
  for (const u of benchUsers)
    slack.addUser({
      id: u.slackId,
      email: u.email,
      name: u.email.split('@')[0]!,
      realName: u.name,
      tz: 'Europe/Berlin',
    });
  for (const c of CHANNELS) slack.addChannel(c);
  const { url } = await slack.start();
  return {
    url,
    mint: async (users) => users.map((u) => slack.issueTriggerId(u)),
    onCall: (listener) => slack.on('call', (call) => listener(call, performance.now())),
    stop: () => slack.stop(),
  };
}

async function remoteSlack(): Promise<BenchSlack> {
  const setup = {
    token: TOKEN,
    users: benchUsers.map((u) => ({ id: u.slackId, email: u.email, name: u.email.split('@')[0]!, realName: u.name })),
    channels: CHANNELS,
  };
  const child = fork(join(ROOT, 'bench', 'slack-stand-in-process.ts'), [JSON.stringify(setup)], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const listeners = new Set<(call: ApiCall, at: number) => void>();
  const minting = new Map<number, (triggers: string[]) => void>();
  let nextId = 0;
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the Slack stand-in process exited (${code})`)));
    child.on(
      'message',
      (m: { type: string; url?: string; id?: number; triggers?: string[]; at?: number; call?: ApiCall }) => {
        if (m.type === 'ready') resolve(m.url!);
        else if (m.type === 'minted') minting.get(m.id!)?.(m.triggers!);
        // Both processes' timeOrigin + now() are epoch milliseconds: convert to this process's clock.
        else if (m.type === 'call') for (const l of listeners) l(m.call!, m.at! - performance.timeOrigin);
      },
    );
  });
  return {
    url,
    mint: (users) =>
      new Promise((resolve) => {
        const id = nextId++;
        minting.set(id, (triggers) => {
          minting.delete(id);
          resolve(triggers);
        });
        child.send({ type: 'mint', id, users });
      }),
    onCall: (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    stop: async () => {
      child.removeAllListeners('exit');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      await exited;
    },
  };
}

// ---- one round ---------------------------------------------------------------------------------

type World = Awaited<ReturnType<typeof startWorld>>;

interface Pending {
  sample: Sample;
  t0: number;
  viewId?: string;
  done: () => void;
  expectUpdate: boolean;
  openSeen: boolean;
  updateSeen: boolean;
  /** The stand-in's calls naming this request's user (users.info, chat.postEphemeral, ...), timed from t0. */
  calls: string[];
}

/** Per trigger id and per view id: what the stand-in's `call` listener resolves. */
const byTrigger = new Map<string, Pending>();
const byViewId = new Map<string, Pending>();
/** Per Slack user, this round's request (one per user per round). */
const byUser = new Map<string, Pending>();
/** Requests that got no views.open in their round: a later call about their user is printed as it comes. */
const lostByUser = new Map<string, Pending>();
/**
 * Per app and request timestamp: each request of a round is signed with its own timestamp (now
 * minus its index in seconds, well inside Bolt's 5 minutes), so the app's HTTP server can tell
 * which request an ack belongs to without reading the body.
 */
const byTimestamp = new Map<string, Pending>();

/** The first complete form the bot opened: with `--bare-form same`, the bare app opens it too. */
let botForm: object | undefined;
let bareFormShown = false;

function settle(p: Pending): void {
  if (p.openSeen && (!p.expectUpdate || p.updateSeen || p.sample.viewsOpenError)) p.done();
}

function viewObject(view: unknown): object {
  return typeof view === 'string' ? (JSON.parse(view) as object) : (view as object);
}

function viewText(view: unknown): string {
  return typeof view === 'string' ? view : JSON.stringify(view);
}

function onCall(call: ApiCall, now: number): void {
  const who = call.args.user ?? call.args.user_id;
  const mine = typeof who === 'string' ? byUser.get(who) : undefined;
  const trigger = call.args.trigger_id;
  const lost =
    typeof who === 'string' && !mine
      ? lostByUser.get(who)
      : typeof trigger === 'string' && !byTrigger.has(trigger)
        ? [...lostByUser.values()].find((p) => p.sample.triggerId === trigger)
        : undefined;
  if (lost)
    console.log(`  late, ${lost.sample.app} ${lost.sample.user}: ${call.method} +${(now - lost.t0).toFixed(0)} ms`);
  if (mine) {
    const answer = call.answer as { ok?: boolean; error?: string };
    mine.calls.push(
      `${call.method} +${(now - mine.t0).toFixed(0)} ms ${answer?.ok ? 'ok' : (answer?.error ?? call.status)}`,
    );
  }
  if (call.method === 'views.open') {
    const p = byTrigger.get(String(call.args.trigger_id));
    if (!p || p.openSeen) return;
    p.openSeen = true;
    p.sample.viewsOpenMs = now - p.t0;
    // The bot's first form in full (with the role's durations when the command names one), even if
    // Slack refused it (a click that expired under load): the view is what counts.
    if (p.sample.app === 'bot' && (!p.expectUpdate || viewText(call.args.view).includes(ACTION.duration)))
      botForm ??= viewObject(call.args.view);
    const answer = call.answer as { ok?: boolean; error?: string; view?: { id?: string } };
    if (call.status !== 200 || !answer.ok) p.sample.viewsOpenError = answer.error ?? `HTTP ${call.status}`;
    else if (answer.view?.id) {
      p.viewId = answer.view.id;
      byViewId.set(answer.view.id, p);
      // When the directory answers within the form's open budget the bot opens the whole form at
      // once: the modal with the person's roles is this views.open, and no views.update follows.
      if (p.expectUpdate && viewText(call.args.view).includes(ACTION.duration)) {
        p.updateSeen = true;
        p.sample.viewsUpdateMs = p.sample.viewsOpenMs;
      }
    }
    settle(p);
  } else if (call.method === 'views.update') {
    const p = byViewId.get(String(call.args.view_id));
    if (!p || p.updateSeen) return;
    p.updateSeen = true;
    p.sample.viewsUpdateMs = now - p.t0;
    const answer = call.answer as { ok?: boolean; error?: string };
    if (call.status !== 200 || !answer.ok) p.sample.viewsUpdateError = answer.error ?? `HTTP ${call.status}`;
    // The update must be the form with the role's durations, not a refusal (identity or eligibility failed).
    else if (!viewText(call.args.view).includes(ACTION.duration)) {
      p.sample.viewsUpdateError = 'the updated modal has no duration choice (identity or eligibility failed?)';
    }
    // A loaded machine can leave every warm-up form to the slow path (a "looking up" modal, then this).
    else if (p.sample.app === 'bot') botForm ??= viewObject(call.args.view);
    settle(p);
  }
}

async function runRound(world: World, app: AppName, round: number): Promise<Sample[]> {
  const url = app === 'bot' ? world.botUrl : world.bareUrl;
  if (app === 'bare' && BARE_FORM === 'same' && !bareFormShown) {
    if (!botForm) throw new Error('the bot has not opened a complete form yet: nothing for the bare app to open');
    await world.showBareForm(botForm);
    bareFormShown = true;
  }
  const expectUpdate = app === 'bot' && TEXT.trim().split(/\s+/).length > 1;
  const users = benchUsers.slice(0, CONCURRENCY);
  const nowSec = Math.floor(Date.now() / 1000);
  // Trigger ids are minted first (as Slack does before it sends the payload), all within the 3 s.
  const triggers = await world.slack.mint(users.map((u) => u.slackId));
  const work = users.map((u, i) => {
    const triggerId = triggers[i]!;
    const sample: Sample = { app, round, user: u.slackId, triggerId };
    let done!: () => void;
    const finished = new Promise<void>((resolve) => (done = resolve));
    const p: Pending = { sample, t0: 0, done, expectUpdate, openSeen: false, updateSeen: false, calls: [] };
    byTrigger.set(triggerId, p);
    byUser.set(u.slackId, p);
    return { u, p, finished };
  });
  const sends = work.map(({ u, p }, i) => {
    const tsSec = nowSec - i;
    byTimestamp.set(`${app}:${tsSec}`, p);
    p.t0 = performance.now();
    return sendSlashCommand(
      url,
      SECRET,
      { userId: u.slackId, text: TEXT, triggerId: p.sample.triggerId, channelId: 'C0GENERAL' },
      { tsSec },
    )
      .then((res) => {
        p.sample.ackMs = performance.now() - p.t0;
        p.sample.ackStatus = res.status;
        if (res.body) p.sample.ackBody = res.body.slice(0, 200);
        // Nothing more will come for an ack that refused or answered with a message.
        if (res.status !== 200 || res.body) p.done();
      })
      .catch((error: unknown) => {
        p.sample.error = `POST failed: ${error instanceof Error ? error.message : String(error)}`;
        p.done();
      });
  });
  await Promise.all(sends);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>(
    (resolve) => (timer = setTimeout(() => resolve('timeout'), ROUND_TIMEOUT_MS)),
  );
  await Promise.race([Promise.all(work.map((w) => w.finished)), timedOut]);
  clearTimeout(timer);
  for (const { p } of work) {
    if (!p.openSeen && !p.sample.error && p.sample.ackStatus === 200 && !p.sample.ackBody) {
      // Told instead (an ephemeral message or a DM saying why), or left with nothing at all.
      const told = p.calls.find((c) => /^chat\.post(Ephemeral|Message) .* ok$/.test(c))?.split(' ')[0];
      p.sample.viewsOpenError = `no views.open within ${ROUND_TIMEOUT_MS} ms, ${told ? `told by ${told}` : 'nothing told'}`;
      p.sample.slackCalls = p.calls;
      console.log(`  ${app} ${p.sample.user}: no views.open; its Slack calls: ${p.calls.join(', ') || 'none'}`);
      lostByUser.set(p.sample.user, p);
    }
    if (p.expectUpdate && p.openSeen && !p.updateSeen && !p.sample.viewsOpenError)
      p.sample.viewsUpdateError = `no views.update within ${ROUND_TIMEOUT_MS} ms`;
    byTrigger.delete(p.sample.triggerId);
    if (p.sample.serverAckMs === undefined && p.sample.ackStatus !== undefined)
      p.sample.error ??= 'the server-side ack time was not seen';
    if (p.viewId) byViewId.delete(p.viewId);
  }
  byTimestamp.clear();
  byUser.clear();
  // The bot's follow-up work (and anything it kicked) is finished before the next round starts.
  if (app === 'bot') await world.idle();
  return work.map((w) => w.p.sample);
}

// ---- statistics --------------------------------------------------------------------------------

/** Nearest-rank percentile. */
function percentile(sorted: number[], p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

interface Dist {
  n: number;
  p50: number | null;
  p99: number | null;
  max: number | null;
  mean: number | null;
}

function dist(xs: (number | undefined)[]): Dist {
  const v = xs.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  const r = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);
  return {
    n: v.length,
    p50: r(percentile(v, 50)),
    p99: r(percentile(v, 99)),
    max: r(v.at(-1) ?? null),
    mean: r(v.length ? v.reduce((a, b) => a + b, 0) / v.length : null),
  };
}

function errorsOf(samples: Sample[]) {
  const counts: Record<string, number> = {};
  const add = (key: string) => (counts[key] = (counts[key] ?? 0) + 1);
  for (const s of samples) {
    if (s.error) add(s.error);
    if (s.ackStatus !== undefined && s.ackStatus !== 200) add(`ack HTTP ${s.ackStatus}`);
    if (s.ackBody) add(`ack with a body: ${s.ackBody.slice(0, 80)}`);
    if (s.viewsOpenError) add(`views.open: ${s.viewsOpenError}`);
    if (s.viewsUpdateError) add(`views.update: ${s.viewsUpdateError}`);
  }
  return { total: Object.values(counts).reduce((a, b) => a + b, 0), counts };
}

function median(xs: (number | null)[]): number | null {
  const v = xs.filter((x): x is number => x !== null).sort((a, b) => a - b);
  return v.length ? v[Math.floor((v.length - 1) / 2)]! : null;
}

const ratio = (a: number | null, b: number | null) =>
  a === null || b === null || b === 0 ? null : Math.round((a / b) * 100) / 100;
const ms = (x: number | null) => (x === null ? '—' : `${x.toFixed(1)} ms`);
const loads = () => loadavg().map((l) => Math.round(l * 100) / 100);

// ---- main --------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const loadBefore = loads();
  const world = await startWorld();
  const unsubscribe = world.slack.onCall(onCall);
  const startedAt = new Date().toISOString();
  const samples: Sample[] = [];
  const perRound: { round: number; app: AppName; order: number; ack: Dist; viewsOpen: Dist; errors: number }[] = [];
  let replicaCpuBefore: number | undefined;
  let replicaCpuUsed: number | undefined;
  let bareCpuBefore: number | undefined;
  let bareCpuUsed: number | undefined;
  /** CPU ms per second with no request, over the idle window (background work). */
  let botIdleCpuMsPerS: number | undefined;
  let bareIdleCpuMsPerS: number | undefined;
  let measuredFrom: number | undefined;
  let pgCpuBefore: number | undefined;
  let pgIdleCpuMsPerS: number | undefined;
  let pgCpuUsed: number | undefined;
  let measuredSeconds = 0;
  try {
    const botIs =
      REPLICAS > 0
        ? `${REPLICAS} replicas on PostgreSQL behind a loopback balancer (the bare app ${values['bare-behind-balancer'] ? 'behind one too' : 'reached directly'})`
        : 'one process on SQLite';
    const bareShows =
      (BARE_FORM === 'same' ? 'the form the bot opens' : 'a one-block modal') +
      (values['bare-users-info'] ? ', after users.info' : '');
    console.log(
      `slack-ack-bench: ${CONCURRENCY} concurrent signed "/access ${TEXT}", ${ROUNDS} rounds per app after a warm-up; the bot: ${botIs}; the bare app opens ${bareShows}; Slack stand-in ${values['slack-process'] ? 'in its own process' : 'in this process'}; ${cpus().length} CPUs, load ${loadBefore.join(' ')}`,
    );
    // Warm-up: connections, JIT, the identity bindings (first contact binds; later rounds find them).
    for (let w = 1; w <= WARMUP; w++) {
      for (const app of ['bot', 'bare'] as const) {
        const warm = await runRound(world, app, -w);
        const e = errorsOf(warm);
        console.log(
          `  warm-up ${w} ${app.padEnd(4)}: ack p50 ${ms(dist(warm.map((s) => s.ackMs)).p50)}, views.open p50 ${ms(dist(warm.map((s) => s.viewsOpenMs)).p50)}${e.total ? `, ${e.total} errors ${JSON.stringify(e.counts)}` : ''}`,
        );
      }
    }
    if (IDLE_MS > 0 && (world.replicaCpuMs || world.bareCpuMs)) {
      const pgCpuMs = 'pgCpuMs' in world ? world.pgCpuMs : undefined;
      const [botAt, bareAt, pgAt] = [await world.replicaCpuMs?.(), await world.bareCpuMs?.(), await pgCpuMs?.()];
      const t0 = performance.now();
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
      const seconds = (performance.now() - t0) / 1000;
      if (pgAt !== undefined) pgIdleCpuMsPerS = ((await pgCpuMs!()) - pgAt) / seconds;
      if (botAt !== undefined) botIdleCpuMsPerS = ((await world.replicaCpuMs!()) - botAt) / seconds;
      if (bareAt !== undefined) bareIdleCpuMsPerS = ((await world.bareCpuMs!()) - bareAt) / seconds;
    }
    measuredFrom = performance.now();
    pgCpuBefore = 'pgCpuMs' in world ? await world.pgCpuMs?.() : undefined;
    replicaCpuBefore = await world.replicaCpuMs?.();
    bareCpuBefore = await world.bareCpuMs?.();
    for (let round = 1; round <= ROUNDS; round++) {
      const order: AppName[] = round % 2 === 1 ? ['bot', 'bare'] : ['bare', 'bot'];
      for (const [i, app] of order.entries()) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const got = await runRound(world, app, round);
        samples.push(...got);
        const r = {
          round,
          app,
          order: i,
          ack: dist(got.map((s) => s.ackMs)),
          viewsOpen: dist(got.map((s) => s.viewsOpenMs)),
          errors: errorsOf(got).total,
        };
        perRound.push(r);
        console.log(
          `  round ${String(round).padStart(2)} ${app.padEnd(4)}: ack p50 ${ms(r.ack.p50).padStart(9)} p99 ${ms(r.ack.p99).padStart(9)} | views.open p50 ${ms(r.viewsOpen.p50).padStart(9)} p99 ${ms(r.viewsOpen.p99).padStart(9)}${r.errors ? ` | ${r.errors} errors` : ''}`,
        );
      }
    }
    measuredSeconds = (performance.now() - measuredFrom!) / 1000;
    if (replicaCpuBefore !== undefined) replicaCpuUsed = (await world.replicaCpuMs!()) - replicaCpuBefore;
    if (pgCpuBefore !== undefined && 'pgCpuMs' in world) pgCpuUsed = (await world.pgCpuMs!()) - pgCpuBefore;
    if (bareCpuBefore !== undefined) bareCpuUsed = (await world.bareCpuMs!()) - bareCpuBefore;
  } finally {
    unsubscribe();
    await world.close();
  }
  const loadAfter = loads();

  const of = (app: AppName) => samples.filter((s) => s.app === app);
  const summary = (app: AppName) => ({
    requests: of(app).length,
    ack: dist(of(app).map((s) => s.ackMs)),
    serverAck: dist(of(app).map((s) => s.serverAckMs)),
    viewsOpen: dist(of(app).map((s) => s.viewsOpenMs)),
    ...(app === 'bot' && of(app).some((s) => s.viewsUpdateMs !== undefined)
      ? { viewsUpdate: dist(of(app).map((s) => s.viewsUpdateMs)) }
      : {}),
    errors: errorsOf(of(app)),
    /** The median over rounds of each round's p99: less swayed by one round a neighbour's CPU burst slowed. */
    medianOfRoundP99: {
      ack: median(perRound.filter((r) => r.app === app).map((r) => r.ack.p99)),
      viewsOpen: median(perRound.filter((r) => r.app === app).map((r) => r.viewsOpen.p99)),
    },
  });
  const bot = summary('bot');
  const bare = summary('bare');
  const ratios = {
    ackP50: ratio(bot.ack.p50, bare.ack.p50),
    ackP99: ratio(bot.ack.p99, bare.ack.p99),
    serverAckP50: ratio(bot.serverAck.p50, bare.serverAck.p50),
    serverAckP99: ratio(bot.serverAck.p99, bare.serverAck.p99),
    viewsOpenP50: ratio(bot.viewsOpen.p50, bare.viewsOpen.p50),
    viewsOpenP99: ratio(bot.viewsOpen.p99, bare.viewsOpen.p99),
  };
  const goals = {
    ackP99WithinRatio: ratios.ackP99 !== null && ratios.ackP99 <= GOAL_RATIO,
    viewsOpenP99WithinRatio: ratios.viewsOpenP99 !== null && ratios.viewsOpenP99 <= GOAL_RATIO,
    viewsOpenP99Under300ms: bot.viewsOpen.p99 !== null && bot.viewsOpen.p99 < GOAL_VIEWS_OPEN_P99_MS,
    noErrors: bot.errors.total === 0 && bare.errors.total === 0,
  };

  console.log('');
  console.log(`                 ack p50     ack p99   views.open p50  views.open p99   errors`);
  for (const [name, s] of [
    ['bot', bot],
    ['bare Bolt', bare],
  ] as const) {
    console.log(
      `  ${name.padEnd(10)} ${ms(s.ack.p50).padStart(10)} ${ms(s.ack.p99).padStart(11)} ${ms(s.viewsOpen.p50).padStart(16)} ${ms(s.viewsOpen.p99).padStart(15)} ${String(s.errors.total).padStart(8)}   (n=${s.requests})`,
    );
  }
  console.log(
    `  ratio      ${String(ratios.ackP50 ?? '—').padStart(9)}x ${String(ratios.ackP99 ?? '—').padStart(10)}x ${String(ratios.viewsOpenP50 ?? '—').padStart(15)}x ${String(ratios.viewsOpenP99 ?? '—').padStart(14)}x`,
  );
  console.log(
    `  ack as the apps' HTTP servers sent it: bot p50 ${ms(bot.serverAck.p50)} p99 ${ms(bot.serverAck.p99)}, bare p50 ${ms(bare.serverAck.p50)} p99 ${ms(bare.serverAck.p99)} (${ratios.serverAckP50 ?? '—'}x, ${ratios.serverAckP99 ?? '—'}x)`,
  );
  console.log(
    `  median of the rounds' p99: ack ${ms(bot.medianOfRoundP99.ack)} vs ${ms(bare.medianOfRoundP99.ack)} (${ratio(bot.medianOfRoundP99.ack, bare.medianOfRoundP99.ack) ?? '—'}x), views.open ${ms(bot.medianOfRoundP99.viewsOpen)} vs ${ms(bare.medianOfRoundP99.viewsOpen)} (${ratio(bot.medianOfRoundP99.viewsOpen, bare.medianOfRoundP99.viewsOpen) ?? '—'}x)`,
  );
  if ('viewsUpdate' in bot && bot.viewsUpdate)
    console.log(
      `  bot views.update (the modal with the person's roles): p50 ${ms(bot.viewsUpdate.p50)}, p99 ${ms(bot.viewsUpdate.p99)}`,
    );
  for (const [name, s] of [
    ['bot', bot],
    ['bare Bolt', bare],
  ] as const) {
    if (s.errors.total) console.log(`  ${name} errors: ${JSON.stringify(s.errors.counts)}`);
  }
  const yes = (b: boolean) => (b ? 'met' : 'NOT met');
  console.log(
    `  goal ack p99 ≤ ${GOAL_RATIO}x bare: ${yes(goals.ackP99WithinRatio)}; views.open p99 ≤ ${GOAL_RATIO}x bare: ${yes(goals.viewsOpenP99WithinRatio)}; views.open p99 < ${GOAL_VIEWS_OPEN_P99_MS} ms: ${yes(goals.viewsOpenP99Under300ms)}; no errors: ${yes(goals.noErrors)}`,
  );
  // The replicas' CPU over the measured rounds (their background work included), per bot request.
  const replicaCpuPerRequestMs =
    replicaCpuUsed === undefined ? null : Math.round((replicaCpuUsed / bot.requests) * 100) / 100;
  if (replicaCpuPerRequestMs !== null)
    console.log(`  the replicas' CPU (user + system) per bot request: ${replicaCpuPerRequestMs} ms`);
  const bareCpuPerRequestMs = bareCpuUsed === undefined ? null : Math.round((bareCpuUsed / bare.requests) * 100) / 100;
  if (bareCpuPerRequestMs !== null)
    console.log(
      `  the bare app's CPU (user + system) per request, in its own process: ${bareCpuPerRequestMs} ms${replicaCpuPerRequestMs !== null ? ` (the bot's: ${ratio(replicaCpuPerRequestMs, bareCpuPerRequestMs) ?? '—'}x)` : ''}`,
    );
  // The same, less what each spends with no request at all over the measured time (its idle rate).
  const netOf = (used: number | undefined, idlePerS: number | undefined, requests: number) =>
    used === undefined || idlePerS === undefined
      ? null
      : Math.round(((used - idlePerS * measuredSeconds) / requests) * 100) / 100;
  const replicaNetCpuPerRequestMs = netOf(replicaCpuUsed, botIdleCpuMsPerS, bot.requests);
  const bareNetCpuPerRequestMs = netOf(bareCpuUsed, bareIdleCpuMsPerS, bare.requests);
  const pgCpuPerRequestMs = pgCpuUsed === undefined ? null : Math.round((pgCpuUsed / bot.requests) * 100) / 100;
  const pgNetCpuPerRequestMs = netOf(pgCpuUsed, pgIdleCpuMsPerS, bot.requests);
  if (pgCpuPerRequestMs !== null)
    console.log(
      `  PostgreSQL's CPU (its processes, user + system) per bot request: ${pgCpuPerRequestMs} ms (10 ms ticks); with no request ${pgIdleCpuMsPerS?.toFixed(1) ?? '—'} ms/s, less that: ${pgNetCpuPerRequestMs ?? '—'} ms`,
    );
  const perS = (x: number | undefined) => (x === undefined ? '—' : `${x.toFixed(1)} ms/s`);
  if (replicaNetCpuPerRequestMs !== null && bareNetCpuPerRequestMs !== null)
    console.log(
      `  with no request: the replicas ${perS(botIdleCpuMsPerS)}, the bare app ${perS(bareIdleCpuMsPerS)}; less that over the ${measuredSeconds.toFixed(1)} s measured, per request: bot ${replicaNetCpuPerRequestMs} ms, bare ${bareNetCpuPerRequestMs} ms (${ratio(replicaNetCpuPerRequestMs, bareNetCpuPerRequestMs) ?? '—'}x)`,
    );
  console.log(`  load average before ${loadBefore.join(' ')}, after ${loadAfter.join(' ')} (${cpus().length} CPUs)`);

  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(
    OUT,
    JSON.stringify(
      {
        bench: 'slack-ack-bench',
        slackInOwnProcess: values['slack-process'],
        startedAt,
        node: process.version,
        cpus: cpus().length,
        loadAverage: { before: loadBefore, after: loadAfter },
        config: {
          replicas: REPLICAS,
          bareBehindBalancer: values['bare-behind-balancer'],
          bareInOwnProcess: values['bare-process'],
          bareForm: BARE_FORM,
          bareUsersInfo: values['bare-users-info'],
          concurrency: CONCURRENCY,
          rounds: ROUNDS,
          text: `/access ${TEXT}`,
          users: USER_COUNT,
          roundTimeoutMs: ROUND_TIMEOUT_MS,
          warmUpRounds: WARMUP,
          alternating: true,
        },
        goals: { ratio: GOAL_RATIO, viewsOpenP99Ms: GOAL_VIEWS_OPEN_P99_MS, ...goals },
        bot,
        bare,
        ratios,
        replicaCpuPerRequestMs,
        bareCpuPerRequestMs,
        idleCpuMsPerSecond: { bot: botIdleCpuMsPerS ?? null, bare: bareIdleCpuMsPerS ?? null },
        netCpuPerRequestMs: { bot: replicaNetCpuPerRequestMs, bare: bareNetCpuPerRequestMs },
        pgCpuPerRequestMs,
        pgIdleCpuMsPerSecond: pgIdleCpuMsPerS ?? null,
        pgNetCpuPerRequestMs,
        perRound,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`  wrote ${OUT}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
