/** `provision: { manual: { assignee_group } }`: a person does it and marks the task Done in Slack. */
import * as z from 'zod';
import { GroupName } from '../schema-primitives.js';
import { defineProvisionMethod } from './method.js';

export type ManualProvision = { method: 'manual'; assigneeGroup: string };

export const manualMethod = defineProvisionMethod<ManualProvision>({
  method: 'manual',
  schema: z
    .strictObject({ assignee_group: GroupName })
    .transform((m): ManualProvision => ({ method: 'manual', assigneeGroup: m.assignee_group })),
  canonical: (p) => ({ manual: { assignee_group: p.assigneeGroup } }),
  describe: (p) => ({ method: p.method, target: p.assigneeGroup, automatic: false }),
  groups: (p) => [{ group: p.assigneeGroup, managed: false, key: ['assignee_group'] }],
  managedGroup: () => null,
  secrets: [],
});
