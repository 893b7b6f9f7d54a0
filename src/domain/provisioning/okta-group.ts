/** `provision: { okta_group: <group> }`: membership of a directory group the bot adds and removes. */
import { GroupName } from '../schema-primitives.js';
import { defineProvisionMethod } from './method.js';

export type OktaGroupProvision = { method: 'okta_group'; group: string };

export const oktaGroupMethod = defineProvisionMethod<OktaGroupProvision>({
  method: 'okta_group',
  schema: GroupName.transform((group): OktaGroupProvision => ({ method: 'okta_group', group })),
  canonical: (p) => ({ okta_group: p.group }),
  describe: (p) => ({ method: p.method, target: p.group, automatic: true }),
  groups: (p) => [{ group: p.group, managed: true, key: [] }],
  managedGroup: (p) => p.group,
  secrets: [],
});
