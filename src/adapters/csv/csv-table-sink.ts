/**
 * Writes an export as CSV (RFC 4180: comma-separated, CRLF line ends, fields with a comma, quote or
 * line break quoted, quotes doubled) to a Writable, in UTF-8, hashing the exact bytes as they go.
 *
 * papaparse has no streaming writer, so each batch is unparsed on its own (the header only once)
 * and written before the next is read; `write` waits for 'drain' when the destination is behind.
 *
 * Formula injection: a spreadsheet runs a cell that starts with = + - @ (and, in some, a leading
 * tab, CR or LF before one of them). Every text cell starting with one of those, or with their
 * full-width forms, is prefixed with `'` and quoted; numbers and booleans are written as they are.
 * papaparse's own `escapeFormulae: true` is not used: its pattern `^[=+\-@\t\r].*$` has no `s`
 * flag, so a cell with a line break after the formula slips through. Testing only the first
 * character has no such gap.
 */
import { createHash, type Hash } from 'node:crypto';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import Papa from 'papaparse';
import type { Cell, TableDigest, TableSink } from '../../operations/exports/export-ports.js';

/** A cell starting with one of these is neutralised (`'` prefix). Tested on the first character only. */
export const FORMULA_START = /^[=+\-@\t\r\n\uFF1D\uFF0B\uFF0D\uFF20]/;

/** The UTF-8 byte order mark: without it, Excel reads a UTF-8 file as the local code page. */
const UTF8_BOM = '\ufeff';

const NEWLINE = '\r\n';

/**
 * With `reuseBuffers`, batches are gathered into buffers of this size (a batch of the events export
 * is about 100 kB) and each written as one chunk.
 */
const FILL_BYTES = 512 * 1024;

export interface CsvSinkOptions {
  /** Start the file with a UTF-8 byte order mark (default true: Excel needs it for non-ASCII names). */
  bom?: boolean;
  /**
   * End the stream when done (default true). False for a stream the caller keeps (stdout): the
   * sink then waits until its last write is flushed.
   */
  end?: boolean;
  /** Runs after the last byte is written and the stream closed, before `finish` resolves (rename a temp file). */
  afterClose?: () => Promise<void>;
  /** Runs when the export fails (remove a temp file). */
  onAbort?: () => Promise<void>;
  /**
   * The destination is done with a chunk once that write's callback has run (a file, a pipe): the
   * sink then encodes batches into a few buffers it reuses, instead of a new one per batch that a
   * garbage collection would have to free. Not for a stream that keeps the chunks it is given.
   */
  reuseBuffers?: boolean;
}

/** Every row has one cell per column, or the table would be misaligned from that row on. */
export function assertRowWidths(rows: readonly (readonly Cell[])[], columns: number): void {
  for (const row of rows)
    if (row.length !== columns) throw new Error(`a row has ${row.length} cells for ${columns} columns`);
}

export class CsvTableSink implements TableSink {
  private readonly hash: Hash = createHash('sha256');
  private bytes = 0;
  /** With `reuseBuffers`: buffers whose bytes are written, for the next batches. */
  private readonly spare: Uint8Array[] = [];
  /** With `reuseBuffers`: the buffer batches are being added to, and how much of it they fill. */
  private filling: Uint8Array | undefined;
  private filled = 0;
  private readonly utf8 = new TextEncoder();
  private columns = 0;
  private started = false;
  private failure: Error | undefined;
  private readonly onError = (error: Error) => {
    this.failure ??= error;
  };

  constructor(
    private readonly out: Writable,
    private readonly options: CsvSinkOptions = {},
  ) {
    // A write error (disk full, closed pipe) surfaces at the next write or at finish, not as an
    // unhandled 'error' event.
    out.on('error', this.onError);
  }

  async start(columns: readonly string[]): Promise<void> {
    if (this.started) throw new Error('the CSV header was already written');
    this.started = true;
    this.columns = columns.length;
    // As a row of its own: with `fields` and no data papaparse adds a line break of its own.
    const header = Papa.unparse([[...columns]], { header: false, newline: NEWLINE, escapeFormulae: FORMULA_START });
    await this.push(Buffer.from((this.options.bom === false ? '' : UTF8_BOM) + header + NEWLINE, 'utf8'));
  }

