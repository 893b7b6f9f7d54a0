import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * Checkpoints the SQLite file's write-ahead log from a worker thread, so that under load the
 * writing connection's commits do not copy pages into the database file (and sync it) on the
 * event loop.
 *
 * A checkpoint copies the WAL's pages into the database file and syncs both. By default the
 * connection that commits does it, inside COMMIT, once the WAL holds `wal_autocheckpoint` frames:
 * at 800 requests a second that is several times a second, each one a pause of every request in
 * flight (bench/lifecycle-bench.ts: about a seventh of the wall time). Here a worker with its own
 * connection runs `PRAGMA wal_checkpoint(PASSIVE)` shortly after commits, on the other core; PASSIVE
 * never waits for a lock, so the writer's commits go on while it copies.
 *
 * The writer keeps its own checkpoint at WAL_CHECKPOINT_PAGES as the bound: SQLite writes the WAL
 * again from its start only when a write transaction begins with every frame already copied, which
 * a busy writer rarely lets a worker finish first. So the WAL still grows to the bound, and the
 * writer's checkpoint there copies only what the worker has not (the last few commits), after
 * which the next transaction restarts the log. When the worker is not running, the writer
 * checkpoints everything itself at that bound, as before.
 *
 * A thread costs about 16 MB and 60 ms to start, so the worker starts only once commits come
 * quickly (START_AFTER_COMMITS within IDLE_MS of each other), and stops after IDLE_MS without one:
 * an idle bot has no worker.
 */
export class WalCheckpointer {
  /** [PENDING]: commits since the worker's last pass; [STATE]: RUNNING or STOPPING. */
  private readonly signal = new Int32Array(new SharedArrayBuffer(8));
  private worker: Worker | undefined;
  private exited: Promise<void> | undefined;
  private recentCommits = 0;
  private lastCommitAt = 0;
  private failed = false;
  private closed = false;

  constructor(
    private readonly path: string,
    private readonly options: Partial<CheckpointerOptions> = {},
  ) {}

  /** Called after each commit of the writing connection. */
  afterCommit(): void {
    if (this.worker) {
      // One notify per pass is enough: the worker clears the count when it starts a pass.
      if (Atomics.add(this.signal, PENDING, 1) === 0) Atomics.notify(this.signal, PENDING);
      return;
    }
    const now = Date.now();
    const idleMs = this.options.idleMs ?? IDLE_MS;
    this.recentCommits = now - this.lastCommitAt > idleMs ? 1 : this.recentCommits + 1;
    this.lastCommitAt = now;
    const startAfter = this.options.startAfterCommits ?? START_AFTER_COMMITS;
    if (this.recentCommits >= startAfter && !this.closed && !this.failed) this.start();
  }

  /** Stops the worker, which closes its connection: before the writer closes, so the writer's close removes the WAL. */
  async close(): Promise<void> {
    this.closed = true;
    if (!this.worker) return;
    // Held until it has closed its connection: the writer closes after it.
    this.worker.ref();
    Atomics.store(this.signal, STATE, STOPPING);
    // Not only a notify: one sent while the worker is between waits would be lost, a count is not.
    Atomics.add(this.signal, PENDING, 1);
    Atomics.notify(this.signal, PENDING);
    Atomics.notify(this.signal, STATE);
    await this.exited;
  }

  private start(): void {
    Atomics.store(this.signal, PENDING, 1);
    Atomics.store(this.signal, STATE, RUNNING);
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        driver: DRIVER,
        path: this.path,
        signal: this.signal.buffer,
        idleMs: this.options.idleMs ?? IDLE_MS,
        gatherMs: this.options.gatherMs ?? GATHER_MS,
        reportPasses: this.options.onPass !== undefined,
      },
      // Not the process's flags: a loader registered with --import (tsx) would run in the thread too.
      execArgv: [],
      stdout: false,
      stderr: false,
    });
    // Never what keeps the process alive: an exit without close leaves the WAL to the next open.
    worker.unref();
    const onPass = this.options.onPass;
    if (onPass) worker.on('message', () => onPass());
    // A failed checkpoint thread leaves checkpoints to the writer, as without one, for good.
    worker.on('error', (error) => {
      this.failed = true;
      (this.options.onError ?? warn)(error);
    });
    // Not events.once: it rejects on the 'error' a failed thread emits before its 'exit'.
    this.exited = new Promise<void>((resolve) => worker.once('exit', () => resolve())).then(() => {
      if (this.worker === worker) this.worker = undefined;
      this.recentCommits = 0;
      this.options.onStop?.();
    });
    this.worker = worker;
    this.options.onStart?.();
  }
}

export interface CheckpointerOptions {
  /** Commits within `idleMs` of each other after which the worker starts. */
  startAfterCommits: number;
  /** The worker stops after this long without a commit. */
  idleMs: number;
  /** After a commit wakes it, the worker waits this long for more before it checkpoints. */
  gatherMs: number;
  /** When a worker starts. */
  onStart: () => void;
  /** After each checkpoint the worker has run. */
  onPass: () => void;
  /** After the worker has stopped (idle, closed, or failed). */
  onStop: () => void;
  onError: (error: Error) => void;
}

function warn(error: Error): void {
  process.emitWarning(`the WAL checkpoint thread failed; the writing connection checkpoints instead: ${error.message}`);
}

const START_AFTER_COMMITS = 64;
const IDLE_MS = 30_000;
const GATHER_MS = 20;

const PENDING = 0;
const STATE = 1;
const RUNNING = 0;
const STOPPING = 1;

/** better-sqlite3 as this module resolves it, for the worker to load the same build. */
const DRIVER = createRequire(import.meta.url).resolve('better-sqlite3');

/**
 * The worker, as source: a file of its own would need its own entry in the bundle and a loader
 * under tsx and vitest, for a loop this size. It waits (Atomics.wait, off the event loop) for a
 * commit, lets more gather for `gatherMs`, checkpoints what is there, and posts that it passed.
 */
const WORKER_SOURCE = `
'use strict';
const { workerData, parentPort } = require('node:worker_threads');
const Database = require(workerData.driver);
const signal = new Int32Array(workerData.signal);
// Waiting for a lock here blocks nothing but this thread.
const db = new Database(workerData.path, { fileMustExist: true, timeout: 5000 });
try {
  for (;;) {
    if (Atomics.wait(signal, ${PENDING}, 0, workerData.idleMs) === 'timed-out') break;
    if (Atomics.load(signal, ${STATE}) === ${STOPPING}) break;
    Atomics.wait(signal, ${STATE}, ${RUNNING}, workerData.gatherMs);
    if (Atomics.load(signal, ${STATE}) === ${STOPPING}) break;
    Atomics.store(signal, ${PENDING}, 0);
    db.pragma('wal_checkpoint(PASSIVE)');
    if (workerData.reportPasses) parentPort.postMessage(0);
  }
} finally {
  db.close();
}
`;
