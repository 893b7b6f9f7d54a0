/**
 * Builds what the bot runs on from the configuration: the database (migrated), the directory, the
 * validated policies and the operations' dependencies. Shared by `npm start` and the CLI so both
 * see the same world. Everything is built once, in order, and handed out finished: the notifier is
 * made from the parts before the dependencies exist (`RuntimeOptions.notifier`), so nothing is
 * replaced after the scheduler or a listener got it.
 */
import { AuditStreamer, type AuditStreamerOptions } from './adapters/audit-stream/audit-streamer.js';
import { createAuditSinks, type SinkRedirect } from './adapters/audit-stream/create-sinks.js';
import { ed25519Signer, sandboxKeyPath, sandboxSigningKey } from './adapters/audit-stream/ed25519-signer.js';
import { csvExportFiles } from './adapters/csv/export-csv.js';
import { openStore } from './adapters/db/open-store.js';
import { YamlDirectory } from './adapters/directory/yaml-directory.js';
import { LogNotifier } from './adapters/notify/log-notifier.js';
import { checkPoliciesAgainstDirectory } from './adapters/policies/check-against-directory.js';
import { loadPolicies } from './adapters/policies/load-policies.js';
import type { LoadedPolicies } from './adapters/policies/loaded-policies.js';
import { formatProblem, PolicyLoadError } from './adapters/policies/policy-problem.js';
import { createProvisioners } from './adapters/provisioners/provisioners.js';
import type { WebhookTransport } from './adapters/provisioners/webhook-provisioner.js';
import type { Config } from './config.js';
import { CHECKPOINT_DEFAULT_EVERY_SECONDS, type AuditCheckpointSettings } from './domain/audit-sinks.js';
import type { Settings } from './domain/policy.js';
import type { Deps } from './operations/context.js';
import { alert } from './operations/lifecycle.js';
import type { OffboardingSource } from './operations/reconcile.js';
import {
  systemClock,
  type CheckpointSigner,
  type Clock,
  type Directory,
  type Logger,
  type Notifier,
  type Store,
} from './operations/ports.js';

export interface Runtime {
  deps: Deps;
  /** Okta's cheaper offboarding checks for the reconcile schedule; empty with the YAML directory. */
  offboarding: { statusCheck?: OffboardingSource; sources: OffboardingSource[] };
  loaded: LoadedPolicies;
  /** The store the dependencies use (the port: any database). */
  store: Store;
  /** Set when the directory could not be reached at start; the check is repeated later. */
  directoryUnreachable?: string;
  close(): Promise<void>;
}

/** What the notifier is made from: every dependency but the notifier itself. */
export type NotifierParts = Omit<Deps, 'notifier'>;

export interface RuntimeOptions {
  logger: Logger;
  clock?: Clock;
  /**
   * Makes the notifier from the other parts (the Slack notifier needs the store and the directory).
   * Default: the log notifier.
   */
  notifier?: (parts: NotifierParts) => Notifier | Promise<Notifier>;
  /** Replaces the directory the configuration names (tests, the sandbox). */
  directory?: Directory;
  /** `npm start`'s sandbox: webhooks go to the embedded receiver (see sandbox/sandbox-webhooks.ts). */
  sandbox?: boolean;
  /** Replaces the webhook transport (the sandbox's embedded receiver): nothing leaves the machine. */
  webhook?: WebhookTransport;
}

/** Where the checkpoint signer's key came from, for the start-up summary and `audit public-key`. */
export type SignerSource =
  | { signer: CheckpointSigner; origin: 'env' }
  /** The sandbox's throwaway key, in `path` (`created`: made by this start). */
  | { signer: CheckpointSigner; origin: 'sandbox'; path: string; created: boolean };

/**
 * The key that signs audit checkpoints: AUDIT_SIGNING_KEY, or in the sandbox (nothing of production
 * set) a throwaway key kept beside the database, made when `createSandboxKey` and missing. None in
 * production without AUDIT_SIGNING_KEY: checkpoints are off.
 */
export function checkpointSigner(config: Config, options: { createSandboxKey: boolean }): SignerSource | undefined {
  if (config.auditSigningKey) return { signer: ed25519Signer(config.auditSigningKey), origin: 'env' };
  if (config.mode !== 'sandbox') return undefined;
  const path = sandboxKeyPath(config.databasePath);
  const key = sandboxSigningKey(path, { create: options.createSandboxKey });
  return key && { signer: ed25519Signer(key.pem), origin: 'sandbox', path, created: key.created };
}

/**
 * The audit stream of this process: the sinks settings.yml names (in the sandbox, network sinks
 * go to `redirect`, the embedded receiver) and the checkpoints, when there is a signing key.
 * Undefined when there is nothing to stream or sign.
 */
export function createAuditStream(
  runtime: Runtime,
  signer: SignerSource | undefined,
  options: {
    redirect?: SinkRedirect;
    env: Record<string, string | undefined>;
    /** The database's folder: relative file sink paths are taken from it. */
    baseDir: string;
    streamer?: Partial<AuditStreamerOptions>;
  },
): AuditStreamer | undefined {
  const { deps } = runtime;
  const sinks = createAuditSinks(deps.settings.auditSinks, {
    env: options.env,
    baseDir: options.baseDir,
    ...(options.redirect ? { redirect: options.redirect } : {}),
  });
  if (sinks.length === 0 && !signer) return undefined;
  return new AuditStreamer(deps, {
    sinks,
    ...(signer ? { checkpoints: { signer: signer.signer, settings: checkpointSettings(deps.settings) } } : {}),
    ...options.streamer,
  });
}

