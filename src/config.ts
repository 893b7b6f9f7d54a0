/**
 * The process configuration, read from the environment. This is the only module that reads
 * `process.env`; everything else receives a `Config`. Every malformed or missing variable is
 * reported at once, one line each, naming the variable.
 *
 * An empty variable (`OKTA_API_TOKEN=` in a .env file) counts as unset.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import * as z from 'zod';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type OktaAuth =
  { mode: 'token'; token: string } | { mode: 'private_key'; clientId: string; privateKey: string; keyId: string };

/**
 * - `sandbox`: nothing of a production deployment is set (no `SLACK_*`, no `OKTA_*`, no
 *   `DATABASE_URL`): the embedded Slack API and the local page.
 * - `slack`: a production start (or a test against a Slack stand-in) with its Slack bot token.
 * - `incomplete_production`: something of production is set but the Slack bot token is not. The
 *   bot must refuse to start: a deployment that lost its token (or kept a leftover variable) must
 *   never become a page where anyone can pick who they are.
 */
export type RunMode = 'slack' | 'sandbox' | 'incomplete_production';

export interface Config {
  slack: { botToken?: string; signingSecret?: string; appToken?: string; apiUrl: string };
  port: number;
  okta?: { orgUrl: string; auth: OktaAuth };
  directoryFile: string;
  databasePath: string;
  /**
   * PostgreSQL instead of SQLite (several replicas): the connection URL (TLS through `sslmode`)
   * and the connections each replica keeps.
   */
  postgres?: { url: string; poolSize: number };
  policiesDir: string;
  logLevel: LogLevel;
  mode: RunMode;
  /** The set `SLACK_*`, `OKTA_*` and `DATABASE_URL` variables: any of them makes a production start. */
  productionVariables: string[];
  /**
   * Ed25519 private key (PEM) that signs audit checkpoints; unset: no checkpoints (the sandbox makes a throwaway one).
   */
  auditSigningKey?: string;
  /** The raw environment, for values named by configuration (a webhook's `secret_env`). */
  env: Record<string, string | undefined>;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

const DEFAULTS = {
  slackApiUrl: 'https://slack.com/api/',
  port: 3000,
  directoryFile: 'directory.example.yml',
  databasePath: 'data/access.db',
  databasePoolSize: 10,
  policiesDir: 'policies',
  logLevel: 'info',
} as const;

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

const OKTA_KEY_VARIABLES = ['OKTA_CLIENT_ID', 'OKTA_PRIVATE_KEY', 'OKTA_KEY_ID'] as const;

/** Any variable with one of these prefixes (or DATABASE_URL) belongs to a production deployment. */
const PRODUCTION_PREFIXES = ['SLACK_', 'OKTA_'] as const;

function quote(value: string): string {
  return `'${value.length > 40 ? `${value.slice(0, 37)}...` : value}'`;
}

/** Secrets are never echoed back in a message, only their first characters. */
function hint(value: string): string {
  return `'${value.slice(0, 5)}...'`;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '127.0.0.1' || host === '[::1]';
}

/** Why `pem` is not an Ed25519 private key, in words; null when it is one. The key itself is never echoed. */
function ed25519KeyProblem(pem: string): string | null {
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    return 'must be an Ed25519 private key in PEM (-----BEGIN PRIVATE KEY----- ...); it could not be read as a private key';
  }
  return key.asymmetricKeyType === 'ed25519'
    ? null
    : `must be an Ed25519 private key, got a${key.asymmetricKeyType === 'ec' ? 'n' : ''} ${key.asymmetricKeyType ?? 'unknown'} key`;
}

const PortSchema = z.string().transform((text, ctx) => {
  const port = /^[0-9]{1,5}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(port) || port > 65_535) {
    ctx.addIssue({ code: 'custom', message: `must be an integer 0-65535, got ${quote(text)}` });
    return z.NEVER;
  }
  return port;
});

function tokenSchema(prefix: string, what: string) {
  return z.string().refine((text) => text.startsWith(prefix), {
    error: (issue) => `must be ${what} starting with ${prefix}, got ${hint(String(issue.input))}`,
  });
}

