/**
 * The scheduler: node-cron v4 fires the sweep, reconcile and digest schedules; a lease row in
 * SQLite decides which process runs a pass. Everything a pass does is re-derived from the database
 * and written with conditional updates, so the lease is not what keeps data correct (two sweeps at
 * once still revoke each grant once). It keeps passes from doubling work and, with the slot claim,
 * keeps a once-a-week pass (the digest) from running twice when several processes share a database.
 *
 * A pass:
 * 1. skipped if the same schedule is still running in this process (node-cron's `noOverlap`, and
 *    our own guard, which also covers `runNow`);
 * 2. takes the lease `schedule:<name>` until now + leaseSeconds, or skips when another live
 *    process holds it. A process that died leaves a lease that expires and is then taken over;
 * 3. for a scheduled tick, claims the slot (`schedule:<name>:slot` in meta): a tick another
 *    process already ran (its clock fired a moment earlier, it finished and let go) is skipped;
 * 4. runs, renewing the lease every renewEverySeconds, then releases it.
 *
 * `stop()` stops the ticks, aborts the running passes' signal (the job runner finishes the job in
 * flight and stops) and waits for them, then lets the leases go.
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import cron, { type ScheduledTask, type Logger as CronLogger, type TaskContext } from 'node-cron';
import { operationStore } from '../../operations/operation-scope.js';
import type { Clock, Logger, Store } from '../../operations/ports.js';

export interface PassContext {
  /** Aborted when the scheduler stops: finish the current unit of work and return. */
  signal: AbortSignal;
  /** The scheduled time this pass is for; null when run on demand (`runNow`). */
  slot: Date | null;
  /** This process's lease holder id, also a good job-runner worker id. */
  holder: string;
  /**
   * The pass's own handle on the store (operation-scope.ts): a second transaction (which would wait
   * for itself) or a store read inside one of its own transactions fails with StoreMisuseError.
   */
  store: Store;
}

export interface Schedule {
  /** Also names the lease (`schedule:<name>`), so every process must use the same names. */
  name: string;
  /** node-cron expression; a leading seconds field is allowed. */
  expression: string;
  run(pass: PassContext): Promise<unknown>;
}

export type PassOutcome =
  | { name: string; status: 'ran'; slot: Date | null; startedAt: string; finishedAt: string; result: unknown }
  | { name: string; status: 'failed'; slot: Date | null; startedAt: string; finishedAt: string; error: unknown }
  | {
      name: string;
      status: 'skipped';
      slot: Date | null;
      reason: 'running' | 'lease_held' | 'slot_done' | 'stopped';
      holder?: string;
    };

export interface SchedulerOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  /** `settings.timezone`: fixed-time schedules (the Monday digest) fire in it. */
  timezone: string;
  /** Who holds the leases; default host:pid:random (a restarted container is pid 1 again). */
  holder?: string;
  /** How long a lease lasts without renewal: how long a dead process blocks a schedule. Default 120 s. */
  leaseSeconds?: number;
  /** Default leaseSeconds / 4. */
  renewEverySeconds?: number;
}

const LEASE_PREFIX = 'schedule:';

