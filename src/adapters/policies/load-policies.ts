/**
 * Reads the policy folder at start-up: every `*.yml`/`*.yaml` except `settings.yml` is one
 * application's policy, `settings.yml` holds the global settings. Every problem of every file is
 * collected and reported at once, each naming the file, line, column and key, so a policy author
 * fixes them in one pass rather than one restart per typo.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { validateDetailed } from 'node-cron';
import { sinkSecrets } from '../../domain/audit-sinks.js';
import { Catalog } from '../../domain/catalog.js';
import { ReviewCatalog } from '../../domain/reviews/review-definition.js';
import type { LoadedPolicy, Settings } from '../../domain/policy.js';
import { PolicyFileSchema, SCHEDULE_KEYS, SettingsFileSchema } from '../../domain/policy-schema.js';
import { PROVISION_METHODS } from '../../domain/provisioning/methods.js';
import { ENV_NAME_PATTERN } from '../../domain/schema-primitives.js';
import { describeFsError, issuesToProblems, problemAt, readSource } from './policy-files.js';
import { loadReviews } from './load-reviews.js';
import type { KeyPath, YamlSource } from './yaml-source.js';

import type { LoadedPolicies } from './loaded-policies.js';
import { fileProblem, PolicyLoadError, type PolicyProblem } from './policy-problem.js';

const SETTINGS_FILE = 'settings.yml';

export interface LoadOptions {
  env?: Record<string, string | undefined>;
  /**
   * A webhook secret (`secret_env`) that is not set is reported here, as a warning, instead of
   * being a problem: `policies check` and `explain` in a policy repository's CI (which has no
   * production secrets), and the sandbox. A production start and `policies check --strict` never
   * pass this, so there it stays an error naming the variable.
   */
  onMissingSecret?: (warning: PolicyProblem & { variable: string }) => void;
}

export async function loadPolicies(dir: string, options: LoadOptions = {}): Promise<LoadedPolicies> {
  const env = options.env ?? process.env;
  const problems: PolicyProblem[] = [];
  const sources = new Map<string, YamlSource>();
  const settingsFile = join(dir, SETTINGS_FILE);

  let names: string[];
  try {
    names = (await readdir(dir, { withFileTypes: true }))
      .filter((entry) => entry.isFile() && /\.ya?ml$/.test(entry.name))
      .map((entry) => entry.name)
      .sort();
  } catch (error) {
    throw new PolicyLoadError([fileProblem(dir, `cannot read the policy folder: ${describeFsError(error)}`)]);
  }

  // Settings.
  let settings: Settings | null = null;
  if (!names.includes(SETTINGS_FILE)) {
    const hint = names.includes('settings.yaml') ? ' (found settings.yaml: rename it to settings.yml)' : '';
    problems.push(
      fileProblem(
        settingsFile,
        `the settings file ${settingsFile} is missing${hint}; it needs at least admin_group and security_channel`,
      ),
    );
  } else {
    const source = await readSource(settingsFile, problems);
    if (source) {
      sources.set(settingsFile, source);
      settings = validateSettings(source, problems);
      if (settings) problems.push(...auditSecretProblems(source, settings, env, options.onMissingSecret));
    }
  }

  // Policies.
  const policyNames = names.filter((name) => name !== SETTINGS_FILE && name !== 'settings.yaml');
  if (policyNames.length === 0) {
    problems.push(fileProblem(dir, 'no policy files (*.yml) in the policy folder'));
  }
  const policies: LoadedPolicy[] = [];
  const raw: { source: YamlSource; value: unknown }[] = [];
  for (const name of policyNames) {
    const file = join(dir, name);
    const source = await readSource(file, problems);
    if (!source) continue;
    sources.set(file, source);
    if (source.syntaxErrors.length > 0) continue;
    raw.push({ source, value: source.value });
    if (source.value === null || source.value === undefined) {
      problems.push(fileProblem(file, 'the file is empty; a policy needs app, name and roles'));
      continue;
    }
    const parsed = PolicyFileSchema.safeParse(source.value);
    if (parsed.success) policies.push({ ...parsed.data, source: { file } });
    else problems.push(...issuesToProblems(source, parsed.error.issues));
  }

  problems.push(...crossFileProblems(raw, env, options.onMissingSecret));
  const reviews = await loadReviews(dir, policies, settings?.adminGroup ?? null, problems, sources);

  if (problems.length > 0 || !settings) throw new PolicyLoadError(problems);

  return {
    dir,
    settings,
    settingsFile,
    policies,
    catalog: new Catalog(policies),
    reviews: new ReviewCatalog(reviews),
    locate(file, path, target = 'value') {
      const source =
        sources.get(file) ??
        [...sources.values()].find((s) => s.file === join(dir, file) || s.file.endsWith(`/${file}`));
      return source ? source.locate(path, target) : { line: 1, column: 1 };
    },
  };
}

