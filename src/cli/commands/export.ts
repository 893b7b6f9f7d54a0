import { Writable } from 'node:stream';
import { exportCsvToFile, exportCsvToStream } from '../../adapters/csv/export-csv.js';
import { isAccessError } from '../../domain/errors.js';
import type {
  ExportDeps,
  ExportInput,
  ExportRequester,
  ExportSummary,
} from '../../operations/exports/export-evidence.js';
import {
  ExportFilterError,
  parseExportFilters,
  parseExportKind,
  type ExportFilters,
  type ExportKind,
} from '../../operations/exports/export-filters.js';
import { systemClock } from '../../operations/ports.js';
import { openStore } from '../../adapters/db/open-store.js';
import {
  CommandFailure,
  commandLineUser,
  EXIT,
  UsageError,
  println,
  type CommandIo,
  type Command,
  type Output,
} from '../command.js';
import { parseCommandArgs } from '../parse-args.js';
import { readConfig } from '../read-config.js';

export const exportCommand: Command = {
  name: 'export',
  summary: 'Export the audit trail as CSV evidence: requests, access, events, policies or reviews (audited)',
  usage: `Usage: access-bot export <requests|access|events|policies|reviews> [--from WHEN] [--to WHEN]
                          [--app APP] [--role ROLE] [--user EMAIL|ID] [--campaign ID]
                          [--out FILE] [--admin EMAIL] [--no-bom]

Writes one export of the audit trail (DATABASE_PATH) as CSV (RFC 4180, UTF-8, times in ISO 8601
UTC, formula-injection safe) to stdout or to FILE, then prints a summary on stderr: the row count,
the file's SHA-256 and the audit head hash the export was read at (the same hash "audit verify"
prints; check it later with "audit verify --expect-head HASH"). The export is itself logged as an
"export.created" audit event, written once the file is complete. Columns: README.md, "Audit evidence exports".

Exports:
  requests  one row per request, each approval step in columns, with its grant's outcome
  access    one row per grant: who held which role, from when to when, and how it ended
  events    every audit event, with its hash chain
  policies  every policy version with its definition and when it was in force
  reviews   every access review item: who holds what and how, who decided, why, when, and the
            removal verified; each row carries its campaign's population count and hash

Options:
  --from WHEN    start of the period, inclusive: YYYY-MM-DD (midnight UTC) or a date and time
                 with a zone (2026-03-01T09:30:00Z, 2026-03-01T10:30:00+01:00)
  --to WHEN      end of the period, exclusive (same forms)
                 The period selects requests by creation time, grants open at any time in it,
                 events by time, policy versions in force during it, review campaigns started in it.
  --app APP      only this application (events: those about its requests and grants)
  --role ROLE    only this role id
  --user WHO     only this person, by email (any case) or directory id: requests they made,
                 grants they held, events they caused or about their requests and grants,
                 review items of their access
  --campaign ID  reviews only: one campaign (rvc_…, see reviews status --all)
  --out FILE     write to FILE (replaced if it exists; written to a temporary file first)
  --admin EMAIL  export as this admin (checked against the admin group and logged as the actor);
                 without it the actor is logged as system:cli with the operating-system user
  --no-bom       no UTF-8 byte order mark (by default the file starts with one, for Excel)
  -h, --help     show this help

Exit codes: 0 exported; 1 refused (not an admin) or failed; 2 usage error (a bad filter).`,

  async run(args, io) {
    const { values, positionals } = parseCommandArgs(
      args,
      {
        from: { type: 'string' },
        to: { type: 'string' },
        app: { type: 'string' },
        role: { type: 'string' },
        user: { type: 'string' },
        campaign: { type: 'string' },
        out: { type: 'string' },
        admin: { type: 'string' },
        'no-bom': { type: 'boolean' },
      },
      true,
    );
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    if (positionals.length > 1) throw new UsageError(`one export at a time; got ${positionals.join(' ')}`);
    let kind: ExportKind;
    let filters: ExportFilters;
    try {
      kind = parseExportKind(positionals[0]);
      filters = parseExportFilters(kind, values);
    } catch (error) {
      if (error instanceof ExportFilterError) throw new UsageError(error.message);
      throw error;
    }
    if (values.out === '') throw new UsageError('--out is empty');

    const options = { bom: !values['no-bom'] };
    const destination = values.out ? 'file' : 'stdout';

    if (values.admin) {
      // The admin check needs the directory and the admin group: the whole runtime, loaded only then.
      const { withRuntime } = await import('../runtime-context.js');
      const { identifyOnCommandLine } = await import('../../operations/identify-person.js');
      return withRuntime(io, async ({ deps }) => {
        let admin;
        try {
          admin = await identifyOnCommandLine(deps, values.admin!, commandLineUser());
        } catch (error) {
          if (isAccessError(error)) throw new CommandFailure(`export refused: ${error.message}`);
          throw error;
        }
        return runExport(
          io,
          deps,
          { kind, filters, requestedBy: { kind: 'admin', admin }, destination },
          values.out,
          options,
        );
      });
    }
    // Without --admin the database is all an export needs: not the policies, not the directory.
    const config = readConfig(io);
    const store = await openStore(config);
    try {
      const requestedBy: ExportRequester = {
        kind: 'system',
        component: 'cli',
        details: { osUser: commandLineUser().osUser },
      };
      return await runExport(
        io,
        { store, clock: systemClock },
        { kind, filters, requestedBy, destination },
        values.out,
        options,
      );
    } finally {
      await store.close();
    }
  },
};

