/**
 * Every CLI command. To add one, write `commands/<words>.ts` exporting a `Command` and list it here;
 * `--help` and dispatch pick it up.
 */
import type { Command } from './command.js';
import { policiesCheck } from './commands/policies-check.js';
import { policiesExplain } from './commands/policies-explain.js';
import { auditVerify } from './commands/audit-verify.js';
import { grantsList } from './commands/grants-list.js';
import { identityUnbind } from './commands/identity-unbind.js';
import { requestsList } from './commands/requests-list.js';
import { sweepCommand } from './commands/sweep.js';
import { digestCommand } from './commands/digest.js';
import { exportCommand } from './commands/export.js';

export const commands: readonly Command[] = [policiesCheck, policiesExplain, auditVerify, sweepCommand, requestsList, grantsList, identityUnbind, exportCommand, digestCommand];
