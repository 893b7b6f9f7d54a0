import type { CatalogEntry } from '../domain/catalog.js';
import { AccessError } from '../domain/errors.js';
import type { Deps } from './context.js';

export function findEntry(deps: Deps, app: string, role: string): CatalogEntry {
  const entry = deps.catalog.find(app, role);
  if (entry) return entry;
  const known = deps.catalog.app(app);
  if (!known) throw new AccessError('unknown_role', `There is no application "${app}". Known: ${deps.catalog.policies.map((p) => p.app).join(', ')}.`);
  throw new AccessError('unknown_role', `${known.name} has no role "${role}". Roles: ${known.roles.map((r) => r.id).join(', ')}.`);
}