async function runExport(
  io: CommandIo,
  deps: ExportDeps,
  input: ExportInput,
  out: string | undefined,
  options: { bom: boolean },
): Promise<number> {
  let summary: ExportSummary;
  try {
    summary = out
      ? await exportCsvToFile(deps, input, out, options)
      : await exportCsvToStream(deps, input, stdoutStream(io.stdout), {
          ...options,
          end: false,
          // The process's stdout is done with a chunk once its write's callback has run, so its
          // buffers can be reused; a stream handed in by a caller might keep the chunks (a PassThrough).
          reuseBuffers: io.stdout === process.stdout,
        });
  } catch (error) {
    if (isAccessError(error)) throw new CommandFailure(`export refused: ${error.message}`);
    const code = (error as { code?: string }).code;
    if (out && typeof code === 'string' && /^E[A-Z]+$/.test(code))
      throw new CommandFailure(`cannot write ${out}: ${(error as Error).message}`);
    throw error;
  }
  printSummary(io, summary, out);
  return EXIT.ok;
}

function printSummary(io: CommandIo, s: ExportSummary, out: string | undefined): void {
  const period =
    s.period.from || s.period.to
      ? `${s.period.from ?? 'the beginning'} (inclusive) to ${s.period.to ?? 'now'} (exclusive)`
      : 'everything';
  const filters = [
    s.filters.app && `app ${s.filters.app}`,
    s.filters.role && `role ${s.filters.role}`,
    s.filters.person && `user ${s.filters.person}`,
  ]
    .filter(Boolean)
    .join(', ');
  println(
    io.stderr,
    `export ${s.kind}: ${s.rows} row${s.rows === 1 ? '' : 's'}, ${s.bytes} bytes${out ? ` written to ${out}` : ''}`,
  );
  println(io.stderr, `period      ${period}${filters ? `; ${filters}` : ''}`);
  println(io.stderr, `sha256      ${s.sha256}`);
  println(
    io.stderr,
    `audit head  ${s.auditHead} (event ${s.auditHeadSeq}; this export is logged as event ${s.exportEventSeq})`,
  );
}

/** The process's stdout as it is; an `Output` that is not a stream (a test's) wrapped in one. */
function stdoutStream(out: Output): Writable {
  if (out instanceof Writable) return out;
  return new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.write(chunk.toString('utf8'));
      callback();
    },
  });
}
