import { checkpointSigner } from '../../runtime.js';
import { CommandFailure, EXIT, println, type Command } from '../command.js';
import { readConfig } from '../read-config.js';
import { parseCommandArgs } from '../parse-args.js';

export const auditPublicKey: Command = {
  name: 'audit public-key',
  summary: 'Print the public key that verifies the signed audit checkpoints (PEM)',
  usage: `Usage: access-bot audit public-key

Prints the Ed25519 public key of AUDIT_SIGNING_KEY as PEM on standard output (its key id, which
every checkpoint names, on standard error). Give it to whoever checks the log:
"access-bot audit verify --checkpoints FILE --public-key KEY.pem". In the sandbox, without
AUDIT_SIGNING_KEY, it is the public half of the throwaway key the sandbox made.

Options:
  -h, --help  show this help

Exit codes: 0 printed; 1 there is no signing key (AUDIT_SIGNING_KEY is not set); 2 usage or
            configuration error.`,

  async run(args, io) {
    const { values } = parseCommandArgs(args, {});
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    const config = readConfig(io);
    const source = checkpointSigner(config, { createSandboxKey: false });
    if (!source) {
      throw new CommandFailure(
        config.mode === 'sandbox'
          ? 'no signing key: AUDIT_SIGNING_KEY is not set and the sandbox has not made its throwaway key yet (it does at its first "npm start")'
          : 'no signing key: AUDIT_SIGNING_KEY is not set, so no checkpoints are signed',
      );
    }
    io.stdout.write(source.signer.publicKeyPem);
    const where = source.origin === 'env' ? 'AUDIT_SIGNING_KEY' : `the sandbox's throwaway key ${source.path}`;
    println(io.stderr, `key id ${source.signer.keyId} (from ${where})`);
    return EXIT.ok;
  },
};
