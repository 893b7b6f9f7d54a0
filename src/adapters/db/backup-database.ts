/**
 * Backups and restores of the SQLite database, while the bot runs.
 *
 * A backup goes through SQLite's online backup API (better-sqlite3's `backup()`), from a read-only
 * connection, in one step: in WAL mode that step reads one snapshot and never blocks the bot's
 * writes, and a write made meanwhile cannot restart it (a backup taken in small steps starts over
 * whenever another connection writes). The copy is written to a temporary file created 0600 beside
 * the target, turned into a single self-contained file (rollback journal, no -wal beside it), and
 * only then given its name, so an interrupted backup never leaves a half-written file under it.
 * Then the copy is opened read-only and its audit chain verified.
 *
 * A restore is the same copy the other way, into DATABASE_PATH, after the backup has been verified
 * and while no process has the database open; a database already there is moved aside, never
 * deleted.
 */
import { closeSync, existsSync, linkSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import { asc, gt } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { verifyChain, type AuditEvent, type ChainVerification } from '../../domain/audit.js';
import * as t from './schema.js';
import { toAudit } from './row-mappers.js';

/** A backup or restore that cannot go ahead; the message says why and what to do. */
export class BackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupError';
  }
}

export interface CopyResult {
  path: string;
  bytes: number;
  pages: number;
  /** The copy's audit chain, read back from the copy itself. */
  chain: ChainVerification;
}

/** The files SQLite keeps beside a database, which belong to it. */
const SIDE_FILES = ['-wal', '-shm', '-journal'];

/** A backup file, verified or not, is readable by its owner only: it holds the whole audit trail. */
const FILE_MODE = 0o600;

/** Writes a consistent copy of the database at `source` to `target` and verifies the copy's audit chain. */
export async function backupDatabase(
  source: string,
  target: string,
  options: { overwrite?: boolean } = {},
): Promise<CopyResult> {
  if (!existsSync(source)) throw new BackupError(`there is no database at ${source} (DATABASE_PATH)`);
  if (!existsSync(dirname(target))) throw new BackupError(`the folder ${dirname(target)} does not exist`);
  if (!options.overwrite && existsSync(target))
    throw new BackupError(`${target} already exists; choose another name, or pass --force to replace it`);
  const from = new Database(source, { readonly: true, fileMustExist: true });
  try {
    requireAuditLog(from, source);
    const pages = await copyInto(from, target, { replace: options.overwrite === true });
    return { path: target, bytes: statSync(target).size, pages, chain: verifyDatabaseFile(target) };
  } finally {
    from.close();
  }
}

export interface RestoreResult extends CopyResult {
  /** Where the database that was at the target before now is, if there was one. */
  movedAside?: string;
}

/**
 * Puts the backup at `backup` in place as the database at `target`. The backup must verify; a
 * database at `target` is only replaced with `replace`, only when no process has it open, and is
 * moved aside (with its -wal and -shm) to `<target>.before-restore-<time>`.
 */
export async function restoreDatabase(
  backup: string,
  target: string,
  options: { replace?: boolean; now?: Date } = {},
): Promise<RestoreResult> {
  if (!existsSync(backup)) throw new BackupError(`there is no backup at ${backup}`);
  const checked = verifyDatabaseFile(backup);
  if (!checked.ok)
    throw new BackupError(`${backup} does not verify, so it is not restored: ${checked.problem!.message}`);
  const files = () => [target, ...SIDE_FILES.map((side) => target + side)].filter((file) => existsSync(file));
  let movedAside: string | undefined;
  let present: string[] = [];
  if (files().length > 0) {
    if (!options.replace)
      throw new BackupError(
        `a database is already at ${target}; pass --force to move it aside and restore in its place`,
      );
    // The probe's connection checkpoints the WAL as it closes: list the files after it.
    if (existsSync(target)) requireNotInUse(target);
    present = files();
    movedAside = `${target}.before-restore-${(options.now ?? new Date()).toISOString().replace(/[:.]/g, '-')}`;
    for (const file of present) renameSync(file, movedAside + file.slice(target.length));
  }
  const from = new Database(backup, { readonly: true, fileMustExist: true });
  let pages: number;
  try {
    pages = await copyInto(from, target, { replace: false });
  } catch (error) {
    // Nothing was put in place: the database that was there goes back.
    if (movedAside) for (const file of present) renameSync(movedAside + file.slice(target.length), file);
    throw error;
  } finally {
    from.close();
  }
  return {
    path: target,
    bytes: statSync(target).size,
    pages,
    chain: verifyDatabaseFile(target),
    ...(movedAside ? { movedAside } : {}),
  };
}

