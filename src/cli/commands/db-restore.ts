import { resolve } from 'node:path';
import { BackupError, restoreDatabase, type RestoreResult } from '../../adapters/db/backup-database.js';
import { CommandFailure, EXIT, UsageError, println, type Command } from '../command.js';
import { readConfig } from '../read-config.js';
import { parseCommandArgs } from '../parse-args.js';
import { describeSize, printChain } from './db-backup.js';

export const dbRestore: Command = {
  name: 'db restore',
  summary: 'Put a backup in place as the database (the bot stopped), after verifying its audit chain',
  usage: `Usage: access-bot db restore FILE [--force]

Puts the backup FILE (written by "access-bot db backup") in place as the bot's SQLite database
(DATABASE_PATH). Stop the bot first. FILE is opened read-only and its audit chain verified before
anything changes: a backup whose chain is broken is not restored. The restored database is
verified again and its head printed; it should be the head printed when the backup was taken.
Then start the bot: it applies any migrations newer than the backup.

A database already at DATABASE_PATH is never deleted: with --force it is moved aside, with its -wal
and -shm files, to DATABASE_PATH.before-restore-<time>, and only while no process has it open.

Options:
  --force     move the database at DATABASE_PATH aside and restore in its place
  -h, --help  show this help

Exit codes: 0 restored and verified; 1 nothing was restored (the reason is printed);
            2 usage or configuration error.`,

  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { force: { type: 'boolean' } }, true);
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    if (positionals.length !== 1)
      throw new UsageError(
        positionals.length === 0 ? 'name the backup FILE to restore' : `expected one FILE, got ${positionals.length}`,
      );
    const config = readConfig(io);
    if (config.postgres)
      throw new CommandFailure(
        'DATABASE_URL is set: the data is in PostgreSQL, which is backed up with pg_dump and restored with pg_restore (README, "Backups and restore"); db restore is for the SQLite file',
        EXIT.usage,
      );
    const target = config.databasePath;
    if (target === ':memory:')
      throw new CommandFailure('DATABASE_PATH is :memory:; name the file to restore into', EXIT.usage);
    let result: RestoreResult;
    try {
      result = await restoreDatabase(resolve(positionals[0]!), target, { replace: values.force === true });
    } catch (error) {
      if (error instanceof BackupError) throw new CommandFailure(`db restore: ${error.message}`);
      throw error;
    }
    if (result.movedAside) println(io.stdout, `the database that was at ${target} is now ${result.movedAside}`);
    println(
      io.stdout,
      `restored ${positionals[0]} to ${target} (${describeSize(result.bytes)}, ${result.pages} pages)`,
    );
    return printChain(io.stdout, 'the restored database', result);
  },
};