/** `audit_checkpoints` as written, or hourly to the security channel. */
export function checkpointSettings(settings: Settings): AuditCheckpointSettings {
  return (
    settings.auditCheckpoints ?? { everySeconds: CHECKPOINT_DEFAULT_EVERY_SECONDS, channel: settings.securityChannel }
  );
}

/**
 * Okta when OKTA_ORG_URL is set, else the YAML directory file. With several replicas (a PostgreSQL
 * `store`), Okta's rate-limit windows are kept in the database, so all replicas pace against one
 * budget per endpoint bucket (adapters/okta/shared-rate-windows.ts).
 */
export async function openDirectoryFor(
  config: Config,
  settings: Settings,
  logger: Logger,
  store?: Store,
): Promise<Directory> {
  if (config.okta) {
    // Loaded only when used: even the parts of the Okta SDK the bot loads (adapters/okta/okta-client.ts)
    // take a few megabytes and a few hundred milliseconds, which every CLI command would otherwise pay.
    const { OktaDirectory } = await import('./adapters/okta/okta-directory.js');
    const { SharedRateWindows } = await import('./adapters/okta/shared-rate-windows.js');
    const sharedRateLimits = store && config.postgres ? new SharedRateWindows(store) : undefined;
    return new OktaDirectory({
      orgUrl: config.okta.orgUrl,
      auth: config.okta.auth,
      managerAttribute: settings.managerAttribute,
      logger,
      sharedRateLimits,
    });
  }
  return YamlDirectory.load(config.directoryFile);
}

export async function createRuntime(config: Config, options: RuntimeOptions): Promise<Runtime> {
  const missingSecrets: string[] = [];
  const loaded = await loadPolicies(config.policiesDir, {
    env: config.env,
    // Without Slack and Okta the bot runs locally; a webhook secret nobody set must not stop a first try.
    // The sandbox signs checkpoints with a throwaway key of its own when AUDIT_SIGNING_KEY is not set.
    onMissingSecret:
      config.mode === 'sandbox'
        ? (w) => void (w.variable !== 'AUDIT_SIGNING_KEY' && missingSecrets.push(`${w.variable} (${w.file}:${w.line})`))
        : undefined,
  });
  // In the sandbox webhook roles call an embedded receiver and never read their secret_env; a
  // command line run without production variables would still call the policy URL, and cannot sign.
  if (missingSecrets.length && !options.sandbox)
    options.logger.warn('local run: secrets named in the policies are not set; what needs them fails until they are', {
      missing: missingSecrets,
    });
  // The store before the directory: with several replicas the directory shares Okta's budget
  // through it.
  const store = await openStore(config, options.logger);
  try {
    const directory = options.directory ?? (await openDirectoryFor(config, loaded.settings, options.logger, store));
    const check = await checkPoliciesAgainstDirectory(loaded, directory);
    if (check.problems.length > 0) throw new PolicyLoadError(check.problems);
    if (check.unreachable)
      options.logger.warn('directory unreachable at start; starting anyway and checking again later', {
        reason: check.unreachable,
      });

    const parts: NotifierParts = {
      store,
      directory,
      catalog: loaded.catalog,
      reviews: loaded.reviews,
      settings: loaded.settings,
      clock: options.clock ?? systemClock,
      logger: options.logger,
      provisioners: createProvisioners({
        directory,
        env: config.env,
        ...(options.webhook ? { webhook: options.webhook } : {}),
      }),
      exportFiles: csvExportFiles(),
    };
    const notifier = options.notifier ? await options.notifier(parts) : new LogNotifier(options.logger);
    const deps: Deps = { ...parts, notifier };
    return {
      deps,
      loaded,
      store,
      offboarding: await offboardingFor(directory),
      directoryUnreachable: check.unreachable,
      close: () => store.close(),
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

async function offboardingFor(directory: Directory): Promise<Runtime['offboarding']> {
  if (directory.kind !== 'okta') return { sources: [] };
  const { OktaDirectory } = await import('./adapters/okta/okta-directory.js');
  if (!(directory instanceof OktaDirectory)) return { sources: [] };
  const { oktaStatusCheck, oktaSystemLogSource } = await import('./adapters/okta/okta-offboarding.js');
  return { statusCheck: oktaStatusCheck(directory), sources: [oktaSystemLogSource(directory)] };
}

/**
 * When the directory could not be reached at start, the policies' groups are checked again every
 * `intervalMs` until it answers: a definite problem found then is logged and sent to the alerts
 * channel (the bot is already serving, so it keeps running).
 */
export function recheckDirectoryUntilReachable(runtime: Runtime, intervalMs = 60_000): () => void {
  if (!runtime.directoryUnreachable) return () => {};
  const { deps, loaded } = runtime;
  let busy = false;
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void checkPoliciesAgainstDirectory(loaded, deps.directory)
      .then(async (check) => {
        if (check.unreachable)
          return deps.logger.warn('directory still unreachable; policies not yet checked against it', {
            reason: check.unreachable,
          });
        clearInterval(timer);
        runtime.directoryUnreachable = undefined;
        if (check.problems.length === 0) return deps.logger.info('directory reachable again; the policies check out');
        const text = `The policies name groups or people the directory does not have:\n${check.problems.map(formatProblem).join('\n')}`;
        deps.logger.error('policies do not match the directory', { problems: check.problems.map(formatProblem) });
        const now = deps.clock.now().toISOString();
        await deps.store.transaction((tx) => alert(tx, now, deps.settings.alertsChannel, `policy-check:${now}`, text));
      })
      .catch((error: unknown) => deps.logger.error('directory re-check failed', { error }))
      .finally(() => (busy = false));
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
