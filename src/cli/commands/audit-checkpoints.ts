import { checkpointLine } from '../../domain/checkpoint.js';
import { EXIT, UsageError, println, type Command } from '../command.js';
import { parseCommandArgs } from '../parse-args.js';
import { withRuntime } from '../runtime-context.js';

export const auditCheckpoints: Command = {
  name: 'audit checkpoints',
  summary: 'List the signed checkpoints of the audit log, one JSON line each',
  usage: `Usage: access-bot audit checkpoints [--after-seq N]

Prints the signed checkpoints the database recorded, oldest first, one JSON object per line:
{"at","hash","key_id","seq","signature"}, the same line the checkpoint channel shows and the
"audit.checkpointed" events carry to every sink. Keep a copy outside the database; later,
"access-bot audit verify --checkpoints FILE" checks a database against it. (A copy taken from
the database you want to check proves less than one a SIEM or the channel kept: a database
truncated after its last checkpoint still holds every checkpoint it lists.)

Options:
  --after-seq N  only checkpoints of a later head than seq N
  -h, --help     show this help

Exit codes: 0 printed (none is not an error); 2 usage or configuration error.`,

  async run(args, io) {
    const { values } = parseCommandArgs(args, { 'after-seq': { type: 'string' } });
    if (values.help) {
      println(io.stdout, this.usage);
      return EXIT.ok;
    }
    const after = values['after-seq'];
    if (after !== undefined && !/^\d{1,15}$/.test(after)) throw new UsageError('--after-seq must be a whole number');
    return withRuntime(io, async ({ store }) => {
      for (let afterSeq = after === undefined ? -1 : Number(after); ;) {
        const page = await store.auditCheckpoints({ afterSeq, limit: 1000 });
        for (const checkpoint of page) println(io.stdout, checkpointLine(checkpoint));
        if (page.length < 1000) break;
        afterSeq = page[page.length - 1]!.seq;
      }
      return EXIT.ok;
    });
  },
};
