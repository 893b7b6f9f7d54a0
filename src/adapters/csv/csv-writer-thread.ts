/**
 * The CSV writer thread: `CsvTableSink` run in a worker on a file it creates, driven by
 * `ThreadedCsvSink` (threaded-csv-sink.ts) through messages. Loaded as the worker's module: from
 * dist/csv-writer-thread.js when built (an entry of its own, scripts/build.js), from this file
 * through tsx under the sources.
 *
 * Messages are handled one at a time, in order; each batch is acknowledged once the sink has taken
 * it (the file's backpressure included), which is what lets the other side bound what is in flight.
 * After a failure the sink is aborted (its file closed) and every later message is answered with
 * that failure.
 *
 * The thread opens the file itself: Node closes what a worker opened when the worker ends, however
 * it ends, and warns when a worker closes a descriptor another thread opened.
 */
import { createWriteStream, openSync } from 'node:fs';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import type { Cell } from '../../operations/exports/export-ports.js';
import { CsvTableSink } from './csv-table-sink.js';

export interface WriterThreadData {
  /** Created here (`wx`: it must not exist yet) with `mode`. */
  path: string;
  mode: number;
  bom: boolean;
  /** Bytes in flight to the file before the sink waits for the disk. */
  highWaterMark: number;
}

export type ToWriter =
  { type: 'start'; columns: string[] } | { type: 'rows'; rows: Cell[][] } | { type: 'finish' } | { type: 'abort' };

/** What went wrong, as plain data: an Error crossing threads keeps its message but not its `code`. */
export interface WriterFailure {
  name: string;
  message: string;
  code?: string;
}

export type FromWriter =
  | { type: 'opened' }
  | { type: 'taken' }
  | { type: 'finished'; bytes: number; sha256: string }
  | { type: 'aborted' }
  | { type: 'failed'; failure: WriterFailure };

const port = parentPort;
if (!port) throw new Error('csv-writer-thread is a worker module: load it with new Worker()');
const data = workerData as WriterThreadData;
const sink = openSink();
if (sink) serve(port, sink);
else port.close(); // nothing else keeps the thread: it ends

function openSink(): CsvTableSink | undefined {
  let fd: number;
  try {
    fd = openSync(data.path, 'wx', data.mode);
  } catch (error) {
    port!.postMessage({ type: 'failed', failure: describe(error) } satisfies FromWriter);
    return undefined;
  }
  port!.postMessage({ type: 'opened' } satisfies FromWriter);
  return new CsvTableSink(createWriteStream('', { fd, highWaterMark: data.highWaterMark }), {
    bom: data.bom,
    reuseBuffers: true,
  });
}

function serve(port: MessagePort, sink: CsvTableSink): void {
  let failure: WriterFailure | undefined;
  let done = false;
  let queue = Promise.resolve();
  port.on('message', (message: ToWriter) => {
    queue = queue.then(() => handle(message));
  });

  async function handle(message: ToWriter): Promise<void> {
    if (message.type === 'abort') {
      if (!done) await sink.abort();
      done = true;
      port.postMessage({ type: 'aborted' } satisfies FromWriter);
      port.close();
      return;
    }
    if (failure || done) {
      port.postMessage({
        type: 'failed',
        failure: failure ?? describe(new Error('the CSV writer has finished')),
      } satisfies FromWriter);
      return;
    }
    try {
      if (message.type === 'start') {
        await sink.start(message.columns);
      } else if (message.type === 'rows') {
        await sink.write(message.rows);
        port.postMessage({ type: 'taken' } satisfies FromWriter);
      } else {
        const digest = await sink.finish();
        done = true;
        port.postMessage({ type: 'finished', ...digest } satisfies FromWriter);
        port.close();
      }
    } catch (error) {
      failure = describe(error);
      done = true;
      await sink.abort(error);
      port.postMessage({ type: 'failed', failure } satisfies FromWriter);
    }
  }
}

function describe(error: unknown): WriterFailure {
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as { code?: unknown }).code;
  return { name: e.name, message: e.message, ...(typeof code === 'string' ? { code } : {}) };
}
