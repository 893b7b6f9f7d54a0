/**
 * A process streaming one audit sink, to be killed in the middle of a batch:
 *   node --import tsx test/support/stream-child.ts DB_PATH RECEIVER_URL SECRET
 * It streams with a short lease (2 s), so another process takes the sink over soon after it died.
 */
import { AuditStreamer } from '../../src/adapters/audit-stream/audit-streamer.js';
import { WebhookSink } from '../../src/adapters/audit-stream/webhook-sink.js';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import { silentLogger } from '../../src/adapters/log/json-logger.js';
import { systemClock } from '../../src/operations/ports.js';
import { SETTINGS } from './lifecycle-harness.js';
import { webhookSink } from '../audit-stream/lifecycle-events.js';

const [dbPath, url, secret] = process.argv.slice(2) as [string, string, string];
const store = SqliteStore.open(dbPath);
const settings = webhookSink(url, { batchSize: 10 });
const sink = new WebhookSink(settings, { env: { SIEM_HOOK_SECRET: secret }, allowInsecureLoopback: true });
const streamer = new AuditStreamer(
  { store, clock: systemClock, settings: SETTINGS, logger: silentLogger },
  { sinks: [{ sink, settings }], holder: `child-${process.pid}`, leaseSeconds: 2, pollMs: 20 },
);
streamer.start();