function validateSettings(source: YamlSource, problems: PolicyProblem[]): Settings | null {
  if (source.syntaxErrors.length > 0) return null;
  const { file, value } = source;
  if (value === null || value === undefined) {
    problems.push(fileProblem(file, 'the settings file is empty; it needs at least admin_group and security_channel'));
    return null;
  }
  const before = problems.length;
  const parsed = SettingsFileSchema.safeParse(value);
  if (!parsed.success) problems.push(...issuesToProblems(source, parsed.error.issues));
  // Cron expressions are checked here rather than in the schema: the domain does not import node-cron.
  if (typeof value === 'object' && !Array.isArray(value)) {
    for (const key of SCHEDULE_KEYS) {
      const expression = (value as Record<string, unknown>)[key];
      if (typeof expression !== 'string' || expression.trim() === '') continue;
      const check = validateDetailed(expression.trim());
      if (!check.valid) {
        const why = check.errors.map((e) => e.message).join('; ');
        problems.push(
          problemAt(
            source,
            [key],
            `must be a cron expression (minute hour day-of-month month day-of-week, optionally a leading seconds field), got '${expression}': ${why}`,
          ),
        );
      }
    }
  }
  return parsed.success && problems.length === before ? parsed.data : null;
}

function asRecord(value: unknown): Record<string, unknown> | null {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

/**
 * Checks that span roles and files: duplicate apps, role ids and policy names, and webhook secrets
 * missing from the environment. They read the raw values, so a file with schema errors still gets
 * its duplicates reported in the same run.
 */
function crossFileProblems(
  files: { source: YamlSource; value: unknown }[],
  env: Record<string, string | undefined>,
  onMissingSecret?: LoadOptions['onMissingSecret'],
): PolicyProblem[] {
  const problems: PolicyProblem[] = [];
  const apps = new Map<string, { source: YamlSource }>();
  const policyNames = new Map<string, { source: YamlSource; path: KeyPath; label: string }>();
  const where = (source: YamlSource, path: KeyPath) => {
    const at = source.locate(path);
    return `${source.file}:${at.line}:${at.column}`;
  };

  for (const { source, value } of files) {
    const policy = asRecord(value);
    if (!policy) continue;
    const app = typeof policy.app === 'string' ? policy.app : null;
    if (app !== null) {
      const first = apps.get(app);
      if (first)
        problems.push(
          problemAt(
            source,
            ['app'],
            `app '${app}' is already defined in ${where(first.source, ['app'])}; each app has one policy file`,
          ),
        );
      else apps.set(app, { source });
    }
    const roles = Array.isArray(policy.roles) ? policy.roles : [];
    const roleIds = new Map<string, number>();
    roles.forEach((item, index) => {
      const role = asRecord(item);
      if (!role) return;
      if (typeof role.id === 'string') {
        const firstIndex = roleIds.get(role.id);
        if (firstIndex !== undefined) {
          problems.push(
            problemAt(
              source,
              ['roles', index, 'id'],
              `role id '${role.id}' is already used by roles[${firstIndex}] (line ${source.locate(['roles', firstIndex, 'id']).line})`,
            ),
          );
        } else roleIds.set(role.id, index);
      }
      if (typeof role.policy === 'string') {
        const label = `${app ?? '?'}/${typeof role.id === 'string' ? role.id : index}`;
        const first = policyNames.get(role.policy);
        if (first) {
          problems.push(
            problemAt(
              source,
              ['roles', index, 'policy'],
              `policy name '${role.policy}' is already used by ${first.label} at ${where(first.source, first.path)}; policy names are unique`,
            ),
          );
        } else policyNames.set(role.policy, { source, path: ['roles', index, 'policy'], label });
      }
      // Secrets a provisioning method names (a webhook's HMAC key) must be in the environment.
      const provision = asRecord(role.provision);
      for (const method of PROVISION_METHODS) {
        const settings = asRecord(provision?.[method.method]);
        for (const { key, holds } of method.secrets) {
          const variable = settings?.[key];
          if (typeof variable !== 'string' || !ENV_NAME_PATTERN.test(variable) || env[variable]) continue;
          const path = ['roles', index, 'provision', method.method, key];
          const problem = problemAt(
            source,
            path,
            `the environment variable ${variable} is not set (it must hold ${holds})`,
          );
          if (onMissingSecret) onMissingSecret({ ...problem, variable });
          else problems.push(problem);
        }
      }
    });
  }
  return problems;
}

/**
 * The secrets the audit stream needs from the environment: each network sink's key or token, and
 * the signing key when settings.yml asks for checkpoints. Missing ones are reported like a
 * webhook's `secret_env`: a warning where `onMissingSecret` is given, else a problem.
 */
function auditSecretProblems(
  source: YamlSource,
  settings: Settings,
  env: Record<string, string | undefined>,
  onMissingSecret?: LoadOptions['onMissingSecret'],
): PolicyProblem[] {
  const missing: { path: KeyPath; variable: string; holds: string }[] = [];
  settings.auditSinks.forEach((sink, index) => {
    const secret = sinkSecrets(sink);
    if (secret && !env[secret.variable])
      missing.push({ path: ['audit_sinks', index, secret.key], variable: secret.variable, holds: secret.holds });
  });
  if (settings.auditCheckpoints && !env.AUDIT_SIGNING_KEY?.trim()) {
    missing.push({
      path: ['audit_checkpoints'],
      variable: 'AUDIT_SIGNING_KEY',
      holds:
        'the Ed25519 private key (PEM) that signs audit checkpoints; make one with openssl genpkey -algorithm ed25519',
    });
  }
  const problems: PolicyProblem[] = [];
  for (const { path, variable, holds } of missing) {
    const problem = problemAt(source, path, `the environment variable ${variable} is not set (it must hold ${holds})`);
    if (onMissingSecret) onMissingSecret({ ...problem, variable });
    else problems.push(problem);
  }
  return problems;
}
