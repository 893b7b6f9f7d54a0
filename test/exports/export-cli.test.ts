import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../src/cli/command.js';
import { EXAMPLE_ENV, cli } from '../cli/helpers.js';
import { allEvents, parseCsv } from './helpers.js';
import { seedHistory, type SeededHistory } from './seeded-history.js';

const run = promisify(execFile);
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');
const summaryLine = (stderr: string, label: string) =>
  stderr
    .split('\n')
    .find((l) => l.startsWith(label))
    ?.slice(label.length)
    .trim()
    .split(' ')[0];

let s: SeededHistory;
let env: Record<string, string>;
let dir: string;
beforeAll(async () => {
  s = await seedHistory();
  env = { ...EXAMPLE_ENV, DATABASE_PATH: s.h.dbPath };
  dir = dirname(s.h.dbPath);
});
afterAll(async () => await s.h.close());

describe('access-bot export', () => {
  it('writes to --out, and prints the rows, the file SHA-256 and the audit head that audit verify prints', async () => {
    const verify = await cli(['audit', 'verify'], env);
    const head = verify.stdout.match(/head ([0-9a-f]{64})/)![1]!;
    const out = join(dir, 'requests.csv');
    const { code, stdout, stderr } = await cli(['export', 'requests', '--out', out], env);
    expect({ code, stdout }).toEqual({ code: EXIT.ok, stdout: '' });
    const file = readFileSync(out);
    expect(stderr).toContain(`export requests: 14 rows, ${file.length} bytes written to ${out}`);
    expect(summaryLine(stderr, 'sha256')).toBe(sha256(file));
    expect(summaryLine(stderr, 'audit head')).toBe(head);
    expect(parseCsv(file.toString('utf8')).rows).toHaveLength(14);
    // No temporary file left behind.
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
    // The head is still in the chain after the export's own event.
    expect((await cli(['audit', 'verify', '--expect-head', head], env)).code).toBe(EXIT.ok);
  });

  it('writes to stdout by default, and logs the export as system:cli with the operating-system user', async () => {
    const { code, stdout, stderr } = await cli(['export', 'events', '--to', '2026-03-03', '--no-bom'], env);
    expect(code).toBe(EXIT.ok);
    expect(stdout.startsWith('seq,at,actor_kind')).toBe(true);
    expect(summaryLine(stderr, 'sha256')).toBe(sha256(Buffer.from(stdout, 'utf8')));
    expect(stderr).toContain('period      the beginning (inclusive) to 2026-03-03T00:00:00.000Z (exclusive)');
    const rows = parseCsv(stdout).rows;
    expect(rows.every((r) => r.at! < '2026-03-03')).toBe(true);
    const event = (await allEvents(s.h)).at(-1)!;
    expect(event).toMatchObject({
      action: 'export.created',
      actor: { kind: 'system', component: 'cli' },
      details: {
        export: 'events',
        rows: rows.length,
        destination: 'stdout',
        filters: { to: '2026-03-03T00:00:00.000Z' },
        sha256: sha256(Buffer.from(stdout, 'utf8')),
      },
    });
    expect(typeof event.details.osUser).toBe('string');
  });

  it('exits 2 with a clear message for a bad filter, and neither writes nor logs anything', async () => {
    const before = (await allEvents(s.h)).length;
    const cases: [string[], string][] = [
      [['export', 'requests', '--from', '2026-13-01'], '--from "2026-13-01" is not a date'],
      [['export', 'requests', '--from', '2026-03-01T09:00'], 'has no time zone'],
      [['export', 'access', '--from', '2026-03-05', '--to', '2026-03-01'], 'the period is empty'],
      [['export', 'policies', '--user', 'ada@example.com'], '--user applies to requests, access, events and reviews'],
      [['export', 'grants'], 'unknown export "grants"'],
      [['export'], 'no export named'],
      [['export', 'requests', 'access'], 'one export at a time'],
      [['export', 'requests', '--since', '2026-03-01'], "Unknown option '--since'"],
    ];
    for (const [argv, message] of cases) {
      const result = await cli(argv, env);
      expect({ argv, code: result.code, stdout: result.stdout }).toEqual({ argv, code: EXIT.usage, stdout: '' });
      expect(result.stderr).toContain(message);
      expect(result.stderr).toContain('access-bot export --help');
    }
    expect(await allEvents(s.h)).toHaveLength(before);
  });

  it('exports as an admin with --admin, and refuses someone who is not one', async () => {
    const refused = await cli(['export', 'access', '--admin', 'ada@example.com'], env);
    expect(refused.code).toBe(EXIT.problem);
    expect(refused.stderr).toContain('export refused: Only members of access-admins can do this.');
    expect(refused.stdout).toBe('');
    const out = join(dir, 'access.csv');
    const ok = await cli(['export', 'access', '--admin', 'ian@example.com', '--out', out], env);
    expect(ok.code).toBe(EXIT.ok);
    expect((await allEvents(s.h)).at(-1)).toMatchObject({
      action: 'export.created',
      actor: { kind: 'person', email: 'ian@example.com' },
      details: { export: 'access', destination: 'file' },
    });
  });

  it('replaces a file already at --out with the new export, readable by its owner only', async () => {
    const out = join(dir, 'replaced.csv');
    writeFileSync(out, 'an older export\n', { mode: 0o644 });
    const { code, stderr } = await cli(['export', 'policies', '--out', out], env);
    expect(code).toBe(EXIT.ok);
    const file = readFileSync(out);
    expect(summaryLine(stderr, 'sha256')).toBe(sha256(file));
    expect(parseCsv(file.toString('utf8')).rows).toHaveLength(7);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
  });

  it('fails cleanly when the file cannot be written', async () => {
    const before = (await allEvents(s.h)).length;
    const out = join(dir, 'missing', 'x.csv');
    const { code, stderr } = await cli(['export', 'policies', '--out', out], env);
    expect(code).toBe(EXIT.problem);
    expect(stderr).toContain(`cannot write ${out}`);
    expect(existsSync(out)).toBe(false);
    expect(await allEvents(s.h)).toHaveLength(before);
  });

  it('refuses a folder as --out, leaving it as it was and logging nothing', async () => {
    const before = (await allEvents(s.h)).length;
    const out = join(dir, 'a-folder');
    mkdirSync(out);
    const { code, stderr } = await cli(['export', 'policies', '--out', out], env);
    expect(code).toBe(EXIT.problem);
    expect(stderr).toContain(`cannot write ${out}`);
    expect(statSync(out).isDirectory()).toBe(true);
    expect(readdirSync(dir).filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect(await allEvents(s.h)).toHaveLength(before);
  });

  it('streams to the real stdout of the command-line process', async () => {
    const childEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env };
    const { stdout, stderr } = await run(
      process.execPath,
      ['--import', 'tsx', 'src/cli/main.ts', 'export', 'policies'],
      { env: childEnv, encoding: 'buffer' },
    );
    expect(stdout.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
    expect(summaryLine(stderr.toString('utf8'), 'sha256')).toBe(sha256(stdout));
    expect(parseCsv(stdout.toString('utf8')).rows).toHaveLength(7);
  });
});
