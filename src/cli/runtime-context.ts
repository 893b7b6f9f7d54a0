/** Opening the bot's runtime (database, directory, policies) for a command, with failures as exit codes. */
import { jsonLogger } from '../adapters/log/json-logger.js';
import { PolicyLoadError } from '../adapters/policies/policy-problem.js';
import { DirectoryFileError } from '../adapters/directory/yaml-directory.js';
import { createRuntime, type Runtime } from '../runtime.js';
import type { WebhookTransport } from '../adapters/provisioners/webhook-provisioner.js';
import { withOwnStore } from '../operations/operation-scope.js';
import type { Directory } from '../operations/ports.js';
import { CommandFailure, EXIT, type CommandIo } from './command.js';
import { readConfig } from './read-config.js';

export async function openRuntime(
  io: CommandIo,
  options: { webhook?: WebhookTransport; sandbox?: boolean } = {},
): Promise<Runtime> {
  const config = readConfig(io);
  try {
    const level = config.logLevel === 'debug' ? 'debug' : 'warn';
    const logger = jsonLogger({ level, write: (line) => io.stderr.write(line + '\n') });
    return await createRuntime(config, { logger, ...options });
  } catch (error) {
    if (error instanceof PolicyLoadError)
      throw new CommandFailure(`${error.message}\nthe policies in ${config.policiesDir} are invalid`, EXIT.problem);
    if (error instanceof DirectoryFileError)
      throw new CommandFailure(`${error.message}\nthe directory file ${config.directoryFile} is invalid`, EXIT.problem);
    throw error;
  }
}

/**
 * Runs `fn` with an open runtime and always closes the database. The command has its own handle on
 * the store (operation-scope.ts): a second transaction, or a store read, inside one of its own
 * transactions fails at once with StoreMisuseError. Without any production variable
 * (the sandbox's configuration) webhook calls go to an embedded receiver, as they do from the
 * sandbox page: a command run on the sandbox's database sends nothing off the machine.
 */
export async function withRuntime<T>(io: CommandIo, fn: (runtime: Runtime) => Promise<T>): Promise<T> {
  const sandbox = readConfig(io).mode === 'sandbox';
  const webhooks = sandbox ? await (await import('../sandbox/sandbox-webhooks.js')).SandboxWebhooks.start() : undefined;
  try {
    const runtime = await openRuntime(io, webhooks ? { webhook: webhooks, sandbox: true } : {});
    try {
      const deps = withOwnStore(runtime.deps);
      return await fn({ ...runtime, deps, store: deps.store });
    } finally {
      await runtime.close();
    }
  } finally {
    await webhooks?.close();
  }
}

/** A fixed-width table for terminal output. */
export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** The directory id of the person named on the command line, or a clear failure. */
export async function personIdFor(directory: Directory, email: string | undefined): Promise<string | undefined> {
  if (email === undefined) return undefined;
  const person = await directory.findPerson(email);
  if (!person) throw new CommandFailure(`${email} is not in the directory`);
  return person.id;
}