function urlSchema(options: { https: 'always' | 'except_loopback'; trailingSlash: boolean }) {
  return z.string().transform((text, ctx) => {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      ctx.addIssue({ code: 'custom', message: `must be a URL such as https://example.com/, got ${quote(text)}` });
      return z.NEVER;
    }
    const httpAllowed = options.https === 'except_loopback' && isLoopback(url.hostname);
    if (url.protocol !== 'https:' && !(url.protocol === 'http:' && httpAllowed)) {
      ctx.addIssue({
        code: 'custom',
        message: `must be an https:// URL${options.https === 'except_loopback' ? ' (http:// only for localhost)' : ''}, got ${quote(text)}`,
      });
      return z.NEVER;
    }
    const href = url.href.replace(/\/+$/, '');
    return options.trailingSlash ? `${href}/` : href;
  });
}

const VARIABLES = {
  SLACK_BOT_TOKEN: tokenSchema('xoxb-', 'a Slack bot token'),
  SLACK_SIGNING_SECRET: z.string(),
  SLACK_APP_TOKEN: tokenSchema('xapp-', 'a Slack app-level token'),
  // A local Slack stand-in (tests, the sandbox) is served over plain http on loopback.
  SLACK_API_URL: urlSchema({ https: 'except_loopback', trailingSlash: true }),
  PORT: PortSchema,
  OKTA_ORG_URL: urlSchema({ https: 'except_loopback', trailingSlash: false }),
  OKTA_API_TOKEN: z.string(),
  OKTA_CLIENT_ID: z.string(),
  // A PEM key pasted into a one-line variable usually arrives with literal "\n": restore the newlines.
  OKTA_PRIVATE_KEY: z.string().transform((text) => (text.includes('\n') ? text : text.replaceAll('\\n', '\n'))),
  OKTA_KEY_ID: z.string(),
  DIRECTORY_FILE: z.string(),
  DATABASE_PATH: z.string(),
  DATABASE_URL: z.string().refine(
    (text) => {
      try {
        const url = new URL(text);
        return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
      } catch {
        return false;
      }
    },
    // Never echo the URL: it may hold the password.
    { error: 'must be a PostgreSQL URL such as postgres://user:password@host:5432/access?sslmode=verify-full' },
  ),
  DATABASE_POOL_SIZE: z.string().transform((text, ctx) => {
    const n = /^[0-9]{1,4}$/.test(text) ? Number(text) : NaN;
    if (!Number.isInteger(n) || n < 2 || n > 1000) {
      ctx.addIssue({
        code: 'custom',
        message: `must be an integer 2-1000 (connections per replica), got ${quote(text)}`,
      });
      return z.NEVER;
    }
    return n;
  }),
  POLICIES_DIR: z.string(),
  // Signs audit checkpoints. Like OKTA_PRIVATE_KEY, a one-line value may carry literal "\n".
  AUDIT_SIGNING_KEY: z
    .string()
    .transform((text) => (text.includes('\n') ? text : text.replaceAll('\\n', '\n')))
    .superRefine((pem, ctx) => {
      const problem = ed25519KeyProblem(pem);
      if (problem)
        ctx.addIssue({ code: 'custom', message: `${problem} (make one with: openssl genpkey -algorithm ed25519)` });
    }),
  LOG_LEVEL: z
    .string()
    .transform((text) => text.toLowerCase())
    .pipe(
      z.enum(LOG_LEVELS, {
        error: (issue) => `must be one of ${LOG_LEVELS.join(', ')}, got ${quote(String(issue.input))}`,
      }),
    ),
} as const;

