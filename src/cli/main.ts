/** The CLI entry point: `npm run cli -- <command>`, or `access-bot <command>` through bin/access-bot.js. */
import { runCli } from './run.js';

try {
  process.exitCode = await runCli(process.argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
  });
} catch (error) {
  // Anything not turned into an exit code by a command is a bug or an outage: show it whole.
  process.stderr.write(`access-bot: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
}
