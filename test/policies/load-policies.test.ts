import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadPolicies } from '../../src/adapters/policies/load-policies.js';
import { PolicyLoadError, type PolicyProblem } from '../../src/adapters/policies/policy-problem.js';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const file = (dir: string, name: string) => join(fixture(dir), name);

async function problemsOf(dir: string, env: Record<string, string | undefined> = {}): Promise<PolicyProblem[]> {
  try {
    await loadPolicies(fixture(dir), { env });
  } catch (error) {
    if (error instanceof PolicyLoadError) return error.problems;
    throw error;
  }
  throw new Error(`expected ${dir} to fail`);
}

/** The one problem a fixture has, checked for file, line, column, key path and wording. */
async function expectOnlyProblem(
  dir: string,
  expected: { file: string; line: number; column?: number; path: string; message: string | RegExp },
) {
  const problems = await problemsOf(dir);
  expect(problems).toHaveLength(1);
  const [problem] = problems;
  expect(problem?.file).toBe(file(dir, expected.file));
  expect(problem?.line).toBe(expected.line);
  if (expected.column !== undefined) expect(problem?.column).toBe(expected.column);
  expect(problem?.path).toBe(expected.path);
  if (typeof expected.message === 'string') expect(problem?.message).toContain(expected.message);
  else expect(problem?.message).toMatch(expected.message);
}

describe('loadPolicies on a valid folder', () => {
  it('transforms every file into domain policies: seconds, camelCase, defaults applied', async () => {
    const loaded = await loadPolicies(fixture('valid'), { env: { BILLING_HOOK_SECRET: 'k' } });
    expect(loaded.policies.map((p) => [p.app, p.source.file])).toEqual([
      ['billing', file('valid', 'billing.yaml')],
      ['github', file('valid', 'github.yml')],
    ]);
    const github = loaded.catalog.app('github');
    expect(github?.description).toBe('Source code hosting');
    expect(github?.roles[0]).toEqual({
      id: 'owner',
      name: 'Organization owner',
      policy: 'github-owner-jit',
      sensitive: true,
      eligibleGroups: ['platform-team'],
      duration: { defaultSeconds: 3600, maxSeconds: 14_400 },
      justification: 'required',
      approval: [
        { kind: 'manager' },
        { kind: 'group', group: 'security-team', minApprovals: 2, notify: 'C0SECURITY' },
        { kind: 'user', user: 'ciso@example.com' },
      ],
      autoApprove: { requesterGroups: ['sre-oncall'], maxDurationSeconds: 3600 },
      extension: { maxTotalSeconds: 28_800, approval: 'same' },
      provision: { method: 'okta_group', group: 'github-owners' },
    });
    expect(github?.roles[1]).toMatchObject({
      sensitive: false,
      approval: 'auto',
      extension: null,
      duration: { defaultSeconds: 2_592_000, maxSeconds: 7_776_000 },
    });

    const billing = loaded.catalog.find('billing', 'admin')?.role;
    expect(billing?.provision).toEqual({
      method: 'webhook',
      url: 'https://billing.internal.example.com/access-hooks',
      secretEnv: 'BILLING_HOOK_SECRET',
      timeoutSeconds: 10,
    });
    expect(billing?.justification).toBe('optional');
    expect(billing?.extension).toBeNull();
    expect(billing?.approval).toEqual([{ kind: 'group', group: 'finance-leads', minApprovals: 1 }]);
    expect(loaded.catalog.findByPolicyName('billing-viewer')?.role.provision).toEqual({
      method: 'manual',
      assigneeGroup: 'it-helpdesk',
    });
    expect(loaded.catalog.find('github', 'owner')?.version).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reads settings.yml with reminders longest first and the durations in seconds', async () => {
    const loaded = await loadPolicies(fixture('valid'), { env: { BILLING_HOOK_SECRET: 'k' } });
    expect(loaded.settingsFile).toBe(file('valid', 'settings.yml'));
    expect(loaded.settings).toEqual({
      adminGroup: 'access-admins',
      securityChannel: 'C0SECURITY',
      alertsChannel: 'C0ACCESSOPS',
      timezone: 'Europe/Berlin',
      sweepSchedule: '*/30 * * * * *',
      digestSchedule: '0 9 * * 1',
      reconcileSchedule: '0 * * * *',
      approvalTimeoutSeconds: 172_800,
      remindersSeconds: [86_400, 3600, 900],
      approverRemindersSeconds: [],
      managerAttribute: 'manager',
      auditSinks: [],
      auditCheckpoints: null,
      retentionSeconds: 30 * 86_400,
    });
  });

  it('fills every settings default from a minimal settings.yml', async () => {
    const loaded = await loadPolicies(fixture('valid-minimal'), { env: {} });
    expect(loaded.settings).toEqual({
      adminGroup: 'access-admins',
      securityChannel: 'C0SECURITY',
      alertsChannel: 'C0SECURITY',
      timezone: 'UTC',
      sweepSchedule: '* * * * *',
      digestSchedule: '0 9 * * 1',
      reconcileSchedule: '0 * * * *',
      approvalTimeoutSeconds: 259_200,
      remindersSeconds: [86_400, 3600],
      approverRemindersSeconds: [],
      managerAttribute: 'managerId',
      auditSinks: [],
      auditCheckpoints: null,
      retentionSeconds: 90 * 86_400,
    });
  });

  it('locates any key of a loaded file, for later checks that name a line', async () => {
    const loaded = await loadPolicies(fixture('valid'), { env: { BILLING_HOOK_SECRET: 'k' } });
    const github = file('valid', 'github.yml');
    expect(loaded.locate(github, ['roles', 0, 'provision', 'okta_group'])).toEqual({ line: 22, column: 19 });
    expect(loaded.locate(github, ['roles', 1, 'eligible_groups', 0])).toEqual({ line: 26, column: 23 });
    expect(loaded.locate(github, ['roles', 0, 'approval'], 'key')).toEqual({ line: 12, column: 5 });
    expect(loaded.locate('github.yml', ['app'])).toEqual({ line: 1, column: 6 });
    expect(loaded.locate(loaded.settingsFile, ['admin_group'])).toEqual({ line: 1, column: 14 });
  });
});