type Variables = typeof VARIABLES;
type Parsed = { [K in keyof Variables]?: z.output<Variables[K]> };

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const problems: string[] = [];
  const values: Parsed = {};
  for (const name of Object.keys(VARIABLES) as (keyof Variables)[]) {
    const raw = env[name]?.trim();
    if (raw === undefined || raw === '') continue;
    const result = VARIABLES[name].safeParse(raw);
    if (result.success) (values as Record<string, unknown>)[name] = result.data;
    else problems.push(`${name}: ${result.error.issues.map((i) => i.message).join('; ')}`);
  }
  const isSet = (name: keyof Variables) => Boolean(env[name]?.trim());

  // Slack: HTTP mode verifies requests with the signing secret; Socket Mode does not need it.
  if (isSet('SLACK_BOT_TOKEN') && !isSet('SLACK_APP_TOKEN') && !isSet('SLACK_SIGNING_SECRET')) {
    problems.push(
      'SLACK_SIGNING_SECRET: is required in HTTP mode (SLACK_BOT_TOKEN is set and SLACK_APP_TOKEN is not); set it, or set SLACK_APP_TOKEN for Socket Mode',
    );
  }
  if (isSet('SLACK_APP_TOKEN') && !isSet('SLACK_BOT_TOKEN')) {
    problems.push('SLACK_APP_TOKEN: is set but SLACK_BOT_TOKEN is not; Socket Mode needs both');
  }

  // Okta: an org URL and exactly one complete way to authenticate.
  let okta: Config['okta'];
  const oktaSet = (['OKTA_API_TOKEN', ...OKTA_KEY_VARIABLES] as const).filter(isSet);
  if (!isSet('OKTA_ORG_URL')) {
    if (oktaSet.length > 0)
      problems.push(
        `OKTA_ORG_URL: is required when ${oktaSet.join(', ')} ${oktaSet.length === 1 ? 'is' : 'are'} set (or unset ${oktaSet.length === 1 ? 'it' : 'them'} to use the YAML directory)`,
      );
  } else {
    const keySet = OKTA_KEY_VARIABLES.filter(isSet);
    const keyMissing = OKTA_KEY_VARIABLES.filter((n) => !isSet(n));
    if (isSet('OKTA_API_TOKEN') && keySet.length > 0) {
      problems.push(
        `OKTA_API_TOKEN: is set together with ${keySet.join(', ')}; use either the API token or the OAuth service app (OKTA_CLIENT_ID, OKTA_PRIVATE_KEY, OKTA_KEY_ID), not both`,
      );
    } else if (!isSet('OKTA_API_TOKEN') && keySet.length === 0) {
      problems.push(
        'OKTA_API_TOKEN: is required when OKTA_ORG_URL is set (or set OKTA_CLIENT_ID, OKTA_PRIVATE_KEY and OKTA_KEY_ID for an OAuth service app)',
      );
    } else if (keySet.length > 0 && keyMissing.length > 0) {
      problems.push(
        `${keyMissing.join(', ')}: ${keyMissing.length === 1 ? 'is' : 'are'} missing; an OAuth service app needs OKTA_CLIENT_ID, OKTA_PRIVATE_KEY and OKTA_KEY_ID (${keySet.join(', ')} ${keySet.length === 1 ? 'is' : 'are'} set)`,
      );
    } else if (values.OKTA_ORG_URL !== undefined) {
      const auth: OktaAuth =
        values.OKTA_API_TOKEN !== undefined
          ? { mode: 'token', token: values.OKTA_API_TOKEN }
          : {
              mode: 'private_key',
              clientId: values.OKTA_CLIENT_ID ?? '',
              privateKey: values.OKTA_PRIVATE_KEY ?? '',
              keyId: values.OKTA_KEY_ID ?? '',
            };
      okta = { orgUrl: values.OKTA_ORG_URL, auth };
    }
  }

  if (problems.length > 0) throw new ConfigError(problems);

  const slack: Config['slack'] = { apiUrl: values.SLACK_API_URL ?? DEFAULTS.slackApiUrl };
  if (values.SLACK_BOT_TOKEN !== undefined) slack.botToken = values.SLACK_BOT_TOKEN;
  if (values.SLACK_SIGNING_SECRET !== undefined) slack.signingSecret = values.SLACK_SIGNING_SECRET;
  if (values.SLACK_APP_TOKEN !== undefined) slack.appToken = values.SLACK_APP_TOKEN;

  const productionVariables = Object.keys(env)
    .filter(
      (name) =>
        (PRODUCTION_PREFIXES.some((prefix) => name.startsWith(prefix)) || name === 'DATABASE_URL') &&
        Boolean(env[name]?.trim()),
    )
    .sort();
  const mode: RunMode =
    productionVariables.length === 0 ? 'sandbox' : slack.botToken ? 'slack' : 'incomplete_production';

  const config: Config = {
    slack,
    port: values.PORT ?? DEFAULTS.port,
    directoryFile: values.DIRECTORY_FILE ?? DEFAULTS.directoryFile,
    databasePath: values.DATABASE_PATH ?? DEFAULTS.databasePath,
    policiesDir: values.POLICIES_DIR ?? DEFAULTS.policiesDir,
    logLevel: values.LOG_LEVEL ?? DEFAULTS.logLevel,
    mode,
    productionVariables,
    env,
  };
  if (okta) config.okta = okta;
  if (values.AUDIT_SIGNING_KEY !== undefined) config.auditSigningKey = values.AUDIT_SIGNING_KEY;
  if (values.DATABASE_URL !== undefined)
    config.postgres = { url: values.DATABASE_URL, poolSize: values.DATABASE_POOL_SIZE ?? DEFAULTS.databasePoolSize };
  return config;
}
