/**
 * An application or role named by a person (a command's words, a form, the command line): found in
 * the policies in force, or refused with the one answer every surface gives, naming what exists.
 */
import type { Catalog, CatalogEntry } from '../domain/catalog.js';
import { AccessError } from '../domain/errors.js';
import type { LoadedPolicy } from '../domain/policy.js';

type Policies = { catalog: Catalog };

/** The application's policy; throws `AccessError('unknown_role')` listing the applications there are. */
export function findApp(deps: Policies, app: string): LoadedPolicy {
  const policy = deps.catalog.app(app);
  if (policy) return policy;
  const known = [...deps.catalog.policies]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((p) => `\`${p.app}\` (${p.name})`);
  throw new AccessError('unknown_role', `There is no application \`${app}\`. Applications: ${known.join(', ')}.`);
}

/**
 * The role's policy entry; throws `AccessError('unknown_role')` for an unknown application or role
 * (or none named), listing what there is.
 */
export function findEntry(deps: Policies, app: string, role: string | undefined): CatalogEntry {
  const policy = findApp(deps, app);
  const entry = role === undefined ? undefined : deps.catalog.find(policy.app, role);
  if (entry) return entry;
  const roles = policy.roles.map((r) => `\`${r.id}\` (${r.name})`).join(', ');
  throw new AccessError(
    'unknown_role',
    role === undefined
      ? `Name a role of ${policy.name}: ${roles}.`
      : `${policy.name} has no role \`${role}\`. Its roles: ${roles}.`,
  );
}
