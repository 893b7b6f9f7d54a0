/** The file sink: JSON lines appended, rotated by size, a torn last line cut, readable by its owner only. */
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileSink } from '../../src/adapters/audit-stream/file-sink.js';
import { GENESIS_HASH, hashEvent, type AuditEvent } from '../../src/domain/audit.js';
import type { FileSinkSettings } from '../../src/domain/audit-sinks.js';
import { NO_SUBJECTS } from '../../src/operations/audit-stream/records.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'file-sink-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function events(from: number, to: number): AuditEvent[] {
  const out: AuditEvent[] = [];
  let prev = GENESIS_HASH;
  for (let seq = from; seq <= to; seq++) {
    const body = {
      seq,
      at: '2026-03-02T09:00:00.000Z',
      actor: { kind: 'system' as const, component: 't' },
      action: 'policy.added' as const,
      requestId: null,
      grantId: null,
      details: { padding: 'x'.repeat(200) },
    };
    const hash = hashEvent(prev, body);
    out.push({ ...body, prevHash: prev, hash });
    prev = hash;
  }
  return out;
}

const settings = (overrides: Partial<FileSinkSettings> = {}): FileSinkSettings => ({
  type: 'file',
  name: 'archive',
  path: join(dir, 'logs', 'audit.jsonl'),
  format: 'json',
  batchSize: 100,
  alertAfterSeconds: 900,
  maxBytes: 64 * 1024,
  keep: 2,
  ...overrides,
});

const seqsIn = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => (JSON.parse(line) as { seq: number }).seq);

describe('the file sink', () => {
  it('appends one JSON line per event to a file only its owner can read, creating its folder', async () => {
    const sink = new FileSink(settings());
    await sink.deliver({ events: events(1, 3), subjects: NO_SUBJECTS });
    await sink.deliver({ events: events(4, 5), subjects: NO_SUBJECTS });
    await sink.close();
    const path = settings().path;
    expect(seqsIn(path)).toEqual([1, 2, 3, 4, 5]);
    expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'logs')).mode & 0o777).toBe(0o700);
  });

  it('rotates before a write would pass max_size, keeping `keep` older files', async () => {
    const sink = new FileSink(settings());
    // About 460 bytes a line, 100 lines a batch: each batch is most of the 64 KB.
    for (let batch = 0; batch < 5; batch++)
      await sink.deliver({ events: events(batch * 100 + 1, batch * 100 + 100), subjects: NO_SUBJECTS });
    await sink.close();
    const path = settings().path;
    expect(seqsIn(path)).toEqual(events(401, 500).map((e) => e.seq));
    expect(seqsIn(`${path}.1`)[0]).toBe(301);
    expect(seqsIn(`${path}.2`)[0]).toBe(201);
    expect(existsSync(`${path}.3`)).toBe(false); // keep: 2
    for (const file of [path, `${path}.1`, `${path}.2`]) expect(statSync(file).size).toBeLessThanOrEqual(64 * 1024);
  });

  it('cuts a torn last line (a write the process did not finish) before it appends again', async () => {
    const first = new FileSink(settings());
    await first.deliver({ events: events(1, 4), subjects: NO_SUBJECTS });
    await first.close();
    const path = settings().path;
    appendFileSync(path, '{"seq":5,"at":"2026-03-02T09:0'); // the crash
    // The stream sends the unconfirmed batch again to a sink that starts afresh.
    const second = new FileSink(settings());
    await second.deliver({ events: events(5, 6), subjects: NO_SUBJECTS });
    await second.close();
    expect(seqsIn(path)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('writes OCSF records when asked, and says which file it could not write', async () => {
    const sink = new FileSink(settings({ format: 'ocsf' }));
    await sink.deliver({ events: events(1, 1), subjects: NO_SUBJECTS });
    await sink.close();
    const [record] = readFileSync(settings().path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(record).toMatchObject({ class_uid: 3004, metadata: { sequence: 1 } });

    const blocked = new FileSink(settings({ path: join(settings().path, 'inside-a-file.jsonl') }));
    await expect(blocked.deliver({ events: events(1, 1), subjects: NO_SUBJECTS })).rejects.toThrow(
      new RegExp(`audit sink archive: writing ${settings().path}/inside-a-file.jsonl failed: .*(EEXIST|ENOTDIR)`),
    );
  });
});