/** Opens the database file read-only and verifies its audit chain, reading the events in batches. */
export function verifyDatabaseFile(path: string, expectHead?: string): ChainVerification {
  const sqlite = new Database(path, { readonly: true, fileMustExist: true });
  try {
    requireAuditLog(sqlite, path);
    const db = drizzle({ client: sqlite, schema: t });
    function* events(batch = 5000): Generator<AuditEvent> {
      let afterId = 0;
      for (;;) {
        const rows = db
          .select()
          .from(t.auditEvents)
          .where(gt(t.auditEvents.id, afterId))
          .orderBy(asc(t.auditEvents.id))
          .limit(batch)
          .all();
        if (rows.length === 0) return;
        yield* rows.map(toAudit);
        afterId = rows[rows.length - 1]!.id;
      }
    }
    return verifyChain(events(), expectHead);
  } finally {
    sqlite.close();
  }
}

function requireAuditLog(sqlite: Database.Database, path: string): void {
  let found: unknown;
  try {
    found = sqlite.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_events'").get();
  } catch (error) {
    throw new BackupError(`${path} is not a SQLite database: ${(error as Error).message}`);
  }
  if (!found) throw new BackupError(`${path} is not an access-bot database (it has no audit log)`);
}

/** Refuses when another connection (a running bot, a CLI command) has the database open. */
function requireNotInUse(path: string): void {
  const probe = new Database(path, { fileMustExist: true, timeout: 0 });
  try {
    // An exclusive lock cannot be had while any other connection has a WAL database open.
    probe.pragma('locking_mode = EXCLUSIVE');
    probe.exec('BEGIN EXCLUSIVE');
    probe.exec('COMMIT');
  } catch (error) {
    if ((error as { code?: string }).code?.startsWith('SQLITE_BUSY'))
      throw new BackupError(`${path} is open in another process (the bot?); stop it first`);
    throw error;
  } finally {
    probe.close();
  }
}

/**
 * Copies the database open on `from` into a new file at `target`: a temporary file created 0600
 * beside it, one backup step, rollback journal mode, then the name. Without `replace` the name is
 * given with a hard link, which fails if `target` appeared meanwhile, instead of replacing it.
 */
async function copyInto(from: Database.Database, target: string, options: { replace: boolean }): Promise<number> {
  const temporary = join(dirname(target), `.${basename(target)}.${process.pid}.partial`);
  closeSync(openSync(temporary, 'wx', FILE_MODE));
  try {
    // The first step sizes the copy; the progress callback then asks for every remaining page at once.
    const { totalPages } = await from.backup(temporary, { progress: () => 0x7fffffff });
    const copy = new Database(temporary, { fileMustExist: true });
    try {
      copy.pragma('journal_mode = DELETE');
    } finally {
      copy.close();
    }
    if (options.replace) {
      for (const side of SIDE_FILES) rmSync(target + side, { force: true });
      renameSync(temporary, target);
    } else {
      try {
        linkSync(temporary, target);
      } catch (error) {
        const code = (error as { code?: string }).code;
        if (code === 'EEXIST' || existsSync(target))
          throw new BackupError(`${target} appeared while the backup was written; nothing was replaced`);
        // A file system without hard links: the name was free a moment ago.
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV') throw error;
        renameSync(temporary, target);
      }
    }
    return totalPages;
  } finally {
    for (const side of ['', ...SIDE_FILES]) rmSync(temporary + side, { force: true });
  }
}
