/** An Ed25519 key for tests that start the bot as production would (AUDIT_SIGNING_KEY), made per run. */
import { generateKeyPairSync } from 'node:crypto';

const { privateKey } = generateKeyPairSync('ed25519');

export const TEST_SIGNING_KEY_PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
