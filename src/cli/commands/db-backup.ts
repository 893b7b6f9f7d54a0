import { resolve } from 'node:path';
import { BackupError, backupDatabase, type CopyResult } from '../../adapters/db/backup-database.js';
import { CommandFailure, EXIT, UsageError, println, type Command, type Output } from '../command.js';
import { readConfig } from '../read-config.js';
import { parseCommandArgs } from '../parse-args.js';

export const dbBackup: Command = {
  name: 'db backup',
  summary: "Copy the database to a file while the bot runs, then verify the copy's audit chain and print its head",
  usage: `Usage: access-bot db backup FILE [--force]

Writes a consistent copy of the SQLite database (DATABASE_PATH) to FILE through SQLite's online
backup API: the bot keeps running and writing meanwhile. The copy is one self-contained file,
readable by its owner only (mode 0600). It is then opened read-only, its audit chain is verified
and its head printed: keep the head with the backup, and after a restore check it with
"access-bot audit verify --expect-head HASH".

Options:
  --force     replace FILE if it exists (without it, an existing FILE is never touched)
  -h, --help  show this help

Exit codes: 0 the copy is written and its audit chain verifies; 1 nothing was written (the reason
            is printed), or the copy's audit chain is broken; 2 usage or configuration error.`,

  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { force: { type: 'boolean' } }, true);
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    if (positionals.length !== 1)
      throw new UsageError(
        positionals.length === 0 ? 'name the backup FILE' : `expected one FILE, got ${positionals.length}`,
      );
    const config = readConfig(io);
    if (config.postgres)
      throw new CommandFailure(
        'DATABASE_URL is set: the data is in PostgreSQL, which is backed up with pg_dump and pg_restore (README, "Backups and restore"); db backup is for the SQLite file',
        EXIT.usage,
      );
    const source = config.databasePath;
    if (source === ':memory:')
      throw new CommandFailure('DATABASE_PATH is :memory:, which cannot be backed up', EXIT.usage);
    const target = resolve(positionals[0]!);
    let result: CopyResult;
    try {
      result = await backupDatabase(source, target, { overwrite: values.force === true });
    } catch (error) {
      if (error instanceof BackupError) throw new CommandFailure(`db backup: ${error.message}`);
      throw error;
    }
    println(
      io.stdout,
      `backup written: ${result.path} (${describeSize(result.bytes)}, ${result.pages} pages) from ${source}`,
    );
    return printChain(io.stdout, 'the copy', result);
  },
};

/** The copy's chain as `audit verify` prints it; the exit code says whether it verified. */
export function printChain(out: Output, what: string, result: CopyResult): number {
  const { chain } = result;
  if (!chain.ok) {
    println(out, `audit chain in ${what} BROKEN: ${chain.problem!.message}`);
    println(out, `first bad event: ${chain.problem!.seq} (${chain.problem!.kind}); ${chain.count} event(s) read`);
    return EXIT.problem;
  }
  println(out, `audit chain in ${what} intact: ${chain.count} event${chain.count === 1 ? '' : 's'}`);
  println(out, `head ${chain.head}`);
  return EXIT.ok;
}

export function describeSize(bytes: number): string {
  return bytes >= 1024 * 1024 ? `${(bytes / (1024 * 1024)).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} kB`;
}
