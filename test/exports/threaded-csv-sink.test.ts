/**
 * The file export's writer thread (ThreadedCsvSink): the same bytes as the in-process sink, its
 * failures reported with their cause, and a failed export leaving no file and no thread behind.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate } from '../../bench/generate-audit-log.js';
import { CsvTableSink } from '../../src/adapters/csv/csv-table-sink.js';
import { exportCsvToFile } from '../../src/adapters/csv/export-csv.js';
import { ThreadedCsvSink } from '../../src/adapters/csv/threaded-csv-sink.js';
import { NO_FILTERS } from '../../src/operations/exports/export-filters.js';
import type { Cell, ExportSnapshot } from '../../src/operations/exports/export-ports.js';
import type { Store } from '../../src/operations/ports.js';
import { EXIT } from '../../src/cli/command.js';
import { EXAMPLE_ENV } from '../cli/helpers.js';
import { allEvents } from './helpers.js';
import { HOSTILE, seedHistory, type SeededHistory } from './seeded-history.js';

const run = promisify(execFile);
const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'threaded-csv-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const COLUMNS = ['id', 'text', 'count', 'flag', 'empty'];

/** Rows with everything CSV and spreadsheets trip on, in batches of different sizes. */
function batches(): Cell[][][] {
  const texts = [...Object.values(HOSTILE), 'Zoë Ångström 🙂', '', 'a,b', 'line\nbreak', '"quoted"', '\uFF1D1+1'];
  const out: Cell[][][] = [];
  let id = 0;
  for (let b = 0; b < 40; b++) {
    const rows: Cell[][] = [];
    for (let r = 0; r < 1 + ((b * 7) % 23); r++, id++)
      rows.push([`r-${id}`, texts[id % texts.length]!, id * 3 - 50, id % 2 === 0, null]);
    out.push(rows);
  }
  return out;
}

async function inProcess(rows: Cell[][][], bom?: boolean): Promise<{ bytes: Buffer; sha256: string }> {
  const chunks: Buffer[] = [];
  const sink = new CsvTableSink(new Writable({ write: (chunk: Buffer, _e, cb) => (chunks.push(chunk), cb()) }), {
    bom,
  });
  await sink.start(COLUMNS);
  for (const batch of rows) await sink.write(batch);
  const digest = await sink.finish();
  return { bytes: Buffer.concat(chunks), sha256: digest.sha256 };
}

describe('ThreadedCsvSink', () => {
  it.each([undefined, false])('writes the same bytes and digest as the in-process sink (bom %s)', async (bom) => {
    const rows = batches();
    const path = join(dir, `same-${String(bom)}.csv`);
    const sink = await ThreadedCsvSink.open(path, { mode: 0o600, bom, highWaterMark: 4096 });
    await sink.start(COLUMNS);
    for (const batch of rows) await sink.write(batch);
    const digest = await sink.finish();

    const expected = await inProcess(rows, bom);
    const file = readFileSync(path);
    expect(file.equals(expected.bytes)).toBe(true);
    expect(digest).toEqual({ bytes: file.length, sha256: expected.sha256 });
    expect(sha256(file)).toBe(digest.sha256);
    expect(statSync(path).mode & 0o777).toBe(0o600);
  });

  it('refuses a path that exists or a folder that does not, with the error code, before any row', async () => {
    const existing = join(dir, 'exists.csv');
    writeFileSync(existing, 'keep me');
    await expect(ThreadedCsvSink.open(existing, { mode: 0o600, highWaterMark: 4096 })).rejects.toMatchObject({
      code: 'EEXIST',
    });
    expect(readFileSync(existing, 'utf8')).toBe('keep me');
    await expect(
      ThreadedCsvSink.open(join(dir, 'missing', 'x.csv'), { mode: 0o600, highWaterMark: 4096 }),
    ).rejects.toMatchObject({ code: 'ENOENT', message: expect.stringContaining('missing') });
  });

  it('refuses a row with the wrong number of cells at once, and writes nothing more', async () => {
    const path = join(dir, 'short-row.csv');
    let removed = false;
    const sink = await ThreadedCsvSink.open(path, {
      mode: 0o600,
      highWaterMark: 4096,
      onAbort: async () => {
        rmSync(path, { force: true });
        removed = true;
      },
    });
    await sink.start(COLUMNS);
    await expect(sink.write([['only', 'two']])).rejects.toThrow('a row has 2 cells for 5 columns');
    await sink.abort();
    expect(removed).toBe(true);
    expect(existsSync(path)).toBe(false);
  });
});

describe('an export to a file through the writer thread', () => {
  let s: SeededHistory;
  beforeAll(async () => {
    s = await seedHistory();
  });
  afterAll(async () => await s.h.close());

  it('that fails while reading ends the thread, removes its partial file and logs nothing', async () => {
    const before = (await allEvents(s.h)).length;
    const store = s.h.store;
    // The database fails on the third batch.
    const failing = Object.create(store) as Store;
    failing.openSnapshot = async () => {
      const snapshot = await store.openSnapshot();
      let reads = 0;
      return {
        ...bind(snapshot),
        events: async (...args: Parameters<ExportSnapshot['events']>) => {
          if (++reads === 3) throw new Error('disk I/O error');
          return snapshot.events(...args);
        },
      };
    };
    const out = join(dir, 'failed-read.csv');
    await expect(
      exportCsvToFile(
        { store: failing, clock: s.h.deps.clock },
        {
          kind: 'events',
          filters: NO_FILTERS,
          requestedBy: { kind: 'system', component: 'test' },
          destination: 'file',
        },
        out,
        { batchSize: 5 },
      ),
    ).rejects.toThrow('disk I/O error');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect(await allEvents(s.h)).toHaveLength(before);
  });
});

describe('access-bot export --out when the disk refuses a write', () => {
  it('reports the write error, removes the partial file and logs no export', async () => {
    // A database whose events export is about 370 kB, and a process that may write files of at
    // most 128 kB (`ulimit -f`; Node ignores SIGXFSZ, so the write fails with EFBIG).
    const dbPath = join(dir, 'big.db');
    await generate(dbPath, 1000);
    const out = join(dir, 'too-big.csv');
    const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...EXAMPLE_ENV, DATABASE_PATH: dbPath };
    const result = await run(
      'bash',
      ['-c', 'ulimit -f 128 && exec "$0" --import tsx src/cli/main.ts export events --out "$1"', process.execPath, out],
      { env },
    ).then(
      () => ({ code: 0, stderr: '' }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(result.code).toBe(EXIT.problem);
    expect(result.stderr).toContain(`cannot write ${out}: EFBIG`);
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
    const db = new Database(dbPath, { readonly: true });
    const last = db.prepare('SELECT seq, action FROM audit_events ORDER BY id DESC LIMIT 1').get();
    db.close();
    expect(last).toEqual({ seq: 1000, action: expect.not.stringMatching(/^export\./) });
  });
});

/** The snapshot's methods bound to it, to override one. */
function bind(snapshot: ExportSnapshot): ExportSnapshot {
  return {
    auditHead: () => snapshot.auditHead(),
    maxStepCount: (f) => snapshot.maxStepCount(f),
    requests: (f, a, l) => snapshot.requests(f, a, l),
    grants: (f, a, l) => snapshot.grants(f, a, l),
    events: (f, a, l) => snapshot.events(f, a, l),
    policyVersions: (f, a, l) => snapshot.policyVersions(f, a, l),
    reviewItems: (f, a, l) => snapshot.reviewItems(f, a, l),
    close: () => snapshot.close(),
  };
}
