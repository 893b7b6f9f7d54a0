/**
 * The checkpoint signer: an Ed25519 private key from AUDIT_SIGNING_KEY (PEM, PKCS#8), held in this
 * process only. The sandbox, when no key is set, makes a throwaway one in a file next to its
 * database, so `npm start` and the CLI on the same folder sign and verify with the same key.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { keyIdOf } from '../../domain/checkpoint.js';
import type { CheckpointSigner } from '../../operations/ports.js';

export function ed25519Signer(privateKeyPem: string): CheckpointSigner {
  const privateKey = createPrivateKey(privateKeyPem);
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new Error(`the signing key is ${privateKey.asymmetricKeyType ?? 'unknown'}, not Ed25519`);
  const publicKey: KeyObject = createPublicKey(privateKey);
  return {
    keyId: keyIdOf(publicKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (payload) => sign(null, payload, privateKey).toString('base64'),
  };
}

/** Where the sandbox keeps its throwaway key: beside its database. */
export function sandboxKeyPath(databasePath: string): string {
  return join(dirname(databasePath), 'sandbox-audit-signing-key.pem');
}

/**
 * The sandbox's throwaway key: read from `path`, or made there (0600) when `create` and it does not
 * exist yet. Undefined when there is none and it may not be made.
 */
export function sandboxSigningKey(
  path: string,
  options: { create: boolean },
): { pem: string; created: boolean } | undefined {
  if (existsSync(path)) return { pem: readFileSync(path, 'utf8'), created: false };
  if (!options.create) return undefined;
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { pem, created: true };
}
