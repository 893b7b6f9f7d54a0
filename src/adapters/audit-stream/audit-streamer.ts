/**
 * Runs the audit stream in the bot's process: one loop per sink (operations/audit-stream/
 * deliver-batch.ts, a batch at a time) and one for signed checkpoints (write-checkpoint.ts).
 *
 * Exactly one process streams each sink: a loop works only while it holds the sink's lease
 * (`audit-sink:<name>` in the store, the mechanism the schedules use), renewed by a heartbeat while
 * it runs. A process that dies leaves a lease that expires; another replica then takes it over and
 * resumes from the sink's cursor. Should two processes ever send at once (a stalled holder whose
 * lease lapsed), the cursor's conditional move lets one win, and the other steps back.
 *
 * Nothing here runs inside a transaction of the operations: the loops read committed events and
 * write only their own state, so a decision never waits for a sink.
 *
 * Each loop has its own handle on the store, and each heartbeat renewal another
 * (operations/operation-scope.ts): a store read or a second transaction inside a loop's own
 * transaction fails with StoreMisuseError instead of waiting for itself, while the heartbeat, which
 * runs beside the loop, is never refused for the loop's transaction.
 */
import type { AuditCheckpointSettings, AuditSinkSettings } from '../../domain/audit-sinks.js';
import { deliverNextBatch, type StreamDeps, type StreamStep } from '../../operations/audit-stream/deliver-batch.js';
import { writeCheckpointIfDue } from '../../operations/audit-stream/write-checkpoint.js';
import { withOwnStore } from '../../operations/operation-scope.js';
import type { AuditSink, CheckpointSigner, Store } from '../../operations/ports.js';
import { defaultHolder, renewOrRetakeLease } from '../cron/scheduler.js';

const SINK_LEASE_PREFIX = 'audit-sink:';
const CHECKPOINT_LEASE = 'audit-checkpoint';

export interface AuditStreamerOptions {
  sinks: readonly { sink: AuditSink; settings: AuditSinkSettings }[];
  /** Signed checkpoints: only with a signing key. */
  checkpoints?: { signer: CheckpointSigner; settings: AuditCheckpointSettings };
  /** Who holds the leases; default host:pid:random. */
  holder?: string;
  /** How long a lease lasts without renewal: how long a dead process holds a sink up. Default 60 s. */
  leaseSeconds?: number;
  /** How often an idle sink looks for new events. Default 1 s. */
  pollMs?: number;
  /** How often the checkpoint loop looks whether one is due. Default 30 s. */
  checkpointCheckMs?: number;
  /** The longest wait between attempts at a failing sink. Default 5 min (backoff from 1 s). */
  maxRetryMs?: number;
}

/** What one loop did, for tests and logs. */
export type StreamerEvent =
  | { kind: 'step'; sink: string; step: StreamStep }
  | { kind: 'lease'; name: string; held: boolean }
  | { kind: 'checkpoint'; seq: number };

export class AuditStreamer {
  readonly holder: string;
  private readonly leaseSeconds: number;
  private readonly pollMs: number;
  private readonly checkpointCheckMs: number;
  private readonly abort = new AbortController();
  private readonly loops: Promise<void>[] = [];
  private readonly wakers = new Set<() => void>();
  private readonly listeners = new Set<(event: StreamerEvent) => void>();
  private started = false;

  constructor(
    private readonly deps: StreamDeps,
    private readonly options: AuditStreamerOptions,
  ) {
    this.holder = options.holder ?? defaultHolder();
    this.leaseSeconds = options.leaseSeconds ?? 60;
    this.pollMs = options.pollMs ?? 1000;
    this.checkpointCheckMs = options.checkpointCheckMs ?? 30_000;
  }

  start(): void {
    if (this.started) throw new Error('the audit streamer was already started');
    this.started = true;
    for (const entry of this.options.sinks)
      this.loops.push(this.leased(`${SINK_LEASE_PREFIX}${entry.sink.name}`, (deps) => this.sinkTurn(deps, entry)));
    const checkpoints = this.options.checkpoints;
    if (checkpoints)
      this.loops.push(
        this.leased(CHECKPOINT_LEASE, (deps) => this.checkpointTurn(deps, checkpoints.signer, checkpoints.settings)),
      );
  }

  /** Idle sinks look for new events now instead of at their next poll. */
  wake(): void {
    for (const wake of [...this.wakers]) wake();
  }

  /**
   * Writes a checkpoint now if one is due, without waiting for the checkpoint loop's next look
   * (the sandbox, after its clock moved). Safe beside the loop: the check and the write are one
   * transaction, which SQLite serialises, so the second finds the checkpoint just made (on
   * PostgreSQL two racing writers could both sign; both checkpoints would be true and valid).
   */
  async checkpointIfDue(): Promise<void> {
    const checkpoints = this.options.checkpoints;
    if (checkpoints) await this.checkpointTurn(withOwnStore(this.deps), checkpoints.signer, checkpoints.settings);
  }

