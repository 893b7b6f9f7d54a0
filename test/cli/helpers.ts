import { TEST_SIGNING_KEY_PEM } from '../support/signing-key.js';
import { runCli } from '../../src/cli/run.js';

/**
 * The environment the example policies need: their webhook secret, the key that signs the audit
 * checkpoints the example settings ask for, and the example directory.
 */
export const EXAMPLE_ENV = {
  BILLING_HOOK_SECRET: 'test-secret',
  AUDIT_SIGNING_KEY: TEST_SIGNING_KEY_PEM,
  DIRECTORY_FILE: 'directory.example.yml',
  POLICIES_DIR: 'policies',
};

/** Runs the CLI in-process and captures what it prints. */
export async function cli(
  argv: string[],
  env: Record<string, string | undefined> = EXAMPLE_ENV,
): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env,
  });
  return { code, stdout, stderr };
}
