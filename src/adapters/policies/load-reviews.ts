/**
 * Reads the access review definitions in `<policy folder>/reviews/*.yml`, one review per file, at
 * start-up and in `policies check`, like the policies: every problem of every file is collected,
 * each with file, line, column and key. A review's roles must be roles of the policies; its
 * schedule must be a cron expression. Groups and people are checked against the directory later
 * (check-against-directory.ts), like the policies'.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { validateDetailed } from 'node-cron';
import type { LoadedPolicy } from '../../domain/policy.js';
import type { LoadedReview } from '../../domain/reviews/review-definition.js';
import { ReviewFileSchema } from '../../domain/reviews/review-schema.js';
import { describeFsError, issuesToProblems, problemAt, readSource } from './policy-files.js';
import { fileProblem, type PolicyProblem } from './policy-problem.js';
import type { YamlSource } from './yaml-source.js';

const REVIEWS_FOLDER = 'reviews';

/**
 * The reviews of `dir/reviews/`, or none when the folder does not exist. `adminGroup` is the
 * fallback reviewer of a review that names none (null when the settings did not load).
 */
export async function loadReviews(
  dir: string,
  policies: readonly LoadedPolicy[],
  adminGroup: string | null,
  problems: PolicyProblem[],
  sources: Map<string, YamlSource>,
): Promise<LoadedReview[]> {
  const folder = join(dir, REVIEWS_FOLDER);
  let names: string[];
  try {
    names = (await readdir(folder, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    // No reviews folder: no campaigns (it is optional).
    if ((error as { code?: unknown }).code === 'ENOENT') return [];
    problems.push(fileProblem(folder, `cannot read the reviews folder: ${describeFsError(error)}`));
    return [];
  }
  const roles = new Set(policies.flatMap((p) => p.roles.map((r) => `${p.app}/${r.id}`)));
  const apps = new Set(policies.map((p) => p.app));
  const reviews: LoadedReview[] = [];
  const ids = new Map<string, YamlSource>();
  for (const name of names) {
    const file = join(folder, name);
    const source = await readSource(file, problems);
    if (!source) continue;
    sources.set(file, source);
    if (source.syntaxErrors.length > 0) continue;
    if (source.value === null || source.value === undefined) {
      problems.push(fileProblem(file, 'the file is empty; a review needs review, name, scope, reviewer and due'));
      continue;
    }
    const before = problems.length;
    const raw = source.value as Record<string, unknown>;
    const parsed = ReviewFileSchema.safeParse(raw);
    if (!parsed.success) problems.push(...issuesToProblems(source, parsed.error.issues));
    if (typeof raw.schedule === 'string' && raw.schedule.trim() !== '') {
      const check = validateDetailed(raw.schedule.trim());
      if (!check.valid) {
        const why = check.errors.map((e) => e.message).join('; ');
        problems.push(
          problemAt(
            source,
            ['schedule'],
            `must be a cron expression (minute hour day-of-month month day-of-week), got '${raw.schedule}': ${why}`,
          ),
        );
      }
    }
    // Checked on the file as written, so an unknown role is reported beside a typo elsewhere.
    const scope = raw.scope as { roles?: unknown } | undefined;
    if (Array.isArray(scope?.roles)) {
      scope.roles.forEach((ref: unknown, i) => {
        if (typeof ref !== 'string' || !/^[^/]+\/[^/]+$/.test(ref) || roles.has(ref)) return;
        const [app, role] = ref.split('/') as [string, string];
        const why = apps.has(app) ? `app '${app}' has no role '${role}'` : `no policy defines app '${app}'`;
        problems.push(problemAt(source, ['scope', 'roles', i], `unknown role '${ref}': ${why}`));
      });
    }
    if (!parsed.success) continue;
    const review = parsed.data;
    const first = ids.get(review.id);
    if (first) {
      const at = first.locate(['review']);
      problems.push(
        problemAt(
          source,
          ['review'],
          `review '${review.id}' is already defined in ${first.file}:${at.line}:${at.column}; review ids are unique`,
        ),
      );
    } else ids.set(review.id, source);
    if (problems.length !== before || adminGroup === null) continue;
    reviews.push({
      ...review,
      fallbackReviewer: review.fallbackReviewer ?? { kind: 'group', group: adminGroup },
      source: { file },
    });
  }
  return reviews;
}