  onEvent(listener: (event: StreamerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops the loops (a batch in flight finishes), lets the leases go and closes the sinks. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.wake();
    await Promise.allSettled(this.loops);
    for (const { sink } of this.options.sinks) await sink.close().catch(() => {});
  }

  /** One sink's turn: the next batch; resolves with how long to wait before the next turn. */
  private async sinkTurn(deps: StreamDeps, entry: { sink: AuditSink; settings: AuditSinkSettings }): Promise<Wait> {
    let step: StreamStep;
    try {
      step = await deliverNextBatch(deps, entry.sink, entry.settings, {
        maxRetryMs: this.options.maxRetryMs ?? 5 * 60_000,
      });
    } catch (error) {
      // The store itself failed (a locked or full disk): try again later, nothing moved.
      this.deps.logger.error('audit stream step failed', {
        sink: entry.sink.name,
        error: error instanceof Error ? error.message : String(error),
      });
      return { ms: this.pollMs * 5 };
    }
    this.emit({ kind: 'step', sink: entry.sink.name, step });
    switch (step.kind) {
      case 'delivered':
        // A full batch: more are waiting, send the next now. A partial one: the sink is at the
        // head; wait a poll before the next, so a busy bot sends a batch a second, not one per
        // handful of events (each batch costs a request and a cursor commit).
        return step.more ? { ms: 0 } : { ms: this.pollMs, wakeable: true };
      case 'idle':
        return { ms: this.pollMs, wakeable: true };
      case 'failed':
        return { ms: step.retryInMs };
      case 'overtaken':
        return { ms: 0, release: true };
    }
  }

  private async checkpointTurn(
    deps: StreamDeps,
    signer: CheckpointSigner,
    settings: AuditCheckpointSettings,
  ): Promise<Wait> {
    try {
      const outcome = await writeCheckpointIfDue(deps, signer, settings);
      if (outcome.kind === 'written') {
        this.deps.logger.info('audit checkpoint signed', {
          seq: outcome.checkpoint.seq,
          keyId: outcome.checkpoint.keyId,
        });
        this.emit({ kind: 'checkpoint', seq: outcome.checkpoint.seq });
        this.wake(); // the checkpoint event goes to every sink now
      }
    } catch (error) {
      this.deps.logger.error('audit checkpoint failed', {
        error: error instanceof Error ? error.message : String(error),
      });
    }
    return { ms: this.checkpointCheckMs, wakeable: true };
  }

  /**
   * Runs `turn` over and over while this process holds the lease `name`; waits for the lease
   * otherwise. A heartbeat renews the lease while held, so a slow turn (a sink's timeout, an
   * acknowledgement wait) does not lose it.
   *
   * The loop's lease transactions and its turns follow one another: they share the loop's handle
   * on the store. Each renewal, which runs beside them, has one of its own.
   */
  private async leased(name: string, turn: (deps: StreamDeps) => Promise<Wait>): Promise<void> {
    const signal = this.abort.signal;
    const deps = withOwnStore(this.deps);
    let held = false;
    const heartbeat = setInterval(
      () => {
        if (held) void this.renew(name).then((kept) => (held = kept));
      },
      (this.leaseSeconds * 1000) / 4,
    );
    heartbeat.unref();
    try {
      while (!signal.aborted) {
        if (!held) {
          held = await this.acquire(deps.store, name);
          this.emit({ kind: 'lease', name, held });
          if (!held) {
            // Another live process has it: look again when it would have expired.
            await this.sleep(Math.max(this.pollMs, (this.leaseSeconds * 1000) / 2));
            continue;
          }
        }
        const wait = await turn(deps);
        if (wait.release) {
          held = false;
          await this.release(deps.store, name);
          await this.sleep(Math.max(this.pollMs, (this.leaseSeconds * 1000) / 2));
          continue;
        }
        if (wait.ms > 0 || wait.wakeable) await this.sleep(wait.ms, wait.wakeable);
        else await new Promise((resolve) => setImmediate(resolve)); // a backlog: let the event loop breathe
      }
    } finally {
      clearInterval(heartbeat);
      if (held) await this.release(deps.store, name);
    }
  }

  private async acquire(store: Store, name: string): Promise<boolean> {
    try {
      return await store.transaction((tx) => tx.acquireLease(name, this.holder, this.nowIso(), this.expiry()));
    } catch (error) {
      this.deps.logger.warn('could not take an audit stream lease', {
        lease: name,
        error: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
  }

  private async renew(name: string): Promise<boolean> {
    try {
      const kept = await renewOrRetakeLease(this.deps.store, name, this.holder, this.nowIso(), this.expiry());
      if (!kept) this.deps.logger.warn('audit stream lease lost to another process', { lease: name });
      return kept;
    } catch (error) {
      this.deps.logger.warn('could not renew an audit stream lease', {
        lease: name,
        error: error instanceof Error ? error.message : String(error),
      });
      return true; // the lease is still ours until it expires; the next heartbeat tries again
    }
  }

  private async release(store: Store, name: string): Promise<void> {
    try {
      await store.transaction((tx) => tx.releaseLease(name, this.holder));
    } catch {
      // It expires on its own.
    }
  }

  /** Waits `ms`, or less when stopped (or woken, if `wakeable`). */
  private sleep(ms: number, wakeable = false): Promise<void> {
    const signal = this.abort.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        this.wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal.addEventListener('abort', done);
      if (wakeable) this.wakers.add(done);
    });
  }

  private nowIso(): string {
    return this.deps.clock.now().toISOString();
  }

  private expiry(): string {
    return new Date(this.deps.clock.now().getTime() + this.leaseSeconds * 1000).toISOString();
  }

  private emit(event: StreamerEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        this.deps.logger.warn('an audit streamer listener failed', { error });
      }
    }
  }
}

interface Wait {
  ms: number;
  /** `wake()` ends the wait early (new events may be there). */
  wakeable?: boolean;
  /** Another process streams this now: give the lease up and wait. */
  release?: boolean;
}
