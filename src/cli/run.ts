/** Dispatch: finds the command named by the leading words of argv and runs it. */
import {
  CommandFailure,
  EXIT,
  UsageError,
  println,
  type Command,
  type CommandEntry,
  type CommandIo,
} from './command.js';
import { commands as defaultCommands } from './registry.js';

/** A command, or a registry entry that imports it on first use. */
type Listed = Command | CommandEntry;

const loaded = (listed: Listed): Promise<Command> => ('load' in listed ? listed.load() : Promise.resolve(listed));

function helpText(commands: readonly Listed[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'Usage: access-bot <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    'Run "access-bot <command> --help" for a command\'s options.',
    'Configuration comes from the environment (POLICIES_DIR, DIRECTORY_FILE, OKTA_*, ...; see .env.example).',
    'Exit codes: 0 ok; 1 the command found a problem; 2 usage or configuration error.',
  ].join('\n');
}

/** The command whose name matches the most leading words of argv. */
export function findCommand<C extends Listed>(
  argv: string[],
  commands: readonly C[],
): { command: C; rest: string[] } | undefined {
  let best: { command: C; rest: string[] } | undefined;
  for (const command of commands) {
    const words = command.name.split(' ');
    if (words.every((w, i) => argv[i] === w) && (!best || words.length > best.command.name.split(' ').length)) {
      best = { command, rest: argv.slice(words.length) };
    }
  }
  return best;
}

export async function runCli(
  argv: string[],
  io: CommandIo,
  commands: readonly Listed[] = defaultCommands,
): Promise<number> {
  const [first] = argv;
  if (first === undefined) {
    println(io.stderr, helpText(commands));
    return EXIT.usage;
  }
  if (first === '--help' || first === '-h' || first === 'help') {
    const target = first === 'help' ? findCommand(argv.slice(1), commands) : undefined;
    println(io.stdout, target ? (await loaded(target.command)).usage : helpText(commands));
    return EXIT.ok;
  }
  const found = findCommand(argv, commands);
  if (!found) {
    // "policies" alone, or a typo: show the commands that start with what was typed, if any.
    const near = commands.filter((c) => c.name.startsWith(first));
    println(
      io.stderr,
      `unknown command: ${argv
        .filter((a) => !a.startsWith('-'))
        .slice(0, 2)
        .join(' ')}`,
    );
    println(
      io.stderr,
      near.length > 0
        ? `did you mean: ${near.map((c) => c.name).join(', ')}?`
        : 'run "access-bot --help" for the list of commands',
    );
    return EXIT.usage;
  }
  try {
    return await (await loaded(found.command)).run(found.rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      println(io.stderr, `${found.command.name}: ${error.message}`);
      println(io.stderr, `run "access-bot ${found.command.name} --help" for usage`);
      return EXIT.usage;
    }
    if (error instanceof CommandFailure) {
      println(io.stderr, error.message);
      return error.exitCode;
    }
    throw error;
  }
}
