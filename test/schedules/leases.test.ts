import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CronScheduler,
  cronLogger,
  timezoneFor,
  type PassOutcome,
  type Schedule,
} from '../../src/adapters/cron/scheduler.js';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import { silentLogger } from '../../src/adapters/log/json-logger.js';
import { StoreMisuseError } from '../../src/operations/operation-scope.js';
import type { Logger, StoreTx } from '../../src/operations/ports.js';
import { FakeClock } from '../support/fakes.js';

let dir: string;
let a: SqliteStore;
let b: SqliteStore;
const T0 = '2026-03-02T09:00:00.000Z';
const plus = (seconds: number) => new Date(Date.parse(T0) + seconds * 1000).toISOString();

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'access-bot-lease-'));
  a = SqliteStore.open(join(dir, 'access.db'));
  b = SqliteStore.open(join(dir, 'access.db'));
});
afterEach(async () => {
  await a.close();
  await b.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('schedule leases in SQLite', () => {
  it('lets one of two processes hold a lease, and the holder take it again', async () => {
    expect(await a.transaction(async (tx) => await tx.acquireLease('schedule:sweep', 'proc-a', T0, plus(120)))).toBe(
      true,
    );
    expect(
      await b.transaction(async (tx) => await tx.acquireLease('schedule:sweep', 'proc-b', plus(1), plus(121))),
    ).toBe(false);
    expect(
      await a.transaction(async (tx) => await tx.acquireLease('schedule:sweep', 'proc-a', plus(2), plus(122))),
    ).toBe(true);
    expect(await b.getLease('schedule:sweep')).toEqual({
      name: 'schedule:sweep',
      holder: 'proc-a',
      acquiredAt: T0,
      expiresAt: plus(122),
    });
    // Another schedule is another lease.
    expect(
      await b.transaction(async (tx) => await tx.acquireLease('schedule:digest', 'proc-b', plus(1), plus(121))),
    ).toBe(true);
  });

  it('lets another process take over a lease its dead holder left to expire', async () => {
    await a.transaction(async (tx) => await tx.acquireLease('schedule:sweep', 'dead-proc', T0, plus(120)));
    expect(
      await b.transaction(async (tx) => await tx.acquireLease('schedule:sweep', 'proc-b', plus(119), plus(239))),
    ).toBe(false);
    expect(
      await b.transaction(async (tx) => await tx.acquireLease('schedule:sweep', 'proc-b', plus(120), plus(240))),
    ).toBe(true);
    expect(await a.getLease('schedule:sweep')).toMatchObject({ holder: 'proc-b', acquiredAt: plus(120) });
    // The dead holder, back from a long stall, can neither renew nor release what it lost.
    expect(
      await a.transaction(async (tx) => await tx.renewLease('schedule:sweep', 'dead-proc', plus(121), plus(241))),
    ).toBe(false);
    expect(await a.transaction(async (tx) => await tx.releaseLease('schedule:sweep', 'dead-proc'))).toBe(false);
    expect((await b.getLease('schedule:sweep'))!.holder).toBe('proc-b');
  });

  it('renews only a live lease of the same holder, and a release frees it at once', async () => {
    await a.transaction(async (tx) => await tx.acquireLease('schedule:sweep', 'proc-a', T0, plus(120)));
    expect(
      await a.transaction(async (tx) => await tx.renewLease('schedule:sweep', 'proc-a', plus(60), plus(180))),
    ).toBe(true);
    expect(
      await b.transaction(async (tx) => await tx.acquireLease('schedule:sweep', 'proc-b', plus(150), plus(270))),
    ).toBe(false);
    expect(await a.transaction(async (tx) => await tx.releaseLease('schedule:sweep', 'proc-a'))).toBe(true);
    expect(
      await b.transaction(async (tx) => await tx.acquireLease('schedule:sweep', 'proc-b', plus(151), plus(271))),
    ).toBe(true);
  });
});

function recordingLogger(): Logger & { lines: { level: string; msg: string }[] } {
  const lines: { level: string; msg: string }[] = [];
  const at = (level: string) => (msg: string) => void lines.push({ level, msg });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/**
 * A schedule whose passes wait until the test lets them finish. `running()` resolves once a pass
 * is in its run (the lease taken: a pass takes it asynchronously after `runNow`).
 */
function gatedSchedule(name: string) {
  let release!: () => void;
  let gate = new Promise<void>((r) => (release = r));
  let entered!: () => void;
  const running = new Promise<void>((r) => (entered = r));
  const runs: string[] = [];
  const schedule: Schedule = {
    name,
    expression: '0 0 1 1 *', // never fires during a test; passes are started with runNow
    async run(pass) {
      runs.push(pass.holder);
      entered();
      await gate;
      return 'done';
    },
  };
  return {
    schedule,
    runs,
    running: () => running,
    open() {
      release();
      gate = new Promise<void>((r) => (release = r));
    },
  };
}

describe('the scheduler', () => {
  it('runs a schedule in one of two processes sharing a database; the other skips', async () => {
    const clock = new FakeClock(T0);
    const s1 = gatedSchedule('sweep');
    const s2 = gatedSchedule('sweep');
    const one = new CronScheduler([s1.schedule], {
      store: a,
      clock,
      logger: silentLogger,
      timezone: 'UTC',
      holder: 'proc-a',
    });
    const two = new CronScheduler([s2.schedule], {
      store: b,
      clock,
      logger: silentLogger,
      timezone: 'UTC',
      holder: 'proc-b',
    });
    const first = one.runNow('sweep');
    const second = await two.runNow('sweep');
    expect(second).toMatchObject({ status: 'skipped', reason: 'lease_held', holder: 'proc-a' });
    // And the same process does not start a second pass of a schedule still running.
    expect(await one.runNow('sweep')).toMatchObject({ status: 'skipped', reason: 'running' });
    await s1.running();
    s1.open();
    expect(await first).toMatchObject({ status: 'ran', result: 'done' });
    // Released at the end of the pass: the other process may run the next one.
    const next = two.runNow('sweep');
    await s2.running();
    s2.open();
    expect(await next).toMatchObject({ status: 'ran' });
    expect([...s1.runs, ...s2.runs]).toEqual(['proc-a', 'proc-b']);
  });

  it('takes over the lease of a process that died mid-pass once it expires', async () => {
    const clock = new FakeClock(T0);
    // The dead process took the lease and never let go.
    await a.transaction(async (tx) => await tx.acquireLease('schedule:sweep', 'dead-proc', T0, plus(120)));
    const s = gatedSchedule('sweep');
    const scheduler = new CronScheduler([s.schedule], {
      store: b,
      clock,
      logger: silentLogger,
      timezone: 'UTC',
      holder: 'proc-b',
      leaseSeconds: 120,
    });
    clock.advance(60);
    expect(await scheduler.runNow('sweep')).toMatchObject({
      status: 'skipped',
      reason: 'lease_held',
      holder: 'dead-proc',
    });
    clock.advance(60);
    const pass = scheduler.runNow('sweep');
    await s.running();
    expect(await a.getLease('schedule:sweep')).toMatchObject({ holder: 'proc-b', expiresAt: plus(240) });
    s.open();
    expect(await pass).toMatchObject({ status: 'ran' });
    expect(await a.getLease('schedule:sweep')).toBeUndefined();
  });

  it('renews its lease while a long pass runs', async () => {
    const clock = new FakeClock(T0);
    const s = gatedSchedule('sweep');
    const scheduler = new CronScheduler([s.schedule], {
      store: a,
      clock,
      logger: silentLogger,
      timezone: 'UTC',
      holder: 'proc-a',
      leaseSeconds: 120,
      renewEverySeconds: 0.02,
    });
    const pass = scheduler.runNow('sweep');
    await s.running();
    clock.advance(100);
    await waitFor(async () => (await a.getLease('schedule:sweep'))?.expiresAt === plus(220));
    clock.advance(100); // past the first expiry: only the renewal keeps it
    expect(
      await b.transaction(
        async (tx) => await tx.acquireLease('schedule:sweep', 'proc-b', clock.now().toISOString(), plus(400)),
      ),
    ).toBe(false);
    s.open();
    await pass;
  });

  it('fails a pass that reads its store inside its own transaction at once, and lets the lease go', async () => {
    const clock = new FakeClock(T0);
    const schedule: Schedule = {
      name: 'sweep',
      expression: '0 0 1 1 *',
      run: (pass) =>
        pass.store.transaction(async (tx) => {
          await tx.setMeta('marked', 'yes', T0);
          // Should be tx.getMeta: the store's own read does not see this transaction's write.
          return pass.store.getMeta('marked');
        }),
    };
    const logger = recordingLogger();
    const scheduler = new CronScheduler([schedule], { store: a, clock, logger, timezone: 'UTC', holder: 'proc-a' });
    const outcome = await scheduler.runNow('sweep');
    expect(outcome).toMatchObject({ status: 'failed' });
    expect(outcome.status === 'failed' && outcome.error).toBeInstanceOf(StoreMisuseError);
    expect(logger.lines).toContainEqual({ level: 'error', msg: 'schedule pass failed' });
    expect(await a.getMeta('marked')).toBeUndefined();
    expect(await a.getLease('schedule:sweep')).toBeUndefined();
  });

  it('renews the lease while the pass is inside a transaction of its own', async () => {
    const clock = new FakeClock(T0);
    // The store as the scheduler sees it, counting the transactions that reach it.
    let transactions = 0;
    const counted = Object.create(a, {
      transaction: {
        value: (fn: (tx: StoreTx) => Promise<unknown>) => (transactions++, a.transaction(fn)),
        writable: true,
      },
    }) as SqliteStore;
    const schedule: Schedule = {
      name: 'sweep',
      expression: '0 0 1 1 *',
      run: (pass) =>
        pass.store.transaction(async (tx) => {
          await tx.setMeta('pass', 'running', T0);
          // The heartbeat's renewal reaches the store (and waits its turn) while this one runs.
          const before = transactions;
          clock.advance(100);
          await waitFor(() => transactions > before);
        }),
    };
    const logger = recordingLogger();
    const scheduler = new CronScheduler([schedule], {
      store: counted,
      clock,
      logger,
      timezone: 'UTC',
      holder: 'proc-a',
      leaseSeconds: 120,
      renewEverySeconds: 0.02,
    });
    expect(await scheduler.runNow('sweep')).toMatchObject({ status: 'ran' });
    expect(logger.lines.filter((l) => l.level !== 'debug')).toEqual([]);
    expect(await a.getMeta('pass')).toBe('running');
  });

  it('stop() waits for the running pass, aborts its signal and lets the lease go', async () => {
    const clock = new FakeClock(T0);
    let aborted = false;
    let started = false;
    let finish!: () => void;
    const schedule: Schedule = {
      name: 'sweep',
      expression: '* * * * *',
      run: (pass) =>
        new Promise((resolve) => {
          started = true;
          pass.signal.addEventListener('abort', () => {
            aborted = true;
            finish = () => resolve('stopped early');
          });
        }),
    };
    const scheduler = new CronScheduler([schedule], {
      store: a,
      clock,
      logger: silentLogger,
      timezone: 'UTC',
      holder: 'proc-a',
    });
    scheduler.start();
    const outcomes: PassOutcome[] = [];
    scheduler.onPass((o) => outcomes.push(o));
    const pass = scheduler.runNow('sweep');
    await waitFor(() => started);
    let stopped = false;
    const stopping = scheduler.stop().then(() => (stopped = true));
    await waitFor(() => aborted);
    expect(stopped).toBe(false); // still waiting for the pass
    expect((await a.getLease('schedule:sweep'))!.holder).toBe('proc-a');
    finish();
    await stopping;
    expect((await pass).status).toBe('ran');
    expect(await a.getLease('schedule:sweep')).toBeUndefined();
    expect(await scheduler.runNow('sweep')).toMatchObject({ status: 'skipped', reason: 'stopped' });
    expect(outcomes.map((o) => o.status)).toEqual(['ran', 'skipped']);
  });

  it('refuses an invalid cron expression when it is built', () => {
    expect(
      () =>
        new CronScheduler([{ name: 'sweep', expression: '61 * * * *', run: async () => 0 }], {
          store: a,
          clock: new FakeClock(),
          logger: silentLogger,
          timezone: 'UTC',
        }),
    ).toThrow(/not a valid cron expression/);
  });

  it('fires intervals in UTC (no pause when clocks go back) and times of day in the settings zone', () => {
    expect(timezoneFor('* * * * *', 'Europe/Berlin')).toBe('UTC');
    expect(timezoneFor('*/10 * * * * *', 'Europe/Berlin')).toBe('UTC');
    expect(timezoneFor('0 * * * *', 'America/New_York')).toBe('UTC');
    expect(timezoneFor('0 9 * * 1', 'Europe/Berlin')).toBe('Europe/Berlin');
    // A half-hour zone: "minute 0" means :00 local, which is not :00 UTC.
    expect(timezoneFor('0 * * * *', 'Asia/Kolkata')).toBe('Asia/Kolkata');
  });

  it("routes node-cron's overlap warning to debug and its errors to our logger", () => {
    const logger = recordingLogger();
    const cron = cronLogger(logger);
    cron.warn('task still running, new execution blocked by overlap prevention!');
    cron.warn('missed execution at ...');
    cron.error(new Error('boom'));
    expect(logger.lines.map((l) => l.level)).toEqual(['debug', 'warn', 'error']);
  });
});

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!(await condition())) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for a condition');
    await new Promise((r) => setTimeout(r, 5));
  }
}