describe('loadPolicies reports malformed files with file, line, column and key', () => {
  it('an unknown top-level key, at the key', () =>
    expectOnlyProblem('unknown-key-top', {
      file: 'wiki.yml',
      line: 3,
      column: 1,
      path: 'owner',
      message: "unknown key 'owner'",
    }));

  it('an unknown key inside a role, at the key', () =>
    expectOnlyProblem('unknown-key-role', {
      file: 'wiki.yml',
      line: 7,
      column: 5,
      path: 'roles[0].sensitiv',
      message: "unknown key 'sensitiv'",
    }));

  it('a bad duration, saying which form is accepted', () =>
    expectOnlyProblem('bad-duration', {
      file: 'wiki.yml',
      line: 8,
      column: 35,
      path: 'roles[0].duration.max',
      message: "must be a duration, an integer and a unit s, m, h, d or w (for example 30m, 4h, 7d); got '4 hours'",
    }));

  it('a default longer than the maximum', () =>
    expectOnlyProblem('default-over-max', {
      file: 'wiki.yml',
      line: 8,
      column: 26,
      path: 'roles[0].duration.default',
      message: 'duration.default (8h) is longer than duration.max (4h)',
    }));

  it('an extension lifetime shorter than the maximum duration', () =>
    expectOnlyProblem('extension-too-short', {
      file: 'wiki.yml',
      line: 10,
      column: 29,
      path: 'roles[0].extension.max_total',
      message: 'is shorter than duration.max (4h)',
    }));

  it('the same app in two files, naming both', async () => {
    await expectOnlyProblem('duplicate-app', {
      file: 'b.yml',
      line: 1,
      column: 6,
      path: 'app',
      message: `app 'wiki' is already defined in ${file('duplicate-app', 'a.yml')}:1:6`,
    });
  });

  it('the same role id twice in one app', () =>
    expectOnlyProblem('duplicate-role', {
      file: 'wiki.yml',
      line: 11,
      column: 9,
      path: 'roles[1].id',
      message: "role id 'editor' is already used by roles[0] (line 4)",
    }));

  it('the same policy name in two files', () =>
    expectOnlyProblem('duplicate-policy', {
      file: 'b.yml',
      line: 6,
      column: 13,
      path: 'roles[0].policy',
      message: `policy name 'wiki-editor' is already used by wiki/editor at ${file('duplicate-policy', 'a.yml')}:6:13`,
    }));

  it('min_approvals of 0', () =>
    expectOnlyProblem('min-approvals-zero', {
      file: 'wiki.yml',
      line: 11,
      column: 24,
      path: 'roles[0].approval[0].min_approvals',
      message: 'must be at least 1, got 0',
    }));

  it('a webhook over plain http', async () => {
    const problems = await problemsOf('webhook-http', { WIKI_HOOK_SECRET: 'set' });
    expect(problems).toEqual([
      {
        file: file('webhook-http', 'wiki.yml'),
        line: 12,
        column: 14,
        path: 'roles[0].provision.webhook.url',
        message: "must be an https:// URL, got 'http://wiki.example.com/hooks'",
      },
    ]);
  });

  it('a webhook URL with credentials in it (they belong in secret_env)', async () => {
    const problems = await problemsOf('webhook-credentials', { WIKI_HOOK_SECRET: 'set' });
    expect(problems).toEqual([
      {
        file: file('webhook-credentials', 'wiki.yml'),
        line: 12,
        column: 14,
        path: 'roles[0].provision.webhook.url',
        message: expect.stringContaining('must not carry a user name or password'),
      },
    ]);
    expect(JSON.stringify(problems)).not.toContain('hunter2');
  });

  it('a webhook timeout outside 1s to 60s (the job lock must outlast it)', async () => {
    const problems = await problemsOf('webhook-timeout', { WIKI_HOOK_SECRET: 'set' });
    expect(problems.map((p) => [p.line, p.path, p.message])).toEqual([
      [14, 'roles[0].provision.webhook.timeout', expect.stringContaining('must be between 1s and 60s')],
      [25, 'roles[1].provision.webhook.timeout', expect.stringContaining('must be between 1s and 60s')],
    ]);
  });

  it('a webhook secret whose environment variable is not set, naming the variable', () =>
    expectOnlyProblem('secret-env-unset', {
      file: 'wiki.yml',
      line: 13,
      column: 21,
      path: 'roles[0].provision.webhook.secret_env',
      message: 'the environment variable WIKI_HOOK_SECRET is not set',
    }));

  it('accepts the webhook once its secret is in the environment', async () => {
    const loaded = await loadPolicies(fixture('secret-env-unset'), { env: { WIKI_HOOK_SECRET: 's3cret' } });
    expect(loaded.policies[0]?.roles[0]?.provision).toMatchObject({ method: 'webhook', timeoutSeconds: 30 });
  });

  it('a YAML syntax error, with its position', () =>
    expectOnlyProblem('yaml-syntax', {
      file: 'wiki.yml',
      line: 10,
      column: 5,
      path: '(file)',
      message: /^YAML syntax error: Flow sequence .* end with a \]$/,
    }));

  it('an empty approval list', () =>
    expectOnlyProblem('approval-empty', {
      file: 'wiki.yml',
      line: 9,
      column: 15,
      path: 'roles[0].approval',
      message: "must list at least one approval step (or be 'auto')",
    }));

  it('two provisioning methods at once', () =>
    expectOnlyProblem('two-provision-methods', {
      file: 'wiki.yml',
      line: 11,
      column: 7,
      path: 'roles[0].provision',
      message: 'has okta_group and manual; choose exactly one of okta_group, webhook or manual',
    }));

  it('a missing required key, at the mapping it belongs in', () =>
    expectOnlyProblem('missing-key', {
      file: 'wiki.yml',
      line: 4,
      column: 5,
      path: 'roles[0].policy',
      message: 'required key is missing',
    }));

  it('auto_approve without any condition', () =>
    expectOnlyProblem('auto-approve-empty', {
      file: 'wiki.yml',
      line: 11,
      column: 13,
      path: 'roles[0].auto_approve.when',
      message: 'needs at least one condition: requester_groups or max_duration',
    }));

  it('approval steps that are neither manager, user nor group, and a user that is not an email', async () => {
    const problems = await problemsOf('bad-step');
    expect(problems.map((p) => [p.line, p.column, p.path, p.message])).toEqual([
      [
        11,
        9,
        'roles[0].approval[1]',
        "an approval step must be 'manager', {user: email} or {group: name}; got 'managers'",
      ],
      [12, 15, 'roles[0].approval[2].user', "must be the approver's email address, got 'not-an-email'"],
    ]);
  });

  it('app and role ids that are not slugs', async () => {
    const problems = await problemsOf('bad-slug');
    expect(problems.map((p) => [p.line, p.column, p.path])).toEqual([
      [1, 6, 'app'],
      [4, 9, 'roles[0].id'],
    ]);
    expect(problems[0]?.message).toContain(
      "must be a slug (lower-case letters, digits and dashes, starting with a letter or digit), got 'Wiki_App'",
    );
  });

  it('an empty policy file', () =>
    expectOnlyProblem('empty-file', {
      file: 'wiki.yml',
      line: 1,
      column: 1,
      path: '(file)',
      message: 'the file is empty',
    }));

  it('an unknown settings key', () =>
    expectOnlyProblem('bad-settings-key', {
      file: 'settings.yml',
      line: 3,
      column: 1,
      path: 'security_chanel',
      message: "unknown key 'security_chanel'",
    }));

  it('a bad cron expression in settings', () =>
    expectOnlyProblem('bad-cron', {
      file: 'settings.yml',
      line: 3,
      column: 18,
      path: 'digest_schedule',
      message: "got '0 25 * * 1': 25 is a invalid expression for hour",
    }));

  it('an unknown time zone in settings', () =>
    expectOnlyProblem('bad-timezone', {
      file: 'settings.yml',
      line: 3,
      column: 11,
      path: 'timezone',
      message: "must be an IANA time zone such as Europe/Berlin or UTC, got 'Mars/Olympus_Mons'",
    }));

  it('a retention shorter than a week', () =>
    expectOnlyProblem('retention-too-short', {
      file: 'settings.yml',
      line: 3,
      column: 12,
      path: 'retention',
      message: "must be at least 1w (a finished job keeps a day's alert from being sent twice), got '2d'",
    }));

  it('a retention that is not a duration', () =>
    expectOnlyProblem('retention-not-duration', {
      file: 'settings.yml',
      line: 3,
      column: 12,
      path: 'retention',
      message: 'must be a duration',
    }));

  it('a missing settings.yml, naming the path', () =>
    expectOnlyProblem('no-settings', {
      file: 'settings.yml',
      line: 1,
      path: '(file)',
      message: `the settings file ${file('no-settings', 'settings.yml')} is missing`,
    }));

  it('a policy folder that does not exist', async () => {
    await expect(loadPolicies(fixture('no-such-folder'), { env: {} })).rejects.toThrow(
      /no-such-folder:1:1 \(file\): cannot read the policy folder: it does not exist/,
    );
  });

  it('every problem of every file at once, sorted by file then line', async () => {
    const error = await loadPolicies(fixture('two-bad-files'), { env: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyLoadError);
    const problems = (error as PolicyLoadError).problems;
    expect(problems.map((p) => [p.file, p.line, p.path])).toEqual([
      [file('two-bad-files', 'a.yml'), 3, 'owner'],
      [file('two-bad-files', 'b.yml'), 8, 'roles[0].duration.max'],
      [file('two-bad-files', 'settings.yml'), 2, 'security_channel'],
    ]);
    expect((error as Error).message.split('\n')).toEqual([
      `${file('two-bad-files', 'a.yml')}:3:1 owner: unknown key 'owner'`,
      `${file('two-bad-files', 'b.yml')}:8:35 roles[0].duration.max: must be a duration, an integer and a unit s, m, h, d or w (for example 30m, 4h, 7d); got '4x'`,
      `${file('two-bad-files', 'settings.yml')}:2:19 security_channel: must be a Slack channel id such as C0123ABCD (not a #name), got 'general'`,
    ]);
  });

  it('words each kind of mistake for a policy author, all in one run', async () => {
    const lines = (await problemsOf('many-problems')).map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`);
    expect(lines).toEqual([
      '3:14 description: must be text, got 42',
      "7:13 roles[0].policy: must be a policy name (letters, digits, '.', '_' and '-'), got 'wiki editor'",
      "8:16 roles[0].sensitive: must be true or false, got 'yes'",
      "9:22 roles[0].eligible_groups: must be a list, got 'everyone'",
      "11:20 roles[0].justification: must be 'required' or 'optional', got 'maybe'",
      "14:9 roles[0].approval[0].min_aproval: unknown key 'min_aproval'",
      '15:9 roles[0].approval[1]: a step names either a user or a group, not both',
      '17:24 roles[0].approval[2].min_approvals: must be a whole number of approvals, got 1.5',
      "18:17 roles[0].approval[2].notify: must be a Slack channel id such as C0123ABCD (not a #name), got '#sec'",
      "19:16 roles[0].extension: must be 'none' or {max_total: duration, approval: same|auto}; got 'sometimes'",
      '20:16 roles[0].provision: needs one provisioning method: okta_group, webhook or manual',
      '22:5 roles[1].name: must be text, got an empty value',
      '24:22 roles[1].eligible_groups: must list at least one group',
      '25:26 roles[1].duration.default: must be a duration, an integer and a unit s, m, h, d or w (for example 30m, 4h, 7d); got 60',
      "25:39 roles[1].duration.min: unknown key 'min'",
      '27:47 roles[1].auto_approve.when.requester_groups: must list at least one group (or leave the key out)',
      '28:16 roles[1].extension.approval: required key is missing',
      "29:71 roles[1].provision.webhook.secret_env: must be the NAME of an environment variable holding the HMAC key (like BILLING_HOOK_SECRET), got 'lower_case'",
      "29:92 roles[1].provision.webhook.timeout: must be a duration, an integer and a unit s, m, h, d or w (for example 30m, 4h, 7d); got '0s'",
    ]);
  });
});

describe('loadPolicies: break_glass, escalation and approver_reminders', () => {
  it('reads the sandbox example: a `- manager:` step that escalates, break_glass, approver_reminders in seconds', async () => {
    const loaded = await loadPolicies(fileURLToPath(new URL('../../policies', import.meta.url)), {
      env: { BILLING_HOOK_SECRET: 'k', AUDIT_SIGNING_KEY: 'pem' },
    });
    const admin = loaded.catalog.find('aws-prod', 'admin')!.role;
    expect(admin.approval).toEqual([
      { kind: 'manager', escalation: { afterSeconds: 4 * 3600, to: { kind: 'group', group: 'access-admins' } } },
      { kind: 'group', group: 'security-team', minApprovals: 1 },
    ]);
    expect(admin.breakGlass).toEqual({
      maxSeconds: 3600,
      eligibleGroups: ['sre-oncall'],
      reviewWithinSeconds: 86_400,
      reviewers: { kind: 'group', group: 'security-team' },
    });
    expect(loaded.catalog.find('github', 'owner')!.role.breakGlass).toBeUndefined();
    expect(loaded.settings.approverRemindersSeconds).toEqual([4 * 3600, 86_400]);
  });

  it('names file, line and key of each mistake: half an escalation, a manager step naming a group, bad reviewers, max over duration.max', async () => {
    const dir = 'break-glass-and-escalation';
    const problems = await problemsOf(dir);
    expect(problems.map((p) => [p.file, p.line, p.path, p.message])).toEqual([
      [
        file(dir, 'db.yml'),
        10,
        'roles[0].approval[0].escalate_to',
        'required key is missing: escalate_after needs escalate_to ({group: name} or {user: email})',
      ],
      [
        file(dir, 'db.yml'),
        12,
        'roles[0].approval[1].escalate_after',
        'required key is missing: escalate_to needs escalate_after (a duration such as 4h)',
      ],
      [
        file(dir, 'db.yml'),
        14,
        'roles[0].approval[2]',
        "a '- manager:' step names no group: make it a step of its own",
      ],
      [
        file(dir, 'db.yml'),
        19,
        'roles[0].break_glass.reviewers',
        'must be {group: name} or {user: email}; got a mapping',
      ],
      [file(dir, 'db.yml'), 29, 'roles[1].break_glass.max', 'break_glass.max (8h) is longer than duration.max (4h)'],
    ]);
  });
});

describe('audit sinks and checkpoints in settings.yml', () => {
  it('reads each sink type with its defaults, and the checkpoint interval', async () => {
    const env = { SIEM_HOOK_SECRET: 'k', SPLUNK_HEC_TOKEN: 't', AUDIT_SIGNING_KEY: 'pem' };
    const { settings } = await loadPolicies(fixture('audit-sinks-valid'), { env });
    expect(settings.auditSinks).toEqual([
      {
        name: 'siem',
        type: 'webhook',
        url: 'https://siem.example.com/access-bot',
        secretEnv: 'SIEM_HOOK_SECRET',
        format: 'ocsf',
        batchSize: 200,
        alertAfterSeconds: 1800,
        timeoutSeconds: 10,
      },
      {
        name: 'splunk',
        type: 'splunk_hec',
        // The event endpoint as pasted from Splunk's docs: the bot keeps the address and adds the paths.
        url: 'https://splunk.example.com:8088',
        tokenEnv: 'SPLUNK_HEC_TOKEN',
        index: 'security',
        source: 'access-bot',
        sourcetype: 'access-bot:audit',
        format: 'json',
        batchSize: 500,
        alertAfterSeconds: 900,
        timeoutSeconds: 10,
        ackTimeoutSeconds: 120,
      },
      {
        name: 'archive',
        type: 'file',
        path: '/var/log/access-bot/audit.jsonl',
        format: 'json',
        batchSize: 500,
        alertAfterSeconds: 900,
        maxBytes: 10 * 1024 * 1024,
        keep: 3,
      },
    ]);
    // Without a channel, checkpoints go to the security channel.
    expect(settings.auditCheckpoints).toEqual({ everySeconds: 900, channel: 'C0SECURITY' });
  });

  it('names the file, line, column and key of every problem in the sinks at once', async () => {
    const problems = await problemsOf('audit-sinks-bad');
    const at = (p: PolicyProblem) => `${p.line}:${p.column} ${p.path}: ${p.message}`;
    expect(problems.every((p) => p.file === file('audit-sinks-bad', 'settings.yml'))).toBe(true);
    expect(problems.map(at)).toEqual([
      "6:10 audit_sinks[0].url: must be an https:// URL, got 'http://siem.example.com/hook'",
      "8:5 audit_sinks[0].formt: unknown key 'formt'",
      "9:11 audit_sinks[1].name: sink name 'siem' is already used by audit_sinks[0]; names are unique",
      "15:10 audit_sinks[2].url: must be the HEC address (https://host:8088), optionally with /services/collector/event, got 'https://splunk.example.com:8088/other/path'",
      "16:16 audit_sinks[2].token_env: must be the NAME of an environment variable holding the HEC token (like SPLUNK_HEC_TOKEN), got 'splunk-token'",
      '17:18 audit_sinks[2].ack_timeout: must be between 5s and 1h (how long an acknowledged batch may take to be indexed), got 2s',
      "19:11 audit_sinks[3].type: must be webhook, splunk_hec or file, got 'syslog'",
      "20:11 audit_sinks[4].name: must be a slug (lower-case letters, digits and dashes, starting with a letter or digit), got 'Bad_Name'",
      "23:13 audit_sinks[4].format: must be 'json' or 'ocsf', got 'cef'",
      '24:12 audit_sinks[4].batch: must be at least 1, got 0',
      '26:10 audit_checkpoints.every: must be between 1m and 1w (a signed statement of the head this often), got 10s',
      "27:12 audit_checkpoints.channel: must be a Slack channel id such as C0123ABCD (not a #name), got '#security'",
    ]);
  });

  it("reports a sink's unset secret and a missing signing key like a webhook's secret_env: a problem, or a warning when asked", async () => {
    const problems = await problemsOf('audit-sinks-valid');
    expect(problems.map((p) => `${p.line}:${p.column} ${p.path}: ${p.message}`)).toEqual([
      '7:17 audit_sinks[0].secret_env: the environment variable SIEM_HOOK_SECRET is not set (it must hold the HMAC key of audit sink siem)',
      '14:16 audit_sinks[1].token_env: the environment variable SPLUNK_HEC_TOKEN is not set (it must hold the HEC token of audit sink splunk)',
      '22:3 audit_checkpoints: the environment variable AUDIT_SIGNING_KEY is not set (it must hold the Ed25519 private key (PEM) that signs audit checkpoints; make one with openssl genpkey -algorithm ed25519)',
    ]);
    const warned: string[] = [];
    const loaded = await loadPolicies(fixture('audit-sinks-valid'), {
      env: {},
      onMissingSecret: (w) => warned.push(w.variable),
    });
    expect(warned).toEqual(['SIEM_HOOK_SECRET', 'SPLUNK_HEC_TOKEN', 'AUDIT_SIGNING_KEY']);
    expect(loaded.settings.auditSinks).toHaveLength(3);
  });
});
