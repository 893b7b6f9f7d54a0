import { randomFillSync } from 'node:crypto';
import type { Catalog } from '../domain/catalog.js';
import type { ReviewCatalog } from '../domain/reviews/review-definition.js';
import type { Settings } from '../domain/policy.js';
import type { ExportFiles } from './exports/export-ports.js';
import type { Clock, Directory, Logger, Notifier, Provisioners, Store } from './ports.js';

/** Everything an operation may use. Built once in the composition root (main.ts) or a test. */
export interface Deps {
  store: Store;
  directory: Directory;
  catalog: Catalog;
  /** The access review definitions (policies/reviews/). */
  reviews: ReviewCatalog;
  settings: Settings;
  clock: Clock;
  logger: Logger;
  /** The provisioner of each provisioning method, by name. */
  provisioners: Provisioners;
  notifier: Notifier;
  /** Export files in memory, for uploads (the CSV adapter). */
  exportFiles: ExportFiles;
  ids?: IdSource;
}

export interface IdSource {
  next(prefix: string): string;
}

/** Random bytes drawn from the operating system a pool at a time: one call per 512 ids, not one per id. */
const RANDOM_POOL = Buffer.alloc(6 * 512);
let randomAt = RANDOM_POOL.length;

/** Sortable, unguessable ids: `req_` + time + random. */
const randomIds: IdSource = {
  next(prefix: string): string {
    if (randomAt + 6 > RANDOM_POOL.length) {
      randomFillSync(RANDOM_POOL);
      randomAt = 0;
    }
    const random = RANDOM_POOL.toString('hex', randomAt, (randomAt += 6));
    return `${prefix}_${Date.now().toString(36).padStart(9, '0')}${random}`;
  },
};

export function newId(deps: Pick<Deps, 'ids'>, prefix: 'req' | 'grt' | 'ext' | 'tsk' | 'dlg' | 'rvc' | 'rvi'): string {
  return (deps.ids ?? randomIds).next(prefix);
}

export function nowIso(deps: Deps): string {
  return deps.clock.now().toISOString();
}

export function addSeconds(iso: string, seconds: number): string {
  return new Date(Date.parse(iso) + seconds * 1000).toISOString();
}
