import { CopyError, copySqliteToPostgres } from '../../adapters/db/copy-to-postgres.js';
import { CommandFailure, EXIT, UsageError, println, type Command } from '../command.js';
import { readConfig } from '../read-config.js';
import { parseCommandArgs } from '../parse-args.js';

export const dbCopy: Command = {
  name: 'db copy',
  summary: 'Copy the SQLite database into an empty PostgreSQL database (the move to several replicas)',
  usage: `Usage: access-bot db copy --to DATABASE_URL

Copies the SQLite database (DATABASE_PATH) into the PostgreSQL database at DATABASE_URL, in one
pass: the target is migrated, refused if any of its tables holds a row, and written in one
transaction (all of it or nothing). Every table is copied, ids and the audit log as they are. Both
audit chains are then verified and their heads printed: they must match. Stop the bot first, so
nothing is written to the SQLite file after the copy; then start the replicas with DATABASE_URL.

Options:
  --to URL    the target, e.g. postgres://bot:secret@db.internal:5432/access?sslmode=verify-full
  -h, --help  show this help

Exit codes: 0 copied, both chains intact and their heads equal; 1 nothing copied (the reason is
            printed), or the chains differ; 2 usage or configuration error.`,

  async run(args, io) {
    const { values } = parseCommandArgs(args, { to: { type: 'string' } });
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    const target = values.to;
    if (!target) throw new UsageError('name the target with --to DATABASE_URL');
    if (!/^postgres(ql)?:\/\//.test(target))
      throw new UsageError('--to must be a PostgreSQL URL (postgres://user:password@host:5432/db)');
    const source = readConfig(io).databasePath;
    let report;
    try {
      report = await copySqliteToPostgres(source, target);
    } catch (error) {
      if (error instanceof CopyError) throw new CommandFailure(`db copy: ${error.message}`);
      throw error;
    }
    println(io.stdout, `copied ${source} to ${report.target}:`);
    for (const { table, rows } of report.tables)
      println(io.stdout, `  ${table.padEnd(20)} ${rows} row${rows === 1 ? '' : 's'}`);
    const line = (what: string, chain: typeof report.source) =>
      chain.ok
        ? `audit chain in ${what}: intact, ${chain.count} event${chain.count === 1 ? '' : 's'}, head ${chain.head}`
        : `audit chain in ${what}: BROKEN at event ${chain.problem!.seq} (${chain.problem!.message})`;
    println(io.stdout, line('SQLite', report.source));
    println(io.stdout, line('PostgreSQL', report.copied));
    const same =
      report.source.ok &&
      report.copied.ok &&
      report.source.head === report.copied.head &&
      report.source.count === report.copied.count;
    println(io.stdout, same ? 'the heads match' : 'THE HEADS DIFFER: do not switch to the copy; keep the SQLite file');
    return same ? EXIT.ok : EXIT.problem;
  },
};
