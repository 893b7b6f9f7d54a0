/**
 * A CSV sink for a file that writes on a thread of its own: the export reads rows from the
 * database and turns them into cells on the event loop, while a worker (csv-writer-thread.ts)
 * turns the cells into CSV with papaparse, encodes, hashes and writes them, on the other core.
 *
 * Why (issue 20): a million-event export spent about half its CPU reading rows and the other half
 * writing them (papaparse, UTF-8, SHA-256, the garbage of each batch's text), one after the other
 * on one thread. On two cores the two halves now overlap (bench/export-bench.ts).
 *
 * The batches cross as structured clones. At most MAX_IN_FLIGHT of them are queued or being
 * written at once: `write` waits for the worker to take one (which waits on the file in turn), so
 * memory stays flat and a slow disk slows the export down. The bytes, their count and the digest
 * are those of `CsvTableSink`, which the worker runs: the file is the same byte for byte.
 *
 * The thread costs about 10 MB, and its start makes a small export about 70 ms slower (0.31 s
 * against 0.24 s for the whole command on 40 events), so only a file export (`exportCsvToFile`, the
 * command line's `--out`) uses it; stdout and the in-memory files for Slack stay on `CsvTableSink`.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { Cell, TableDigest, TableSink } from '../../operations/exports/export-ports.js';
import { assertRowWidths } from './csv-table-sink.js';
import type { FromWriter, ToWriter, WriterFailure, WriterThreadData } from './csv-writer-thread.js';

/**
 * Batches handed to the worker and not yet taken: enough that neither thread waits on the other
 * (the worker takes a batch once it is written, so a few are always queued behind the one it is on).
 */
const MAX_IN_FLIGHT = 4;

/**
 * The worker's young generation, in MB (V8's default is up to 48). Its garbage is short-lived
 * (each batch's cells and text), so a small one costs a little collection time and saves about
 * 25 MB at the process's peak: bench/export-bench.ts, 1,000,000 events.
 */
const WRITER_YOUNG_GENERATION_MB = 12;

export interface ThreadedCsvSinkOptions {
  /** The file's permissions when created. */
  mode: number;
  /** Start the file with a UTF-8 byte order mark (default true). */
  bom?: boolean;
  /** Bytes in flight to the file before the worker waits for the disk. */
  highWaterMark: number;
  /** Runs after the last byte is written and the file closed, before `finish` resolves (rename a temp file). */
  afterClose?: () => Promise<void>;
  /** Runs when the export fails, once the file is closed (remove the file). */
  onAbort?: () => Promise<void>;
}

export class ThreadedCsvSink implements TableSink {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;
  private columns = 0;
  private started = false;
  private inFlight = 0;
  private digest: TableDigest | undefined;
  private opened = false;
  private aborted = false;
  private failure: Error | undefined;
  private wake: () => void = () => {};

  /**
   * Starts a writer thread that creates `path` (it must not exist) and resolves once it has: an
   * error here (a missing folder, no permission) comes before anything is read, with its `code`.
   */
  static async open(path: string, options: ThreadedCsvSinkOptions): Promise<ThreadedCsvSink> {
    const sink = new ThreadedCsvSink(path, options);
    while (!sink.opened && !sink.failure) await sink.nextMessage();
    if (sink.failure) {
      await sink.exited;
      throw sink.failure;
    }
    return sink;
  }

