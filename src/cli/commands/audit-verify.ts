import { readFile } from 'node:fs/promises';
import type { KeyObject } from 'node:crypto';
import {
  CheckpointVerifier,
  ed25519PublicKey,
  keyIdOf,
  parseCheckpoints,
  type CheckpointVerification,
} from '../../domain/checkpoint.js';
import { verifyStoredChain } from '../../operations/verify-audit-chain.js';
import { checkpointSigner } from '../../runtime.js';
import { CommandFailure, EXIT, UsageError, println, type Command, type CommandIo } from '../command.js';
import { readConfig } from '../read-config.js';
import { parseCommandArgs } from '../parse-args.js';
import { withRuntime } from '../runtime-context.js';

export const auditVerify: Command = {
  name: 'audit verify',
  summary: 'Prove the audit log is unbroken, or name the first event that was changed, removed or reordered',
  usage: `Usage: access-bot audit verify [--expect-head HASH] [--checkpoints FILE [--public-key PEM]...]

Recomputes the hash chain of the audit log (DATABASE_PATH) from the first event to the last, in
the order the events were written. Prints the number of events and the head hash, or the first
event that was changed, removed or reordered.

A chain that is intact proves nothing against someone who rewrote the whole log from its first
event: check it against signed checkpoints kept outside the database (a SIEM, the checkpoint
channel). With --checkpoints, every checkpoint in FILE must carry a valid signature and the log
must still hold its head (the hash at its seq); the first checkpoint that fails is named. A
truncated, edited or replaced database fails, however consistent its own hashes are.

Options:
  --expect-head HASH  a head hash printed earlier (in an export or a digest); it must still be in
                      the chain, which catches a log truncated after that point
  --checkpoints FILE  checkpoints, one per line, as kept: the lines "audit checkpoints" prints, the
                      checkpoint channel's messages copied into a file, or a sink's stream (JSON
                      lines or HEC events, json or ocsf format; other events in it are skipped)
  --public-key PEM    a file holding the Ed25519 public key the checkpoints were signed with
                      ("access-bot audit public-key"); repeat it for checkpoints from an earlier
                      key. Default: the key of AUDIT_SIGNING_KEY (or the sandbox's)
  -h, --help          show this help

Exit codes: 0 the chain is intact (and holds every checkpoint); 1 it is broken, or a checkpoint
            fails (named); 2 usage or configuration error, or FILE holds no checkpoint.`,

  async run(args, io) {
    const { values } = parseCommandArgs(args, {
      'expect-head': { type: 'string' },
      checkpoints: { type: 'string' },
      'public-key': { type: 'string', multiple: true },
    });
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    const expect = values['expect-head'];
    if (expect !== undefined && !/^[0-9a-f]{64}$/.test(expect))
      throw new UsageError('--expect-head must be a 64-character hex SHA-256');
    if (values['public-key'] && values.checkpoints === undefined)
      throw new UsageError('--public-key goes with --checkpoints FILE');
    const checks =
      values.checkpoints === undefined
        ? undefined
        : await readCheckpointCheck(values.checkpoints, values['public-key'] ?? [], io);

    return withRuntime(io, async ({ store }) => {
      const checkpoints = checks && new CheckpointVerifier(checks.parsed.checkpoints, checks.keys);
      const result = await verifyStoredChain(store, expect, 5000, checkpoints && ((event) => checkpoints.push(event)));
      let code: number = EXIT.ok;
      if (result.ok) {
        println(io.stdout, `audit chain intact: ${result.count} event${result.count === 1 ? '' : 's'}`);
        println(io.stdout, `head ${result.head}`);
      } else {
        println(io.stdout, `audit chain BROKEN: ${result.problem!.message}`);
        println(
          io.stdout,
          `first bad event: ${result.problem!.seq} (${result.problem!.kind}); ${result.count} event(s) read`,
        );
        code = EXIT.problem;
      }
      if (checkpoints && checks) {
        const outcome = checkpoints.finish(result.ok ? undefined : result.problem!.seq);
        printCheckpoints(io, outcome, checks);
        if (!outcome.ok) code = EXIT.problem;
      }
      return code;
    });
  },
};

interface CheckpointCheck {
  file: string;
  parsed: ReturnType<typeof parseCheckpoints>;
  keys: KeyObject[];
  keyIds: string[];
}

/** The checkpoints of FILE and the keys to check them with; usage errors for what cannot be used. */
async function readCheckpointCheck(file: string, keyFiles: string[], io: CommandIo): Promise<CheckpointCheck> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new CommandFailure(
      `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      EXIT.usage,
    );
  }
  const parsed = parseCheckpoints(text);
  if (parsed.invalid.length) {
    const lines = parsed.invalid.slice(0, 10).map((p) => `${file}:${p.line}: not a valid checkpoint: ${p.message}`);
    throw new CommandFailure(
      `${lines.join('\n')}\n${parsed.invalid.length} line(s) of ${file} look like checkpoints but are not valid ones`,
      EXIT.usage,
    );
  }
  if (parsed.checkpoints.length === 0) {
    throw new CommandFailure(
      `${file} holds no checkpoint (${parsed.skipped} line(s) read); see "access-bot audit verify --help" for what it may hold`,
      EXIT.usage,
    );
  }
  const pems: { from: string; pem: string }[] = [];
  for (const keyFile of keyFiles) {
    try {
      pems.push({ from: keyFile, pem: await readFile(keyFile, 'utf8') });
    } catch (error) {
      throw new CommandFailure(
        `cannot read the public key ${keyFile}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
        EXIT.usage,
      );
    }
  }
  if (pems.length === 0) {
    const source = checkpointSigner(readConfig(io), { createSandboxKey: false });
    if (!source)
      throw new UsageError(
        'give the public key the checkpoints were signed with: --public-key FILE ("access-bot audit public-key" prints it where AUDIT_SIGNING_KEY is set)',
      );
    pems.push({ from: source.origin === 'env' ? 'AUDIT_SIGNING_KEY' : source.path, pem: source.signer.publicKeyPem });
  }
  const keys = pems.map(({ from, pem }) => {
    try {
      return ed25519PublicKey(pem);
    } catch (error) {
      throw new CommandFailure(`${from}: ${(error as Error).message}`, EXIT.usage);
    }
  });
  return { file, parsed, keys, keyIds: keys.map(keyIdOf) };
}

function printCheckpoints(io: CommandIo, outcome: CheckpointVerification, checks: CheckpointCheck): void {
  const { checkpoints, skipped } = checks.parsed;
  const range = `seq ${checkpoints[0]!.seq} to ${checkpoints[checkpoints.length - 1]!.seq}`;
  const read = `${checkpoints.length} checkpoint${checkpoints.length === 1 ? '' : 's'} from ${checks.file}${skipped ? ` (${skipped} other line${skipped === 1 ? '' : 's'} skipped)` : ''}`;
  if (outcome.ok) {
    println(io.stdout, `checkpoints hold: ${read}, ${range}, signed by key ${checks.keyIds.join(' or ')}`);
    return;
  }
  println(io.stdout, `checkpoint FAILED: ${outcome.problem!.message}`);
  println(io.stdout, `${outcome.failed} of ${checkpoints.length} checkpoints fail (${read}); the first is named above`);
}
