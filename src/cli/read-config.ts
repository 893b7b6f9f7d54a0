/**
 * The configuration from the environment, a bad value as a usage error. A module of its own: the
 * commands that need only the configuration and the database load this, not context.ts (the
 * policies, the directory and the runtime).
 */
import { ConfigError, loadConfig, type Config } from '../config.js';
import { CommandFailure, EXIT, type CommandIo } from './command.js';

export function readConfig(io: CommandIo): Config {
  try {
    return loadConfig(io.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new CommandFailure(`configuration error: ${error.message}`, EXIT.usage);
    throw error;
  }
}