export function defaultHolder(): string {
  return `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
}

/**
 * The heartbeat of a held lease (the schedules' and the audit stream's): renews it, or takes it
 * again if it lapsed while nobody else took it (a long event-loop stall). False when another
 * process holds it now. Each renewal runs beside the work the lease covers, so it has a handle on
 * the store of its own (operation-scope.ts): the work's transaction never refuses it.
 */
export function renewOrRetakeLease(
  store: Store,
  name: string,
  holder: string,
  now: string,
  until: string,
): Promise<boolean> {
  return operationStore(store).transaction(
    async (tx) => (await tx.renewLease(name, holder, now, until)) || (await tx.acquireLease(name, holder, now, until)),
  );
}

export class CronScheduler {
  readonly holder: string;
  private readonly leaseSeconds: number;
  private readonly renewEveryMs: number;
  private readonly tasks: ScheduledTask[] = [];
  private readonly running = new Map<string, Promise<PassOutcome>>();
  private readonly listeners = new Set<(outcome: PassOutcome) => void>();
  private readonly abort = new AbortController();
  private state: 'new' | 'started' | 'stopping' | 'stopped' = 'new';

  constructor(
    private readonly schedules: readonly Schedule[],
    private readonly options: SchedulerOptions,
  ) {
    this.holder = options.holder ?? defaultHolder();
    this.leaseSeconds = options.leaseSeconds ?? 120;
    this.renewEveryMs = (options.renewEverySeconds ?? this.leaseSeconds / 4) * 1000;
    const names = new Set<string>();
    for (const schedule of schedules) {
      if (names.has(schedule.name)) throw new Error(`two schedules are named ${schedule.name}`);
      names.add(schedule.name);
      if (!cron.validate(schedule.expression))
        throw new Error(`schedule ${schedule.name}: '${schedule.expression}' is not a valid cron expression`);
    }
  }

  /** Starts the cron ticks. Call `runNow` as well for a pass at start-up. */
  start(): void {
    if (this.state !== 'new') throw new Error(`the scheduler was already ${this.state}`);
    this.state = 'started';
    const quiet = cronLogger(this.options.logger);
    for (const schedule of this.schedules) {
      const timezone = timezoneFor(schedule.expression, this.options.timezone);
      const task = cron.createTask(schedule.expression, (ctx: TaskContext) => this.pass(schedule, ctx.date), {
        name: `access-bot:${schedule.name}:${this.holder}`,
        timezone,
        noOverlap: true,
        logger: quiet,
      });
      // Listening to these also keeps node-cron from printing its own warnings.
      task.on('execution:overlap', () =>
        this.options.logger.debug('schedule still running; tick skipped', { schedule: schedule.name }),
      );
      task.on('execution:missed', (ctx) =>
        this.options.logger.warn('schedule tick missed (the process was busy)', {
          schedule: schedule.name,
          at: ctx.date.toISOString(),
        }),
      );
      void task.start();
      this.tasks.push(task);
      this.options.logger.info('schedule started', {
        schedule: schedule.name,
        expression: schedule.expression,
        timezone,
        next: task.getNextRun()?.toISOString(),
      });
    }
  }

  /** Runs one pass of `name` now, through the lease (not the slot claim). */
  runNow(name: string): Promise<PassOutcome> {
    const schedule = this.schedules.find((s) => s.name === name);
    if (!schedule) throw new Error(`no schedule named ${name}`);
    return this.pass(schedule, null);
  }

  /** Called after every pass, run or skipped. Returns the unsubscribe function. */
  onPass(listener: (outcome: PassOutcome) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The passes running in this process now. */
  busy(): string[] {
    return [...this.running.keys()];
  }

  /** Stops the ticks, asks running passes to stop, waits for them and releases their leases. Idempotent. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopping';
    for (const task of this.tasks) await task.destroy();
    this.tasks.length = 0;
    this.abort.abort();
    await Promise.allSettled([...this.running.values()]);
    this.state = 'stopped';
  }

  private pass(schedule: Schedule, slot: Date | null): Promise<PassOutcome> {
    if (this.state === 'stopping' || this.state === 'stopped')
      return Promise.resolve(this.emit({ name: schedule.name, status: 'skipped', slot, reason: 'stopped' }));
    if (this.running.has(schedule.name)) {
      this.options.logger.debug('schedule still running; pass skipped', { schedule: schedule.name });
      return Promise.resolve(this.emit({ name: schedule.name, status: 'skipped', slot, reason: 'running' }));
    }
    const promise = this.leasedPass(schedule, slot).finally(() => this.running.delete(schedule.name));
    this.running.set(schedule.name, promise);
    return promise;
  }

  private async leasedPass(schedule: Schedule, slot: Date | null): Promise<PassOutcome> {
    const { logger } = this.options;
    // The lease's transactions come before and after the pass: they share its handle. The heartbeat,
    // which runs beside it, has handles of its own.
    const store = operationStore(this.options.store);
    const lease = `${LEASE_PREFIX}${schedule.name}`;
    const acquired = await store.transaction(async (tx) => {
      const now = this.nowIso();
      if (!(await tx.acquireLease(lease, this.holder, now, this.expiry())))
        return { ok: false as const, holder: (await tx.getLease(lease))?.holder };
      if (slot) {
        // The slot is claimed under the lease: of several processes whose clocks fired for the
        // same tick, the first to get here runs it and the others find it done.
        const slotKey = `${LEASE_PREFIX}${schedule.name}:slot`;
        const done = await tx.getMeta(slotKey);
        if (done && done >= slot.toISOString()) return { ok: false as const, slotDone: true };
        await tx.setMeta(slotKey, slot.toISOString(), now);
      }
      return { ok: true as const };
    });
    if (!acquired.ok) {
      if ('slotDone' in acquired) {
        await store.transaction((tx) => tx.releaseLease(lease, this.holder));
        logger.debug('schedule slot already run by another process', {
          schedule: schedule.name,
          slot: slot?.toISOString(),
        });
        return this.emit({ name: schedule.name, status: 'skipped', slot, reason: 'slot_done' });
      }
      logger.debug('schedule lease held by another process; pass skipped', {
        schedule: schedule.name,
        holder: acquired.holder,
      });
      return this.emit({ name: schedule.name, status: 'skipped', slot, reason: 'lease_held', holder: acquired.holder });
    }

    if (this.abort.signal.aborted) {
      // stop() came while the lease was being taken: the pass does not start.
      await store.transaction((tx) => tx.releaseLease(lease, this.holder));
      return this.emit({ name: schedule.name, status: 'skipped', slot, reason: 'stopped' });
    }
    const heartbeat = setInterval(() => void this.renew(lease, schedule.name), this.renewEveryMs);
    heartbeat.unref();
    const startedAt = this.nowIso();
    let outcome: PassOutcome;
    try {
      const result = await schedule.run({ signal: this.abort.signal, slot, holder: this.holder, store });
      outcome = { name: schedule.name, status: 'ran', slot, startedAt, finishedAt: this.nowIso(), result };
    } catch (error) {
      logger.error('schedule pass failed', { schedule: schedule.name, error });
      outcome = { name: schedule.name, status: 'failed', slot, startedAt, finishedAt: this.nowIso(), error };
    } finally {
      clearInterval(heartbeat);
      try {
        await store.transaction((tx) => tx.releaseLease(lease, this.holder));
      } catch (error) {
        // It expires on its own; another process waits at most leaseSeconds.
        logger.warn('could not release a schedule lease', { schedule: schedule.name, error });
      }
    }
    return this.emit(outcome);
  }

  private async renew(lease: string, name: string): Promise<void> {
    try {
      const kept = await renewOrRetakeLease(this.options.store, lease, this.holder, this.nowIso(), this.expiry());
      if (!kept)
        this.options.logger.warn(
          'schedule lease lost to another process while a pass was running; both passes are safe, but the lease is too short',
          { schedule: name },
        );
    } catch (error) {
      this.options.logger.warn('could not renew a schedule lease', { schedule: name, error });
    }
  }

  private nowIso(): string {
    return this.options.clock.now().toISOString();
  }

  private expiry(): string {
    return new Date(this.options.clock.now().getTime() + this.leaseSeconds * 1000).toISOString();
  }

  private emit(outcome: PassOutcome): PassOutcome {
    for (const listener of this.listeners) {
      try {
        listener(outcome);
      } catch (error) {
        this.options.logger.warn('a pass listener failed', { error });
      }
    }
    return outcome;
  }
}

/**
 * The zone a schedule fires in. An interval (every N seconds or minutes: hour, day, month and
 * weekday fields all `*`) fires at the same instants in UTC as in any whole-hour zone, and in UTC
 * it cannot pause through the repeated hour when clocks go back (TECH-NOTES §12). Anything tied to
 * a time of day (the Monday 09:00 digest) fires in `settings.timezone`.
 */
export function timezoneFor(expression: string, timezone: string): string {
  const fields = expression.trim().split(/\s+/);
  const dateFields = fields.length === 6 ? fields.slice(2) : fields.slice(1);
  if (dateFields.length !== 4 || dateFields.some((f) => f !== '*')) return timezone;
  return wholeHourOffsets(timezone) ? 'UTC' : timezone;
}

function wholeHourOffsets(timezone: string): boolean {
  const year = new Date().getUTCFullYear();
  return [Date.UTC(year, 0, 15), Date.UTC(year, 6, 15)].every((ms) => {
    const name =
      new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' })
        .formatToParts(ms)
        .find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
    return /^GMT(?:[+-]\d{2}:00)?$/.test(name);
  });
}

/** node-cron's own messages go to our logger; its overlap warning (one per skipped tick) goes to debug. */
export function cronLogger(logger: Logger): CronLogger {
  const text = (m: unknown) => (m instanceof Error ? m.message : String(m));
  return {
    info: (message) => logger.debug(`node-cron: ${message}`),
    warn: (message) =>
      message.includes('overlap') ? logger.debug(`node-cron: ${message}`) : logger.warn(`node-cron: ${message}`),
    error: (message, err) => logger.error(`node-cron: ${text(message)}`, { error: err ?? message }),
    debug: (message) => logger.debug(`node-cron: ${text(message)}`),
  };
}
