/**
 * /healthz with a backlog: how long one health check blocks the event loop while `--jobs`
 * messages wait to be sent (a Slack outage), on a real SQLite file.
 *
 *   node --import tsx bench/healthz-bench.ts [--jobs 100000] [--runs 5]
 *
 * Reports the median and worst of `--runs` checks (after one warm-up), in milliseconds.
 */
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createHealthCheck } from '../src/health.js';
import { createHarness } from '../test/support/lifecycle-harness.js';

const { values } = parseArgs({
  options: { jobs: { type: 'string', default: '100000' }, runs: { type: 'string', default: '5' } },
});
const JOBS = Number(values.jobs);
const RUNS = Number(values.runs);

const h = createHarness();
try {
  const now = h.clock.now().toISOString();
  await h.store.transaction(async (tx) => {
    for (let i = 0; i < JOBS; i++) {
      await tx.enqueueJob(
        `notify:backlog:${i}`,
        {
          kind: 'notify',
          notification: {
            type: 'alert',
            recipient: { kind: 'channel', channel: 'C0ACCESSOPS' },
            text: `backlog message ${i}`,
          },
        },
        now,
      );
    }
  });
  const check = createHealthCheck(h.deps);
  await check();
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const { body } = await check();
    times.push(performance.now() - started);
    if (body.pendingJobs !== JOBS) throw new Error(`counted ${body.pendingJobs} pending jobs, expected ${JOBS}`);
  }
  times.sort((a, b) => a - b);
  process.stdout.write(
    `healthz with ${JOBS} pending jobs: median ${times[Math.floor(times.length / 2)]!.toFixed(1)} ms, worst ${times.at(-1)!.toFixed(1)} ms (${RUNS} runs)\n`,
  );
} finally {
  await h.close();
}
