import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import Papa from 'papaparse';
import { describe, expect, it } from 'vitest';
import { CsvTableSink, FORMULA_START } from '../../src/adapters/csv/csv-table-sink.js';

/** A Writable that keeps every byte, optionally slowly (a callback per chunk after `delayMs`). */
function collector(options: { highWaterMark?: number; delayMs?: number } = {}) {
  const chunks: Buffer[] = [];
  let maxBuffered = 0;
  let drains = 0;
  const out = new Writable({
    highWaterMark: options.highWaterMark ?? 16 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      if (options.delayMs) setTimeout(callback, options.delayMs);
      else callback();
    },
  });
  const originalWrite = out.write.bind(out);
  out.write = ((chunk: Buffer, ...rest: never[]) => {
    const ok = originalWrite(chunk, ...rest);
    maxBuffered = Math.max(maxBuffered, out.writableLength);
    return ok;
  }) as typeof out.write;
  out.on('drain', () => drains++);
  return { out, bytes: () => Buffer.concat(chunks), stats: () => ({ maxBuffered, drains }) };
}

async function csvOf(columns: string[], rows: (string | number | boolean | null)[][], options: { bom?: boolean } = {}) {
  const c = collector();
  const sink = new CsvTableSink(c.out, options);
  await sink.start(columns);
  await sink.write(rows);
  const digest = await sink.finish();
  return { bytes: c.bytes(), digest };
}

function parse(bytes: Buffer): string[][] {
  const result = Papa.parse<string[]>(bytes.toString('utf8'), {
    delimiter: ',',
    newline: '\r\n',
    skipEmptyLines: false,
  });
  expect(result.errors).toEqual([]);
  // The file ends with CRLF; the parser reports the empty line after it.
  expect(result.data.at(-1)).toEqual(['']);
  return result.data.slice(0, -1);
}

const HOSTILE = [
  '=HYPERLINK("http://x","y")',
  '=1+1\n',
  '@SUM(1)\r\nx',
  '-2+3',
  '+1',
  '\tcmd',
  '\r=1',
  '\n=1',
  '\uFF1D1+1',
];
const PLAIN = [
  'on-call, "sev 1" incident;\nsee runbook, step 2\r\nthanks',
  ' padded ',
  'Zoë Ünal — 東京',
  "it's fine",
  '',
];