  private constructor(
    path: string,
    private readonly options: ThreadedCsvSinkOptions,
  ) {
    const data: WriterThreadData & { module: string; tsx: string | null } = {
      path,
      mode: options.mode,
      bom: options.bom !== false,
      highWaterMark: options.highWaterMark,
      ...writerModule(),
    };
    this.worker = new Worker(BOOTSTRAP, {
      eval: true,
      workerData: data,
      // Not the process's flags: a loader given with --import would load in the thread too.
      execArgv: [],
      resourceLimits: { maxYoungGenerationSizeMb: WRITER_YOUNG_GENERATION_MB },
    });
    this.worker.on('message', (message: FromWriter) => this.receive(message));
    this.worker.on('error', (error) => this.fail(error));
    // Not events.once: it rejects on the 'error' a failed thread emits before its 'exit'.
    this.exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve())).then(() => {
      if (!this.digest && !this.aborted)
        this.fail(new Error('the CSV writer thread stopped before the export was written'));
    });
  }

  async start(columns: readonly string[]): Promise<void> {
    if (this.started) throw new Error('the CSV header was already written');
    this.started = true;
    this.columns = columns.length;
    this.post({ type: 'start', columns: [...columns] });
  }

  async write(rows: readonly (readonly Cell[])[]): Promise<void> {
    if (!this.started) throw new Error('start() must write the header before any row');
    this.throwIfFailed();
    if (rows.length === 0) return;
    // Here too, not only in the thread: the caller learns of it at this write, not a later one.
    assertRowWidths(rows, this.columns);
    this.post({ type: 'rows', rows: rows as Cell[][] });
    this.inFlight++;
    while (this.inFlight >= MAX_IN_FLIGHT && !this.failure) await this.nextMessage();
    this.throwIfFailed();
  }

  async finish(): Promise<TableDigest> {
    this.throwIfFailed();
    this.post({ type: 'finish' });
    while (!this.digest && !this.failure) await this.nextMessage();
    this.throwIfFailed();
    await this.exited;
    await this.options.afterClose?.();
    return this.digest!;
  }

  async abort(_error?: unknown): Promise<void> {
    if (!this.aborted) {
      this.aborted = true;
      this.post({ type: 'abort' });
    }
    // The thread closes the file, or Node does as the thread ends.
    await this.exited;
    await this.options.onAbort?.();
  }

  private post(message: ToWriter): void {
    this.worker.postMessage(message);
  }

  private receive(message: FromWriter): void {
    switch (message.type) {
      case 'opened':
        this.opened = true;
        break;
      case 'taken':
        this.inFlight--;
        break;
      case 'finished':
        this.digest = { bytes: message.bytes, sha256: message.sha256 };
        break;
      case 'aborted':
        break;
      case 'failed':
        this.fail(asError(message.failure));
        break;
    }
    this.notify();
  }

  private fail(error: Error): void {
    this.failure ??= error;
    this.notify();
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = () => {};
    wake();
  }

  private nextMessage(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}

/** The failure as an Error again, with its `code` (ENOSPC, EIO…) for the caller's message. */
function asError(failure: WriterFailure): Error {
  const error = new Error(failure.message) as Error & { code?: string };
  error.name = failure.name;
  if (failure.code) error.code = failure.code;
  return error;
}

/**
 * The writer's module. Built, it is dist/csv-writer-thread.js, and `import.meta.url` here is this
 * module's place in the layout of the sources (dist/src/adapters/csv/threaded-csv-sink.js, see
 * scripts/build.js). From the sources (tests, `npm run cli`) it is the .ts file, loaded through
 * tsx's loader, which the thread registers first (a worker's `execArgv` cannot: its entry would
 * load before the loader).
 */
function writerModule(): { module: string; tsx: string | null } {
  return import.meta.url.endsWith('.ts')
    ? { module: new URL('./csv-writer-thread.ts', import.meta.url).href, tsx: tsxApi() }
    : { module: new URL('../../../csv-writer-thread.js', import.meta.url).href, tsx: null };
}

/**
 * tsx's ESM API (`tsx/esm/api`, whose `register()` adds its loader to a thread that is running),
 * as its import condition names it: Node's require() would find the CommonJS build, which cannot
 * be imported from a worker.
 */
function tsxApi(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('tsx/package.json');
  const pkg = require(manifest) as { exports: Record<string, { import: { default: string } }> };
  return new URL(pkg.exports['./esm/api']!.import.default, pathToFileURL(manifest)).href;
}

/** Loads the writer's module in the thread (registering tsx first when it is TypeScript). */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsx) (await import(workerData.tsx)).register();
  await import(workerData.module);
})();
`;
