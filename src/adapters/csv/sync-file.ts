/**
 * A file written with synchronous writes, as a Writable: for the command line's `export --out`, a
 * process of its own where nothing else waits on the event loop. Each chunk is in the file (the
 * page cache) when `write` returns, so there is no buffer of pending writes to wait on, and a
 * writer that reuses its buffers (CsvTableSink's `reuseBuffers`) may overwrite a chunk once
 * `write` has returned.
 *
 * Why not fs.createWriteStream: its writes run on libuv's thread pool, and an export produces
 * faster than the hand-off to that thread returns on a busy machine; the export then sat idle a
 * sixth of its time waiting for 'drain' (bench/export-bench.ts, `--cpu-prof`).
 */
import { closeSync, openSync, writeSync } from 'node:fs';
import { Writable } from 'node:stream';

export class SyncFileWritable extends Writable {
  private fd: number | undefined;

  private constructor(fd: number) {
    // Never 'false' from write for a chunk of any size an export writes: nothing waits for 'drain'.
    super({ highWaterMark: 64 * 1024 * 1024, decodeStrings: true });
    this.fd = fd;
  }

  /**
   * Creates `path` (it must not exist: `wx`) with `mode`. Throws at once when the folder is
   * missing or not writable, before anything is read.
   */
  static create(path: string, mode: number): SyncFileWritable {
    return new SyncFileWritable(openSync(path, 'wx', mode));
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    try {
      this.writeAll(chunk);
    } catch (error) {
      callback(error as Error);
      return;
    }
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    const fd = this.fd;
    this.fd = undefined;
    try {
      if (fd !== undefined) closeSync(fd);
    } catch (closeError) {
      callback(error ?? (closeError as Error));
      return;
    }
    callback(error);
  }

  private writeAll(chunk: Uint8Array): void {
    if (this.fd === undefined) throw new Error('the file is closed');
    let offset = 0;
    // A regular file takes the whole chunk in one call; a short write (a signal) goes on from where it stopped.
    while (offset < chunk.length) offset += writeSync(this.fd, chunk, offset, chunk.length - offset);
  }
}
