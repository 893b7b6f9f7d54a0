import { ChainVerifier, type ChainVerification } from '../../domain/audit.js';
import type { StoreReads } from '../../operations/ports.js';
import { EXIT, UsageError, println, type Command } from '../command.js';
import { parseCommandArgs } from '../parse-args.js';
import { withRuntime } from '../runtime-context.js';

export const auditVerify: Command = {
  name: 'audit verify',
  summary: 'Prove the audit log is unbroken, or name the first event that was changed, removed or reordered',
  usage: `Usage: access-bot audit verify [--expect-head HASH]

Recomputes the hash chain of the audit log (DATABASE_PATH) from the first event to the last, in
the order the events were written. Prints the number of events and the head hash, or the first
event that was changed, removed or reordered.

Options:
  --expect-head HASH  a head hash printed earlier (in an export or a digest); it must still be in
                      the chain, which catches a log truncated after that point
  -h, --help          show this help

Exit codes: 0 the chain is intact; 1 it is broken (the event is named); 2 usage or configuration error.`,

  async run(args, io) {
    const { values } = parseCommandArgs(args, { 'expect-head': { type: 'string' } });
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    const expect = values['expect-head'];
    if (expect !== undefined && !/^[0-9a-f]{64}$/.test(expect)) throw new UsageError('--expect-head must be a 64-character hex SHA-256');
    return withRuntime(io, async ({ store }) => {
      const result = await verifyStoredChain(store, expect);
      if (result.ok) {
        println(io.stdout, `audit chain intact: ${result.count} event${result.count === 1 ? '' : 's'}`);
        println(io.stdout, `head ${result.head}`);
        return EXIT.ok;
      }
      println(io.stdout, `audit chain BROKEN: ${result.problem!.message}`);
      println(io.stdout, `first bad event: ${result.problem!.seq} (${result.problem!.kind}); ${result.count} event(s) read`);
      return EXIT.problem;
    });
  },
};

/** The stored log's chain, read in written order in batches so memory stays flat on a long log. */
export async function verifyStoredChain(store: StoreReads, expectHead?: string, batch = 5000): Promise<ChainVerification> {
  const verifier = new ChainVerifier(expectHead);
  for (let afterId = 0; ; ) {
    const events = await store.auditEvents({ afterId, limit: batch });
    if (events.length === 0) break;
    for (const event of events) if (!verifier.push(event)) return verifier.finish();
    afterId = events[events.length - 1]!.id;
  }
  return verifier.finish();
}
