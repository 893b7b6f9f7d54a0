/**
 * A child process for the crash tests: it runs one phase of a request's life against a SQLite
 * file, appending what it does to a JSON-lines log, and can be killed at chosen points.
 *
 *   node --import tsx test/support/crash-child.ts <phase> <db> <log> <iso-time>
 *   intent        submit an auto-approved request (grant + jobs committed), print "committed", hang
 *   effect-crash  run the jobs, SIGKILL itself right after the directory add succeeds
 *   batch-crash   run the jobs, SIGKILL itself right after delivering "request.approved", the
 *                 job after the add in the same batch (nothing of the batch recorded yet)
 *   resume        run the jobs to completion and exit
 */
import { appendFileSync } from 'node:fs';
import { submitRequest } from '../../src/operations/submit-request.js';
import { callbackNotifier } from './fakes.js';
import { createHarness } from './lifecycle-harness.js';

const [phase, dbPath, logPath, at] = process.argv.slice(2);
if (!phase || !dbPath || !logPath || !at) throw new Error('usage: crash-child <phase> <db> <log> <iso-time>');
const log = (entry: Record<string, unknown>) =>
  appendFileSync(logPath, JSON.stringify({ phase, pid: process.pid, ...entry }) + '\n');

const h = createHarness({
  dbPath,
  notifier: () =>
    callbackNotifier((notification, key) => {
      log({ event: 'notify', type: notification.type, key });
      if (phase === 'batch-crash' && notification.type === 'request.approved') process.kill(process.pid, 'SIGKILL');
    }),
});
h.clock.set(at);
const realAdd = h.directory.addToGroup.bind(h.directory);
h.directory.addToGroup = async (personId, group) => {
  await realAdd(personId, group);
  log({ event: 'add', personId, group });
  if (phase === 'effect-crash') process.kill(process.pid, 'SIGKILL');
};

if (phase === 'intent') {
  const result = await submitRequest(h.deps, {
    requester: await h.as('ada@example.com'),
    app: 'github',
    role: 'member',
  });
  log({ event: 'submitted', kind: result.kind });
  process.stdout.write('committed\n');
  setInterval(() => {}, 1000); // wait to be killed
} else {
  const summary = await h.runJobs();
  log({ event: 'jobs', ...summary });
  await h.store.close();
}