describe('the CSV sink', () => {
  it('neutralises every cell that starts a formula, newline or not, and reads the rest back exactly', async () => {
    const { bytes } = await csvOf(
      ['text'],
      [...HOSTILE, ...PLAIN].map((t) => [t]),
    );
    const rows = parse(bytes)
      .slice(1)
      .map((r) => r[0]);
    expect(rows).toEqual([...HOSTILE.map((t) => `'${t}`), ...PLAIN]);
  });

  it('leaves numbers and booleans as they are, negative numbers included', async () => {
    const { bytes } = await csvOf(
      ['n', 'm', 'b', 'empty'],
      [
        [-5, 3600, true, null],
        [0, 1.5, false, null],
      ],
    );
    expect(bytes.toString('utf8')).toBe('\ufeffn,m,b,empty\r\n-5,3600,true,\r\n0,1.5,false,\r\n');
  });

  it('is RFC 4180: CRLF line ends, quoted fields for commas, quotes and line breaks, quotes doubled', async () => {
    const { bytes } = await csvOf(
      ['a', 'b'],
      [
        ['x,y', 'say "hi"'],
        ['line\nbreak', 'plain'],
      ],
      { bom: false },
    );
    expect(bytes.toString('utf8')).toBe('a,b\r\n"x,y","say ""hi"""\r\n"line\nbreak",plain\r\n');
  });

  it('starts with a UTF-8 byte order mark unless told not to, and hashes the exact bytes', async () => {
    const withBom = await csvOf(['a'], [['é']]);
    expect([...withBom.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    expect(withBom.digest).toEqual({
      bytes: withBom.bytes.length,
      sha256: createHash('sha256').update(withBom.bytes).digest('hex'),
    });
    const without = await csvOf(['a'], [['é']], { bom: false });
    expect(without.bytes.toString('utf8')).toBe('a\r\né\r\n');
    expect(without.digest.bytes).toBe(withBom.digest.bytes - 3);
  });

  it('closes the gap papaparse leaves with escapeFormulae: true (a formula followed by a line break)', () => {
    // Why the sink passes a first-character RegExp: papaparse's own pattern misses these.
    expect(Papa.unparse([['=1+1\n'], ['@SUM(1)\r\nx']], { escapeFormulae: true })).not.toContain("'");
    expect(FORMULA_START.test('=1+1\n')).toBe(true);
    expect(Papa.unparse([['=1+1\n']], { escapeFormulae: FORMULA_START })).toBe('"\'=1+1\n"');
  });

  it('waits for a slow destination instead of buffering the whole export', async () => {
    const c = collector({ highWaterMark: 1024, delayMs: 1 });
    const sink = new CsvTableSink(c.out);
    await sink.start(['id', 'text']);
    const batch = Array.from({ length: 50 }, (_, i) => [i, 'x'.repeat(40)]);
    for (let i = 0; i < 40; i++) await sink.write(batch);
    const digest = await sink.finish();
    expect(c.stats().drains).toBeGreaterThan(0);
    // At most the batch being written is in flight: ~2.3 KB a batch, never the 90 KB file.
    expect(c.stats().maxBuffered).toBeLessThan(4 * 1024);
    expect(digest.bytes).toBe(c.bytes().length);
    expect(parse(c.bytes())).toHaveLength(1 + 40 * 50);
  });

  it('with reused buffers, writes the same bytes as without: a buffer is refilled only once its write is done', async () => {
    // A destination that takes its copy of a chunk only when the write completes, a few ms later
    // and several writes in flight (as a file on the thread pool): a buffer refilled before its
    // write's callback would show up here as another batch's bytes.
    const late = () => {
      const chunks: Buffer[] = [];
      const out = new Writable({
        highWaterMark: 8 * 1024 * 1024,
        write(chunk: Buffer, _encoding, callback) {
          setTimeout(() => {
            chunks.push(Buffer.from(chunk));
            callback();
          }, 2);
        },
      });
      return { out, bytes: () => Buffer.concat(chunks) };
    };
    // Batches of 50 to 90 kB: several to a written chunk, one not fitting what is left of it.
    const batches = Array.from({ length: 30 }, (_, b) =>
      Array.from({ length: 1500 + 100 * (b % 9) }, (_, i) => [i, `=row ${b}-${i}, "quoted"`, 'é'.repeat(b % 7)]),
    );
    const run = async (reuseBuffers: boolean) => {
      const c = late();
      const sink = new CsvTableSink(c.out, { reuseBuffers });
      await sink.start(['n', 'text', 'accents']);
      for (const batch of batches) await sink.write(batch);
      return { digest: await sink.finish(), bytes: c.bytes() };
    };
    const reused = await run(true);
    const fresh = await run(false);
    expect(reused.bytes.equals(fresh.bytes)).toBe(true);
    expect(reused.digest).toEqual(fresh.digest);
    expect(reused.digest.sha256).toBe(createHash('sha256').update(reused.bytes).digest('hex'));
    expect(parse(reused.bytes)[1]).toEqual(['0', '\'=row 0-0, "quoted"', '']);
  });

  it('fails the export when the destination fails', async () => {
    const out = new Writable({
      write(_chunk, _encoding, callback) {
        callback(new Error('disk full'));
      },
    });
    const sink = new CsvTableSink(out);
    await sink.start(['a']).catch(() => undefined);
    await expect(sink.write([['x']]).then(() => sink.finish())).rejects.toThrow('disk full');
    await sink.abort();
  });

  it('refuses a row that does not fit the columns', async () => {
    const sink = new CsvTableSink(collector().out);
    await sink.start(['a', 'b']);
    await expect(sink.write([['only one']])).rejects.toThrow('1 cells for 2 columns');
  });
});
