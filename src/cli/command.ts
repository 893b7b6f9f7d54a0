/**
 * The shape of a CLI command. Commands write through `io` and return an exit code instead of
 * touching `process`, so tests run them in-process and the entry point only wires them up.
 */
import { hostname, userInfo } from 'node:os';

export interface Output {
  write(text: string): unknown;
}

export interface CommandIo {
  stdout: Output;
  stderr: Output;
  /** The environment the command reads its configuration from (`process.env` in real runs). */
  env: Record<string, string | undefined>;
}

export interface Command {
  /** The words that select it, e.g. `policies check`. */
  name: string;
  /** One line for `access-bot --help`. */
  summary: string;
  /** The full `--help` text: synopsis, options, exit codes. */
  usage: string;
  run(args: string[], io: CommandIo): Promise<number>;
}

/**
 * A command as the registry lists it: what `--help` prints and dispatch matches on. The module
 * that implements it (and the libraries it needs) is imported only when it runs, so `--help`
 * starts in a fraction of the time.
 */
export interface CommandEntry {
  name: string;
  summary: string;
  load(): Promise<Command>;
}

/** Exit codes shared by every command. */
export const EXIT = {
  /** Done; for checks: nothing wrong. */
  ok: 0,
  /** The command ran and found a problem: invalid policies, an unknown user, app or role. */
  problem: 1,
  /** The command could not run as asked: bad arguments, bad configuration, unsupported setup. */
  usage: 2,
} as const;

/** Bad arguments: the runner prints the message and the command's usage, and exits 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function println(out: Output, text = ''): void {
  out.write(text + '\n');
}

/** The command cannot go on: the runner prints the message to stderr and exits with `exitCode`. */
export class CommandFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.problem,
  ) {
    super(message);
    this.name = 'CommandFailure';
  }
}

/** Who runs this command, for the audit log: the OS user and the host. */
export function commandLineUser(): { osUser: string; host: string } {
  let osUser: string;
  try {
    osUser = userInfo().username;
  } catch {
    osUser = `uid ${process.getuid?.() ?? 'unknown'}`;
  }
  return { osUser, host: hostname() };
}
