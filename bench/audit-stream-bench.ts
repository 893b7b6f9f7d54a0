/**
 * Audit stream benchmark:
 *
 *   node --import tsx bench/audit-stream-bench.ts [--events 1000000] [--requests 5000] [--rounds 3]
 *
 * 1. A backlog: a database whose audit log holds N chained events (bench/generate-audit-log.ts)
 *    and a webhook sink that has delivered none of them. A child process runs the real streamer
 *    (AuditStreamer + WebhookSink, batches of 500, json format) under `/usr/bin/time -v` until
 *    the sink's cursor reaches the head; the receiver, in a process of its own, verifies every
 *    batch's signature and checks that the seqs arrive in order, each once. Figures: events per
 *    second (from the first batch to the last, start-up excluded) and the streamer's peak RSS.
 * 2. The lifecycle bench (bench/lifecycle-bench.ts --one) with the audit stream off and
 *    on (two sinks: a webhook to the receiver process and a JSON-lines file), alternately,
 *    `--rounds` times each: the median time of each and their ratio. Goal: at most 5% slower.
 *
 * Results are printed and written to bench/out/audit-stream-bench.json.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '1000000' },
    requests: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '3' },
    child: { type: 'string' },
    db: { type: 'string' },
    url: { type: 'string' },
    skip: { type: 'string', multiple: true, default: [] },
  },
});
const SECRET = 'bench-audit-secret';

if (values.child === 'stream') {
  // The streaming process: the real streamer and webhook sink, from the sink's cursor (0) to the head.
  const { AuditStreamer } = await import('../src/adapters/audit-stream/audit-streamer.js');
  const { WebhookSink } = await import('../src/adapters/audit-stream/webhook-sink.js');
  const { SqliteStore } = await import('../src/adapters/db/sqlite-store.js');
  const { silentLogger } = await import('../src/adapters/log/json-logger.js');
  const { SINK_DEFAULTS } = await import('../src/domain/audit-sinks.js');
  const { systemClock } = await import('../src/operations/ports.js');
  const { SETTINGS } = await import('../test/support/lifecycle-harness.js');
  const store = SqliteStore.open(values.db!);
  const head = (await store.auditHead()).seq;
  const settings = {
    name: 'siem',
    type: 'webhook',
    url: values.url!,
    secretEnv: 'BENCH_AUDIT_SECRET',
    format: 'json',
    batchSize: SINK_DEFAULTS.batchSize,
    alertAfterSeconds: SINK_DEFAULTS.alertAfterSeconds,
    timeoutSeconds: 10,
  } as const;
  const sink = new WebhookSink(settings, { env: { BENCH_AUDIT_SECRET: SECRET }, allowInsecureLoopback: true });
  const streamer = new AuditStreamer(
    { store, clock: systemClock, settings: { ...SETTINGS, auditSinks: [settings] }, logger: silentLogger },
    { sinks: [{ sink, settings }] },
  );
  let first: number | undefined;
  let failures = 0;
  const done = new Promise<void>((resolve) => {
    streamer.onEvent((event) => {
      if (event.kind !== 'step') return;
      if (event.step.kind === 'failed') failures++;
      if (event.step.kind !== 'delivered') return;
      first ??= performance.now();
      if (event.step.to >= head) resolve();
    });
  });
  const t0 = performance.now();
  streamer.start();
  await done;
  const t1 = performance.now();
  await streamer.stop();
  await store.close();
  process.stdout.write(JSON.stringify({ head, seconds: (t1 - t0) / 1000, firstBatchMs: first! - t0, failures }) + '\n');
  process.exit(0);
}

const root = process.cwd();
if (!existsSync('/usr/bin/time')) throw new Error('/usr/bin/time is needed for peak RSS (apt-get install -y time)');
const dir = mkdtempSync(join(tmpdir(), 'audit-stream-bench-'));
const result: Record<string, unknown> = {
  machine: { cpus: (await import('node:os')).cpus().length, node: process.version },
};
try {
  if (!values.skip.includes('backlog')) {
    const total = Number(values.events);
    const dbPath = join(dir, 'backlog.db');
    const { generate } = await import('./generate-audit-log.js');
    const g0 = performance.now();
    await generate(dbPath, total);
    console.log(`generated ${total} chained events in ${((performance.now() - g0) / 1000).toFixed(1)} s`);
    const receiver = await startReceiver();
    try {
      const run = await timed(process.execPath, [
        '--import',
        'tsx',
        join(root, 'bench/audit-stream-bench.ts'),
        '--child',
        'stream',
        '--db',
        dbPath,
        '--url',
        receiver.url,
      ]);
      const streamed = JSON.parse(run.stdout) as {
        head: number;
        seconds: number;
        firstBatchMs: number;
        failures: number;
      };
      const got = await receiver.report();
      const backlog = {
        events: total,
        seconds: streamed.seconds,
        eventsPerSecond: total / streamed.seconds,
        processSeconds: run.seconds,
        peakRssMb: run.peakRssMb,
        failedAttempts: streamed.failures,
        receiver: got,
      };
      result.backlog = backlog;
      console.log(
        `backlog of ${total} events to a local webhook sink: ${streamed.seconds.toFixed(1)} s, ${backlog.eventsPerSecond.toFixed(0)} events/s, peak RSS ${run.peakRssMb.toFixed(0)} MB (process ${run.seconds.toFixed(1)} s)`,
      );
      console.log(
        `  receiver: ${got.accepted} accepted in ${got.batches} batches, ${got.repeats} repeats, last seq ${got.lastSeq}, gap ${got.firstGap ?? 'none'}, bad signatures ${got.badSignatures}`,
      );
      if (got.accepted !== total || got.firstGap !== null || got.badSignatures)
        throw new Error('the receiver did not get every event once, in order, signed');
    } finally {
      await receiver.stop();
    }
  }

  if (!values.skip.includes('lifecycle')) {
    const rounds = Number(values.rounds);
    const receiver = await startReceiver();
    try {
      const off: number[] = [];
      const on: number[] = [];
      let catchUp: number[] = [];
      for (let round = 0; round < rounds; round++) {
        for (const stream of round % 2 === 0 ? [false, true] : [true, false]) {
          const args = [
            '--import',
            'tsx',
            join(root, 'bench/lifecycle-bench.ts'),
            '--requests',
            values.requests,
            '--one',
            '--json',
          ];
          if (stream) args.push('--stream-to', receiver.url);
          const run = await timed(process.execPath, args);
          const line = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
            seconds: number;
            events: number;
            streamedAtEnd: number;
            catchUpSeconds?: number;
          };
          (stream ? on : off).push(line.seconds);
          if (stream) catchUp = [...catchUp, line.catchUpSeconds!];
          console.log(
            `  lifecycle, ${values.requests} requests, stream ${stream ? 'on ' : 'off'}: ${line.seconds.toFixed(2)} s (${line.events} events)${stream ? `, ${line.streamedAtEnd} streamed by then, all ${line.catchUpSeconds!.toFixed(2)} s later` : ''}`,
          );
        }
      }
      const got = await receiver.report();
      const ratio = median(on) / median(off);
      result.lifecycle = {
        requests: Number(values.requests),
        rounds,
        offSeconds: off,
        onSeconds: on,
        medianOff: median(off),
        medianOn: median(on),
        ratio,
        catchUpSeconds: catchUp,
        goalMet: ratio <= 1.05,
      };
      console.log(
        `lifecycle with two sinks on vs off: median ${median(on).toFixed(2)} s vs ${median(off).toFixed(2)} s, ratio ${ratio.toFixed(3)} (goal <= 1.05: ${ratio <= 1.05 ? 'met' : 'MISSED'})`,
      );
      console.log(
        `  receiver (all stream-on runs): ${got.accepted} new seqs in ${got.batches} batches, bad signatures ${got.badSignatures}`,
      );
    } finally {
      await receiver.stop();
    }
  }
  mkdirSync(join(root, 'bench/out'), { recursive: true });
  writeFileSync(join(root, 'bench/out/audit-stream-bench.json'), JSON.stringify(result, null, 2) + '\n');
} finally {
  rmSync(dir, { recursive: true, force: true });
}

interface ReceiverReport {
  batches: number;
  accepted: number;
  repeats: number;
  lastSeq: number;
  badSignatures: number;
  firstGap: string | null;
  bytes: number;
}

async function startReceiver(): Promise<{ url: string; report(): Promise<ReceiverReport>; stop(): Promise<void> }> {
  const child: ChildProcess = fork(join(root, 'bench/audit-receiver-process.ts'), [SECRET], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const [ready] = (await once(child, 'message')) as [{ type: string; url: string }];
  return {
    url: ready.url,
    async report() {
      child.send({ type: 'report' });
      const [message] = (await once(child, 'message')) as [ReceiverReport & { type: string }];
      const { type: _type, ...report } = message;
      return report;
    },
    async stop() {
      child.send({ type: 'stop' });
      await once(child, 'exit');
    },
  };
}

/** Runs a command under /usr/bin/time -v: its stdout, wall time and peak RSS. */
async function timed(cmd: string, args: string[]): Promise<{ seconds: number; peakRssMb: number; stdout: string }> {
  const start = performance.now();
  const child = spawn('/usr/bin/time', ['-v', cmd, ...args], {
    env: { ...process.env, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'close')) as [number];
  const seconds = (performance.now() - start) / 1000;
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${code}:\n${stderr}`);
  const rssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? NaN);
  return { seconds, peakRssMb: rssKb / 1024, stdout };
}

function median(xs: number[]): number {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
