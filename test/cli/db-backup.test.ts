/**
 * `access-bot db backup` and `db restore` on real SQLite files: a backup taken while the bot runs,
 * restored in place of a database that moved on, and the bot started again on the restored file.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { verifyDatabaseFile } from '../../src/adapters/db/backup-database.js';
import { silentLogger } from '../../src/adapters/log/json-logger.js';
import { loadConfig } from '../../src/config.js';
import { identifyByEmail } from '../../src/operations/identify-person.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { startBotProcess, type BotProcess } from '../sandbox/bot-process.js';
import { cli, EXAMPLE_ENV } from './helpers.js';

let dir: string;
let env: Record<string, string>;
let open: Runtime[] = [];
let bot: BotProcess | undefined;

async function openRuntime(): Promise<Runtime> {
  const runtime = await createRuntime(loadConfig(env), { logger: silentLogger });
  open.push(runtime);
  return runtime;
}

async function submit(runtime: Runtime, email: string, app: string, role: string): Promise<void> {
  await submitRequest(runtime.deps, {
    requester: await identifyByEmail(runtime.deps, email),
    app,
    role,
    justification: 'INC-7 failover',
  });
}

const headOf = (stdout: string): string => /^head ([0-9a-f]{64})$/m.exec(stdout)?.[1] ?? 'no head printed';

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'access-bot-backup-'));
  env = { ...EXAMPLE_ENV, DATABASE_PATH: join(dir, 'access.db') };
  const runtime = await openRuntime();
  await submit(runtime, 'ada@example.com', 'github', 'member');
  await submit(runtime, 'ada@example.com', 'aws-prod', 'admin');
});

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  for (const runtime of open) await runtime.close();
  open = [];
  rmSync(dir, { recursive: true, force: true });
});

describe('access-bot db backup', () => {
  it('copies the open database, WAL included, into one file only its owner can read, and prints the verified head', async () => {
    // The store stays open, as the running bot's does: the latest events are still in the -wal file.
    const [runtime] = open;
    await submit(runtime!, 'marcus@example.com', 'github', 'member');
    expect(statSync(`${env.DATABASE_PATH}-wal`).size).toBeGreaterThan(0);
    const live = await cli(['audit', 'verify'], env);

    const file = join(dir, 'backup.db');
    const result = await cli(['db', 'backup', file], env);

    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`backup written: ${file}`);
    expect(result.stdout).toMatch(/audit chain in the copy intact: \d+ events/);
    expect(headOf(result.stdout)).toBe(headOf(live.stdout));
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(existsSync(`${file}-wal`)).toBe(false);
    const copy = new Database(file, { readonly: true });
    expect(copy.pragma('journal_mode', { simple: true })).toBe('delete');
    expect(
      copy.prepare("select count(*) from requests where requester_email = 'marcus@example.com'").pluck().get(),
    ).toBe(1);
    copy.close();
    expect(readdirSync(dir).filter((name) => name.includes('partial'))).toEqual([]);
  });

  it('refuses to replace an existing file unless --force, and then leaves it 0600', async () => {
    const file = join(dir, 'backup.db');
    writeFileSync(file, "last week's backup", { mode: 0o644 });

    const refused = await cli(['db', 'backup', file], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`${file} already exists; choose another name, or pass --force to replace it`);
    expect(readFileSync(file, 'utf8')).toBe("last week's backup");

    const forced = await cli(['db', 'backup', file, '--force'], env);
    expect(forced.code, forced.stderr).toBe(0);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(verifyDatabaseFile(file).ok).toBe(true);
  });

  it('exits 1 naming the changed event when the copy of a tampered log does not verify', async () => {
    const tamper = new Database(env.DATABASE_PATH!);
    tamper
      .prepare(
        "update audit_events set details = json_set(details, '$.justification', 'routine') where action = 'request.submitted' and json_extract(details, '$.app') = 'aws-prod'",
      )
      .run();
    tamper.close();

    const result = await cli(['db', 'backup', join(dir, 'backup.db')], env);

    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/audit chain in the copy BROKEN: event \d+ \(request.submitted\) was changed/);
  });

  it('says clearly what is wrong with the arguments or the database', async () => {
    expect((await cli(['db', 'backup'], env)).stderr).toContain('db backup: name the backup FILE');
    const missingFolder = await cli(['db', 'backup', join(dir, 'no-such-folder', 'b.db')], env);
    expect(missingFolder.code).toBe(1);
    expect(missingFolder.stderr).toContain('no-such-folder does not exist');
    const noDatabase = await cli(['db', 'backup', join(dir, 'b.db')], {
      ...env,
      DATABASE_PATH: join(dir, 'nothing.db'),
    });
    expect(noDatabase.code).toBe(1);
    expect(noDatabase.stderr).toContain(`there is no database at ${join(dir, 'nothing.db')}`);
  });

  it('points to pg_dump and pg_restore when the data is in PostgreSQL, and touches no file', async () => {
    const postgres = { ...env, DATABASE_URL: 'postgres://bot:s3cret@db.internal:5432/access' };
    const file = join(dir, 'b.db');
    for (const command of ['backup', 'restore']) {
      const result = await cli(['db', command, file], postgres);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('DATABASE_URL is set: the data is in PostgreSQL');
      expect(result.stderr).toMatch(
        command === 'backup' ? /backed up with pg_dump and pg_restore/ : /restored with pg_restore/,
      );
      expect(result.stderr).not.toContain('s3cret');
    }
    expect(existsSync(file)).toBe(false);
  });
});

describe('access-bot db restore', () => {
  it('restores a backup taken while the bot ran in place of a database that moved on, and the bot starts on it', async () => {
    for (const runtime of open) await runtime.close();
    open = [];
    const file = join(dir, 'backup.db');
    bot = await startBotProcess({ databasePath: env.DATABASE_PATH });
    const backup = await cli(['db', 'backup', file], env);
    expect(backup.code, backup.stderr).toBe(0);
    const backupHead = headOf(backup.stdout);

    // Not while the bot has the database open.
    const busy = await cli(['db', 'restore', file, '--force'], env);
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain(`${env.DATABASE_PATH} is open in another process (the bot?); stop it first`);
    await bot.stop();
    bot = undefined;

    // The database moves on after the backup.
    await submit(await openRuntime(), 'marcus@example.com', 'github', 'member');
    for (const runtime of open) await runtime.close();
    open = [];
    const laterHead = headOf((await cli(['audit', 'verify'], env)).stdout);
    expect(laterHead).not.toBe(backupHead);
    // A last backup before restoring: its read-only connection leaves the -wal and -shm files behind.
    expect((await cli(['db', 'backup', join(dir, 'before-restore.db')], env)).code).toBe(0);
    expect(existsSync(`${env.DATABASE_PATH}-wal`)).toBe(true);

    const refused = await cli(['db', 'restore', file], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`a database is already at ${env.DATABASE_PATH}; pass --force`);

    const restored = await cli(['db', 'restore', file, '--force'], env);
    expect(restored.code, restored.stderr).toBe(0);
    expect(headOf(restored.stdout)).toBe(backupHead);
    const movedAside = /is now (\S+)/.exec(restored.stdout)?.[1] ?? '';
    expect(movedAside).toMatch(/access\.db\.before-restore-\d{4}-\d\d-\d\dT/);
    expect(verifyDatabaseFile(movedAside)).toMatchObject({ ok: true, head: laterHead });
    // Nothing of the old database's -wal or -shm is left beside the restored one.
    expect(['-wal', '-shm'].filter((side) => existsSync(env.DATABASE_PATH + side))).toEqual([]);
    expect(statSync(env.DATABASE_PATH!).mode & 0o777).toBe(0o600);

    // The bot starts on the restored file, and its log still holds the backup's head.
    bot = await startBotProcess({ databasePath: env.DATABASE_PATH });
    await bot.stop();
    bot = undefined;
    const verify = await cli(['audit', 'verify', '--expect-head', backupHead], env);
    expect(verify.code, verify.stdout).toBe(0);
    const requests = await cli(['requests', 'list', '--json'], env);
    expect(requests.stdout).not.toContain('marcus@example.com');
  });

  it('refuses a backup whose audit chain is broken, or a file that is not a backup, and changes nothing', async () => {
    for (const runtime of open) await runtime.close();
    open = [];
    const file = join(dir, 'backup.db');
    expect((await cli(['db', 'backup', file], env)).code).toBe(0);
    const tamper = new Database(file);
    tamper
      .prepare(
        "update audit_events set actor_label = 'x', details = json_set(details, '$.role', 'owner') where seq = 2",
      )
      .run();
    tamper.close();
    const before = readFileSync(env.DATABASE_PATH!);

    const broken = await cli(['db', 'restore', file, '--force'], env);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/backup\.db does not verify, so it is not restored: event 2 \(.+\) was changed/);

    const notes = join(dir, 'notes.txt');
    writeFileSync(notes, 'not a database');
    const notDatabase = await cli(['db', 'restore', notes, '--force'], env);
    expect(notDatabase.code).toBe(1);
    expect(notDatabase.stderr).toContain('notes.txt is not a SQLite database');

    expect(readFileSync(env.DATABASE_PATH!).equals(before)).toBe(true);
    expect(readdirSync(dir).filter((name) => name.includes('before-restore'))).toEqual([]);
  });
});
