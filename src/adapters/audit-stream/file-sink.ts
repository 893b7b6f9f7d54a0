/**
 * `type: file`: JSON lines, one record per line, appended and fsynced before the batch counts as
 * delivered; rotated by size (`path` -> `path.1` -> ... -> `path.<keep>`, the oldest dropped)
 * before a write would take the file past `max_size`.
 *
 * A crash in the middle of a write leaves a torn last line: the next start cuts the file back to
 * its last complete line before appending (those events were never confirmed, so they come again
 * with the batch). A batch written but not yet confirmed when the process died is written again:
 * a reader dedupes by `seq`, as for any sink.
 *
 * The file is created readable by the bot's user only (0600): it holds names, emails and reasons.
 * One process writes it at a time (the sink's lease); with several replicas on different hosts,
 * put it on a filesystem they share, or use a webhook or HEC sink.
 */
import { constants } from 'node:fs';
import { mkdir, open, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { FileSinkSettings } from '../../domain/audit-sinks.js';
import { TransientError } from '../../domain/errors.js';
import type { AuditBatch } from '../../operations/audit-stream/records.js';
import type { AuditSink } from '../../operations/ports.js';
import { describe } from '../http/signed-post.js';
import { encodeBatch } from './encode.js';

const TAIL_CHUNK = 64 * 1024;

export class FileSink implements AuditSink {
  readonly type = 'file';
  readonly name: string;
  readonly target: string;
  readonly needsSubjects: boolean;
  private handle: FileHandle | undefined;
  private size = 0;

  constructor(private readonly settings: FileSinkSettings) {
    this.name = settings.name;
    this.target = settings.path;
    this.needsSubjects = settings.format === 'ocsf';
  }

  async deliver(batch: AuditBatch): Promise<void> {
    try {
      const text = encodeBatch(batch, this.settings.format, undefined, Infinity)
        .map((part) => `${part.texts.join('\n')}\n`)
        .join('');
      const bytes = Buffer.from(text, 'utf8');
      let handle = await this.opened();
      if (this.size > 0 && this.size + bytes.length > this.settings.maxBytes) {
        await this.rotate();
        handle = await this.opened();
      }
      await writeAll(handle, bytes, this.size);
      await handle.sync();
      this.size += bytes.length;
    } catch (error) {
      // Whatever half-happened is cut back or repeated at the next attempt: reopen then.
      await this.close();
      if (error instanceof TransientError) throw error;
      throw new TransientError(
        `audit sink ${this.name}: writing ${this.settings.path} failed: ${describe(error)}`,
        undefined,
        { cause: error },
      );
    }
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => {});
  }

  private async opened(): Promise<FileHandle> {
    if (this.handle) return this.handle;
    await mkdir(dirname(this.settings.path), { recursive: true, mode: 0o700 });
    const handle = await open(this.settings.path, constants.O_RDWR | constants.O_CREAT, 0o600);
    try {
      this.size = await cutTornTail(handle);
    } catch (error) {
      await handle.close();
      throw error;
    }
    this.handle = handle;
    return handle;
  }

  /** `path.(n-1)` -> `path.n` for every kept file, `path` -> `path.1`, the oldest dropped. */
  private async rotate(): Promise<void> {
    await this.close();
    const { path, keep } = this.settings;
    await rm(`${path}.${keep}`, { force: true });
    for (let n = keep - 1; n >= 1; n--) {
      if (await exists(`${path}.${n}`)) await rename(`${path}.${n}`, `${path}.${n + 1}`);
    }
    await rename(path, `${path}.1`);
    this.size = 0;
  }
}

/** At `size`, the end of what we know is there: the file is ours alone (the sink's lease). */
async function writeAll(handle: FileHandle, bytes: Buffer, size: number): Promise<void> {
  for (let offset = 0; offset < bytes.length;) {
    const { bytesWritten } = await handle.write(bytes, offset, bytes.length - offset, size + offset);
    offset += bytesWritten;
  }
}

/** Cuts a last line without its newline (a write the process did not finish); returns the size. */
async function cutTornTail(handle: FileHandle): Promise<number> {
  const { size } = await handle.stat();
  let end = size;
  const buffer = Buffer.alloc(TAIL_CHUNK);
  while (end > 0) {
    const start = Math.max(0, end - TAIL_CHUNK);
    const { bytesRead } = await handle.read(buffer, 0, end - start, start);
    const chunk = buffer.subarray(0, bytesRead);
    if (end === size && chunk[chunk.length - 1] === 0x0a) return size; // ends with a whole line
    const newline = chunk.lastIndexOf(0x0a);
    if (newline >= 0) {
      await handle.truncate(start + newline + 1);
      return start + newline + 1;
    }
    end = start;
  }
  if (size > 0) await handle.truncate(0);
  return 0;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
