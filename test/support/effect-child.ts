/**
 * A second process for the effect-ordering tests: it runs the due jobs once against the shared
 * SQLite file, with its own Okta client (the stand-in's URL) and webhook provisioner, and prints
 * its summary as JSON.
 *
 *   node --import tsx test/support/effect-child.ts <db> <okta-url> <webhook-url> <iso-time> <worker>
 */
import { runDueJobs } from '../../src/operations/run-jobs.js';
import { effectHarness } from './effect-harness.js';

const [dbPath, oktaUrl, webhookUrl, at, worker] = process.argv.slice(2);
if (!dbPath || !oktaUrl || !webhookUrl || !at || !worker)
  throw new Error('usage: effect-child <db> <okta-url> <webhook-url> <iso-time> <worker>');

const h = effectHarness({ dbPath, oktaUrl, webhookUrl });
h.clock.set(at);
process.stdout.write('ready\n');
const summary = await runDueJobs(h.deps, { worker, baseDelaySeconds: 1 });
process.stdout.write(`${JSON.stringify(summary)}\n`);
await h.store.close();
