/**
 * A SIEM's webhook for the audit stream benchmark, in a process of its own (a SIEM is another
 * machine: its work must not share the streamer's event loop). It does what a careful receiver
 * does: verifies `X-Access-Signature` over the raw body (401 otherwise), parses the JSON array, and
 * keeps each `seq` once. It keeps counters only, not the records, so a million events cost it little.
 *
 * IPC: `{type: 'ready', url}` once listening; on `{type: 'report'}` it answers `{type: 'report', ...}`
 * with what it received: accepted seqs, repeats, the highest seq, and the first gap or reordering.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySignature } from '../src/adapters/http/signed-post.js';

const secret = process.argv[2] ?? '';
const report = {
  batches: 0,
  accepted: 0,
  repeats: 0,
  lastSeq: 0,
  badSignatures: 0,
  firstGap: null as string | null,
  bytes: 0,
};

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    report.bytes += body.length;
    const header = req.headers['x-access-signature'];
    if (typeof header !== 'string' || !verifySignature(secret, header, body, new Date())) {
      report.badSignatures++;
      res.writeHead(401).end();
      return;
    }
    const records = JSON.parse(body) as { seq: number }[];
    report.batches++;
    for (const { seq } of records) {
      if (seq <= report.lastSeq) {
        report.repeats++;
        continue;
      }
      if (seq !== report.lastSeq + 1 && report.firstGap === null) report.firstGap = `${report.lastSeq} -> ${seq}`;
      report.lastSeq = seq;
      report.accepted++;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
});
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.send?.({ type: 'ready', url: `http://127.0.0.1:${port}/audit` });
});
process.on('message', (message: { type: string }) => {
  if (message.type === 'report') process.send?.({ type: 'report', ...report });
  if (message.type === 'stop') server.close(() => process.exit(0));
});
