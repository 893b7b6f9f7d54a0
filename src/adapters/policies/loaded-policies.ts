/** The policy folder as loaded and validated: what the checks and the runtime read. */
import type { Catalog } from '../../domain/catalog.js';
import type { LoadedPolicy, Settings } from '../../domain/policy.js';
import type { ReviewCatalog } from '../../domain/reviews/review-definition.js';

export interface LoadedPolicies {
  dir: string;
  settings: Settings;
  settingsFile: string;
  policies: LoadedPolicy[];
  catalog: Catalog;
  /** The access reviews of `reviews/` in the folder (none when it has no such folder). */
  reviews: ReviewCatalog;
  /**
   * Where a key of a loaded file is written (`file` as in `policy.source.file` or `settingsFile`).
   * Points at the value, or with `target: 'key'` at the key holding it. For a path that does not
   * exist, the nearest enclosing mapping or list; line 1 column 1 for an unknown file.
   */
  locate(file: string, path: (string | number)[], target?: 'key' | 'value'): { line: number; column: number };
}
