import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';

function problemsOf(env: Record<string, string | undefined>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

const slackHttp = { SLACK_BOT_TOKEN: 'xoxb-1-2-abc', SLACK_SIGNING_SECRET: 'shh' };

describe('loadConfig', () => {
  it('runs the sandbox with every default when nothing is set', () => {
    const env = {};
    expect(loadConfig(env)).toEqual({
      slack: { apiUrl: 'https://slack.com/api/' },
      port: 3000,
      directoryFile: 'directory.example.yml',
      databasePath: 'data/access.db',
      policiesDir: 'policies',
      logLevel: 'info',
      mode: 'sandbox',
      productionVariables: [],
      env,
    });
  });

  it('counts any SLACK_*, OKTA_* or DATABASE_URL variable as production, even one it does not read (M2)', () => {
    expect(
      loadConfig({ SLACK_SIGNING_SECRET: 'leftover', DATABASE_PATH: 'prod.db', BILLING_HOOK_SECRET: 'k' }),
    ).toMatchObject({ mode: 'incomplete_production', productionVariables: ['SLACK_SIGNING_SECRET'] });
    expect(loadConfig({ SLACK_WEBHOOK: 'x', DATABASE_URL: 'postgres://db/access' })).toMatchObject({
      mode: 'incomplete_production',
      productionVariables: ['DATABASE_URL', 'SLACK_WEBHOOK'],
    });
    expect(loadConfig({ DATABASE_PATH: 'mine.db', DIRECTORY_FILE: 'people.yml', OKTA_API_TOKEN: '' })).toMatchObject({
      mode: 'sandbox',
      productionVariables: [],
    });
  });

  it('reads Slack in HTTP mode, Okta with an API token, and every path', () => {
    const env = {
      ...slackHttp,
      SLACK_API_URL: 'http://127.0.0.1:4000/api',
      PORT: '8080',
      OKTA_ORG_URL: 'https://example.okta.com/',
      OKTA_API_TOKEN: 'ssws-token',
      DIRECTORY_FILE: 'dir.yml',
      DATABASE_PATH: '/var/lib/access.db',
      POLICIES_DIR: '/etc/access/policies',
      LOG_LEVEL: 'DEBUG',
      BILLING_HOOK_SECRET: 'k',
    };
    const config = loadConfig(env);
    expect(config).toMatchObject({
      slack: { botToken: 'xoxb-1-2-abc', signingSecret: 'shh', apiUrl: 'http://127.0.0.1:4000/api/' },
      port: 8080,
      okta: { orgUrl: 'https://example.okta.com', auth: { mode: 'token', token: 'ssws-token' } },
      directoryFile: 'dir.yml',
      databasePath: '/var/lib/access.db',
      policiesDir: '/etc/access/policies',
      logLevel: 'debug',
      mode: 'slack',
    });
    expect(config.env.BILLING_HOOK_SECRET).toBe('k');
  });

  it('reads an OAuth service app for Okta, restoring newlines in a one-line PEM key', () => {
    const config = loadConfig({
      OKTA_ORG_URL: 'https://example.okta.com',
      OKTA_CLIENT_ID: 'cid',
      OKTA_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\\nabc\\n-----END PRIVATE KEY-----',
      OKTA_KEY_ID: 'kid',
    });
    expect(config.okta?.auth).toEqual({
      mode: 'private_key',
      clientId: 'cid',
      privateKey: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----',
      keyId: 'kid',
    });
    // Okta without a Slack token: the caller must refuse to start, never fall back to the sandbox.
    expect(config.mode).toBe('incomplete_production');
  });

  it('does not need a signing secret in Socket Mode', () => {
    const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1' });
    expect(config.slack).toEqual({ botToken: 'xoxb-1', appToken: 'xapp-1', apiUrl: 'https://slack.com/api/' });
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', OKTA_API_TOKEN: '  ' }).port).toBe(3000);
  });

  it('names a malformed PORT with its value', () => {
    expect(problemsOf({ PORT: 'abc' })).toEqual(["PORT: must be an integer 0-65535, got 'abc'"]);
    expect(problemsOf({ PORT: '70000' })).toEqual(["PORT: must be an integer 0-65535, got '70000'"]);
  });

  it('names a bot token or app token of the wrong kind, without echoing the secret', () => {
    const problems = problemsOf({
      SLACK_BOT_TOKEN: 'xoxp-user-token-secret',
      SLACK_SIGNING_SECRET: 's',
      SLACK_APP_TOKEN: 'xoxb-nope',
    });
    expect(problems).toEqual([
      "SLACK_BOT_TOKEN: must be a Slack bot token starting with xoxb-, got 'xoxp-...'",
      "SLACK_APP_TOKEN: must be a Slack app-level token starting with xapp-, got 'xoxb-...'",
    ]);
    expect(problems.join('\n')).not.toContain('secret');
  });

  it('requires the signing secret in HTTP mode', () => {
    expect(problemsOf({ SLACK_BOT_TOKEN: 'xoxb-1' })).toEqual([
      expect.stringMatching(/^SLACK_SIGNING_SECRET: is required in HTTP mode/),
    ]);
  });

  it('refuses an app token without a bot token', () => {
    expect(problemsOf({ SLACK_APP_TOKEN: 'xapp-1' })).toEqual([
      expect.stringMatching(/^SLACK_APP_TOKEN: is set but SLACK_BOT_TOKEN is not/),
    ]);
  });

  it('names a malformed SLACK_API_URL and OKTA_ORG_URL', () => {
    expect(
      problemsOf({
        ...slackHttp,
        SLACK_API_URL: 'slack.example',
        OKTA_ORG_URL: 'http://example.okta.com',
        OKTA_API_TOKEN: 't',
      }),
    ).toEqual([
      "SLACK_API_URL: must be a URL such as https://example.com/, got 'slack.example'",
      "OKTA_ORG_URL: must be an https:// URL (http:// only for localhost), got 'http://example.okta.com'",
    ]);
  });

  it('names a LOG_LEVEL outside debug|info|warn|error', () => {
    expect(problemsOf({ LOG_LEVEL: 'verbose' })).toEqual([
      "LOG_LEVEL: must be one of debug, info, warn, error, got 'verbose'",
    ]);
  });

  it('requires Okta credentials with OKTA_ORG_URL', () => {
    expect(problemsOf({ OKTA_ORG_URL: 'https://example.okta.com' })).toEqual([
      'OKTA_API_TOKEN: is required when OKTA_ORG_URL is set (or set OKTA_CLIENT_ID, OKTA_PRIVATE_KEY and OKTA_KEY_ID for an OAuth service app)',
    ]);
  });

  it('says exactly which part of the OAuth service app is missing', () => {
    expect(problemsOf({ OKTA_ORG_URL: 'https://example.okta.com', OKTA_CLIENT_ID: 'cid' })).toEqual([
      'OKTA_PRIVATE_KEY, OKTA_KEY_ID: are missing; an OAuth service app needs OKTA_CLIENT_ID, OKTA_PRIVATE_KEY and OKTA_KEY_ID (OKTA_CLIENT_ID is set)',
    ]);
  });

  it('refuses both an API token and a service app', () => {
    expect(problemsOf({ OKTA_ORG_URL: 'https://example.okta.com', OKTA_API_TOKEN: 't', OKTA_KEY_ID: 'kid' })).toEqual([
      expect.stringMatching(/^OKTA_API_TOKEN: is set together with OKTA_KEY_ID; use either/),
    ]);
  });

  it('refuses Okta credentials without OKTA_ORG_URL', () => {
    expect(problemsOf({ OKTA_API_TOKEN: 't' })).toEqual([
      'OKTA_ORG_URL: is required when OKTA_API_TOKEN is set (or unset it to use the YAML directory)',
    ]);
  });

  it('reports every problem at once, one line each', () => {
    const error = (() => {
      try {
        return loadConfig({ PORT: 'x', LOG_LEVEL: 'loud', SLACK_BOT_TOKEN: 'nope' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message.split('\n').map((line) => line.split(':')[0])).toEqual([
      'SLACK_BOT_TOKEN',
      'PORT',
      'LOG_LEVEL',
      'SLACK_SIGNING_SECRET',
    ]);
  });
});
