/**
 * Every CLI command. To add one, write `commands/<words>.ts` exporting a `Command` and list it here
 * with the same name and summary (a test holds them equal); `--help` and dispatch pick it up.
 */
import type { CommandEntry } from './command.js';

export const commands: readonly CommandEntry[] = [
  {
    name: 'policies check',
    summary: 'Validate the policy folder and check every group and person it names against the directory',
    load: async () => (await import('./commands/policies-check.js')).policiesCheck,
  },
  {
    name: 'policies explain',
    summary: 'Show how a request would be decided: eligibility, duration, auto-approval and the approval chain',
    load: async () => (await import('./commands/policies-explain.js')).policiesExplain,
  },
  {
    name: 'audit verify',
    summary: 'Prove the audit log is unbroken, or name the first event that was changed, removed or reordered',
    load: async () => (await import('./commands/audit-verify.js')).auditVerify,
  },
  {
    name: 'audit public-key',
    summary: 'Print the public key that verifies the signed audit checkpoints (PEM)',
    load: async () => (await import('./commands/audit-public-key.js')).auditPublicKey,
  },
  {
    name: 'audit checkpoints',
    summary: 'List the signed checkpoints of the audit log, one JSON line each',
    load: async () => (await import('./commands/audit-checkpoints.js')).auditCheckpoints,
  },
  {
    name: 'sweep',
    summary: 'Run one pass of due expiries, approval timeouts, reminders and provisioning jobs',
    load: async () => (await import('./commands/sweep.js')).sweepCommand,
  },
  {
    name: 'requests list',
    summary: 'List access requests, newest first',
    load: async () => (await import('./commands/requests-list.js')).requestsList,
  },
  {
    name: 'grants list',
    summary: 'List grants (who holds or held which role), newest first',
    load: async () => (await import('./commands/grants-list.js')).grantsList,
  },
  {
    name: 'identity unbind',
    summary: "Remove a Slack user's match to a directory person (admins; audited)",
    load: async () => (await import('./commands/identity-unbind.js')).identityUnbind,
  },
  {
    name: 'reviews start',
    summary: 'Start an access review now: freeze who holds the access in scope and give each item to its reviewer',
    load: async () => (await import('./commands/reviews-start.js')).reviewsStart,
  },
  {
    name: 'reviews status',
    summary: 'Show access review campaigns, or one campaign with its progress per reviewer',
    load: async () => (await import('./commands/reviews-status.js')).reviewsStatus,
  },
  {
    name: 'reviews close',
    summary: 'Close an access review campaign now: undecided items are kept or revoked as the review says',
    load: async () => (await import('./commands/reviews-close.js')).reviewsClose,
  },
  {
    name: 'export',
    summary: 'Export the audit trail as CSV evidence: requests, access, events, policies or reviews (audited)',
    load: async () => (await import('./commands/export.js')).exportCommand,
  },
  {
    name: 'digest',
    summary: 'Print the weekly security digest (who holds sensitive access, the week in access, drift)',
    load: async () => (await import('./commands/digest.js')).digestCommand,
  },
  {
    name: 'db backup',
    summary: "Copy the database to a file while the bot runs, then verify the copy's audit chain and print its head",
    load: async () => (await import('./commands/db-backup.js')).dbBackup,
  },
  {
    name: 'db copy',
    summary: 'Copy the SQLite database into an empty PostgreSQL database (the move to several replicas)',
    load: async () => (await import('./commands/db-copy.js')).dbCopy,
  },
  {
    name: 'db restore',
    summary: 'Put a backup in place as the database (the bot stopped), after verifying its audit chain',
    load: async () => (await import('./commands/db-restore.js')).dbRestore,
  },
];
