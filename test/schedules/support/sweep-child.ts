/**
 * A child process for the multi-process tests: one sweep against a SQLite file at a given time,
 * logging each directory removal to a JSON-lines file.
 *
 *   node --import tsx test/schedules/support/sweep-child.ts <mode> <db> <log> <iso-time> <worker>
 *   sweep         sweep once and exit
 *   die-mid-sweep sweep, and SIGKILL itself right after its first directory removal succeeds
 */
import { appendFileSync } from 'node:fs';
import { sweep } from '../../../src/operations/sweep.js';
import { callbackNotifier } from '../../support/fakes.js';
import { createHarness } from '../../support/lifecycle-harness.js';

const [mode, dbPath, logPath, at, worker] = process.argv.slice(2);
if (!mode || !dbPath || !logPath || !at || !worker)
  throw new Error('usage: sweep-child <mode> <db> <log> <iso-time> <worker>');

const notify = (notification: { type: string }, key: string) =>
  appendFileSync(logPath, JSON.stringify({ worker, event: 'notify', type: notification.type, key }) + '\n');
const h = createHarness({ dbPath, notifier: () => callbackNotifier(notify) });
h.clock.set(at);
const realRemove = h.directory.removeFromGroup.bind(h.directory);
h.directory.removeFromGroup = async (personId, group) => {
  await realRemove(personId, group);
  appendFileSync(logPath, JSON.stringify({ worker, event: 'remove', personId, group }) + '\n');
  if (mode === 'die-mid-sweep') process.kill(process.pid, 'SIGKILL');
};
process.stdout.write('ready\n');
const summary = await sweep(h.deps, { worker, baseDelaySeconds: 1 });
appendFileSync(logPath, JSON.stringify({ worker, event: 'summary', ...summary }) + '\n');
await h.store.close();