  async write(rows: readonly (readonly Cell[])[]): Promise<void> {
    if (!this.started) throw new Error('start() must write the header before any row');
    if (rows.length === 0) return;
    assertRowWidths(rows, this.columns);
    const text = Papa.unparse(rows as Cell[][], {
      header: false,
      newline: NEWLINE,
      escapeFormulae: FORMULA_START,
      skipEmptyLines: false,
    });
    if (!this.options.reuseBuffers) return this.push(Buffer.from(text + NEWLINE, 'utf8'));
    await this.append(text + NEWLINE);
  }

  /**
   * Adds the text's UTF-8 bytes to the buffer being filled; a full buffer (or one the text does not
   * fit in) is hashed and written as one chunk: a write per few batches, not per batch.
   */
  private async append(text: string): Promise<void> {
    if (this.filling) {
      const { read, written } = this.utf8.encodeInto(text, this.filling.subarray(this.filled));
      if (read === text.length) {
        this.filled += written;
        if (this.filled >= this.filling.length - (this.filling.length >> 2)) await this.flush();
        return;
      }
      await this.flush(); // what did not fit is overwritten: `filled` did not move
    }
    const spare = this.spare.pop();
    // A UTF-16 code unit is at most 3 bytes of UTF-8: a spare buffer that large is not counted against.
    if (spare && spare.length >= text.length * 3) this.filling = spare;
    else {
      const size = Buffer.byteLength(text, 'utf8');
      this.filling = spare && spare.length >= size ? spare : new Uint8Array(Math.max(size + (size >> 2), FILL_BYTES));
    }
    this.filled = this.utf8.encodeInto(text, this.filling).written;
  }

  /** Writes the buffer being filled; it comes back to `spare` once the destination is done with it. */
  private async flush(): Promise<void> {
    const buffer = this.filling;
    if (!buffer) return;
    const bytes = buffer.subarray(0, this.filled);
    this.filling = undefined;
    this.filled = 0;
    await this.push(bytes, () => this.spare.push(buffer));
    // Lets the destination's completed writes come back (and their buffers with them) before the
    // next batches: a file's writes run on another thread meanwhile.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  async finish(): Promise<TableDigest> {
    this.throwIfFailed();
    await this.flush();
    if (this.options.end === false) {
      // Resolves once everything written so far has been handed to the destination.
      await new Promise<void>((resolve, reject) => this.out.write('', (error) => (error ? reject(error) : resolve())));
    } else {
      const closed = once(this.out, 'close');
      this.out.end();
      await closed;
    }
    this.throwIfFailed();
    this.out.off('error', this.onError);
    await this.options.afterClose?.();
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }

  async abort(_error?: unknown): Promise<void> {
    this.out.off('error', this.onError);
    this.out.on('error', () => {}); // errors after an abort have nowhere to go
    if (this.options.end !== false && !this.out.destroyed) {
      const closed = once(this.out, 'close').catch(() => undefined);
      this.out.destroy();
      await closed;
    }
    await this.options.onAbort?.();
  }

  private async push(chunk: Uint8Array, written?: () => void): Promise<void> {
    this.throwIfFailed();
    this.hash.update(chunk);
    this.bytes += chunk.length;
    if (!this.out.write(chunk, written && (() => written()))) await waitForDrain(this.out);
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }
}

/** 'drain', or the stream's error or close, whichever comes first (a closed pipe never drains). */
async function waitForDrain(out: Writable): Promise<void> {
  const ac = new AbortController();
  const drained = once(out, 'drain', { signal: ac.signal });
  const closed = once(out, 'close', { signal: ac.signal }).then(() => {
    throw new Error('the destination closed before the export was written');
  });
  // The loser is aborted below; its rejection is expected and must not surface as unhandled.
  drained.catch(() => undefined);
  closed.catch(() => undefined);
  try {
    await Promise.race([drained, closed]);
  } finally {
    ac.abort();
  }
}
