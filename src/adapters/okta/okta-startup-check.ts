/**
 * Start-up check of the Okta groups the policies name. Only a definite answer from Okta is a
 * problem (the group does not exist; it is app-sourced yet the bot would have to change its
 * membership). When Okta is slow, down or answering 5xx, the check reports `unreachable` and the
 * bot starts anyway; the caller runs the check again later.
 */
import { TransientError } from '../../domain/errors.js';
import type { Directory } from '../../operations/ports.js';

export interface GroupToCheck {
  name: string;
  /** Whether the bot adds and removes members (a `provision: okta_group`), or only reads it. */
  provisioned: boolean;
  /** Where the group is named, for the message: "policies/github.yml:14 roles[0].provision.okta_group". */
  where: string;
}

export interface GroupProblem {
  group: string;
  where: string;
  code: 'missing' | 'not_manageable';
  message: string;
}

export type OktaGroupCheck = { ok: true; problems: [] } | { ok: false; problems: GroupProblem[] } | { unreachable: string };

export async function checkOktaGroups(directory: Directory, groups: GroupToCheck[]): Promise<OktaGroupCheck> {
  const problems: GroupProblem[] = [];
  // One lookup per distinct name; several policies often name the same group.
  const byName = new Map<string, GroupToCheck[]>();
  for (const g of groups) byName.set(g.name, [...(byName.get(g.name) ?? []), g]);

  for (const [name, uses] of byName) {
    let found;
    try {
      found = await directory.findGroup(name);
    } catch (error) {
      if (error instanceof TransientError) return { unreachable: error.message };
      throw error;
    }
    for (const use of uses) {
      if (!found) {
        problems.push({
          group: name,
          where: use.where,
          code: 'missing',
          message: `${use.where}: Okta has no group named "${name}"`,
        });
      } else if (use.provisioned && !found.manageable) {
        problems.push({
          group: name,
          where: use.where,
          code: 'not_manageable',
          message: `${use.where}: Okta group "${name}" is ${found.type}; the bot can only provision OKTA_GROUP groups (app-sourced and built-in groups are read-only through the API)`,
        });
      }
    }
  }
  return problems.length === 0 ? { ok: true, problems: [] } : { ok: false, problems };
}
