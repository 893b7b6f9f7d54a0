/**
 * What several commands need: the configuration, the policies and the directory, with failures turned into exit codes.
 */
import { loadPolicies } from '../adapters/policies/load-policies.js';
import type { LoadedPolicies } from '../adapters/policies/loaded-policies.js';
import { PolicyLoadError, type PolicyProblem } from '../adapters/policies/policy-problem.js';
import { DirectoryFileError, YamlDirectory } from '../adapters/directory/yaml-directory.js';
import type { Config } from '../config.js';
import type { Directory } from '../operations/ports.js';
import type { Settings } from '../domain/policy.js';
import { silentLogger } from '../adapters/log/json-logger.js';
import { openDirectoryFor } from '../runtime.js';
import { CommandFailure, EXIT, println, type CommandIo } from './command.js';

/**
 * Loads and validates the policy folder; every problem is printed as `file:line:col path: message`.
 * A webhook `secret_env` that is not set is only a warning here (a policy repository's CI has no
 * production secrets), unless `strict`, as at a production start.
 */
export async function readPolicies(
  dir: string,
  io: CommandIo,
  options: { strict?: boolean } = {},
): Promise<LoadedPolicies> {
  const onMissingSecret = options.strict
    ? undefined
    : (w: PolicyProblem) =>
        println(
          io.stderr,
          `warning: ${w.file}:${w.line}:${w.column} ${w.path}: ${w.message}; a production start refuses this (--strict makes it an error here)`,
        );
  try {
    return await loadPolicies(dir, { env: io.env, ...(onMissingSecret ? { onMissingSecret } : {}) });
  } catch (error) {
    if (error instanceof PolicyLoadError) {
      const n = error.problems.length;
      throw new CommandFailure(`${error.message}\n${n} problem${n === 1 ? '' : 's'} in ${dir}`, EXIT.problem);
    }
    throw error;
  }
}

/** The directory the bot would use: Okta when OKTA_ORG_URL is set, else the YAML file (or `--directory FILE`). */
export async function openDirectory(
  config: Config,
  settings: Settings,
  options: { file?: string } = {},
): Promise<Directory> {
  if (config.okta && !options.file) return openDirectoryFor(config, settings, silentLogger);
  const file = options.file ?? config.directoryFile;
  try {
    return await YamlDirectory.load(file);
  } catch (error) {
    if (error instanceof DirectoryFileError)
      throw new CommandFailure(`${error.message}\nthe directory file ${file} is invalid`, EXIT.problem);
    throw error;
  }
}
