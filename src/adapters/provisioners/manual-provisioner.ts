/**
 * `manual`: a person does it. Granting and revoking hand a task to the assignee group; the grant
 * moves on when a member (never the grantee) marks it Done in Slack (`completeTask`).
 */
import { manualMethod, type ManualProvision } from '../../domain/provisioning/manual.js';
import type { Provisioner } from '../../operations/ports.js';

export function manualProvisioner(): Provisioner<ManualProvision> {
  return {
    grant: async (_grant, provision) => ({ kind: 'task', assigneeGroup: provision.assigneeGroup }),
    revoke: async (_grant, provision) => ({ kind: 'task', assigneeGroup: provision.assigneeGroup }),
    // Only the person who did it knows; the task's state says what they reported.
    verify: async () => 'unknown',
    describe: (provision) => manualMethod.describe(provision),
  };
}
