/**
 * A real SQLite file, the YAML directory and hand-written fakes for messages and webhooks: the
 * operations run exactly as in production, with a clock the test moves.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { csvExportFiles } from '../../src/adapters/csv/export-csv.js';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import { createProvisioners } from '../../src/adapters/provisioners/provisioners.js';
import type { WebhookTransport } from '../../src/adapters/provisioners/webhook-provisioner.js';
import { YamlDirectory } from '../../src/adapters/directory/yaml-directory.js';
import { silentLogger } from '../../src/adapters/log/json-logger.js';
import { Catalog } from '../../src/domain/catalog.js';
import { ReviewCatalog, type LoadedReview } from '../../src/domain/reviews/review-definition.js';
import type { LoadedPolicy, Role, Settings } from '../../src/domain/policy.js';
import type { ActingPerson } from '../../src/operations/acting-person.js';
import type { Deps } from '../../src/operations/context.js';
import type { Directory, Logger, Notifier, Store } from '../../src/operations/ports.js';
import type { NotifierParts } from '../../src/runtime.js';
import { identifyByEmail } from '../../src/operations/identify-person.js';
import { runDueJobs } from '../../src/operations/run-jobs.js';
import { ControllableDirectory } from './controllable-directory.js';
import { FakeClock, FakeWebhook, RecordingNotifier } from './fakes.js';

export const COMPANY = {
  people: [
    { id: 'u-ada', email: 'ada@example.com', name: 'Ada Lovelace', title: 'Engineer', manager: 'marcus@example.com' },
    { id: 'u-alan', email: 'alan@example.com', name: 'Alan Turing', title: 'Engineer', manager: 'marcus@example.com' },
    { id: 'u-marcus', email: 'marcus@example.com', name: 'Marcus Chen', title: 'Engineering manager' },
    {
      id: 'u-sam',
      email: 'sam@example.com',
      name: 'Sam Rivera',
      title: 'Security engineer',
      manager: 'ciso@example.com',
    },
    {
      id: 'u-jordan',
      email: 'jordan@example.com',
      name: 'Jordan Lee',
      title: 'Security engineer',
      manager: 'ciso@example.com',
    },
    {
      id: 'u-kim',
      email: 'kim@example.com',
      name: 'Kim Nguyen',
      title: 'Security analyst',
      manager: 'ciso@example.com',
    },
    { id: 'u-grace', email: 'ciso@example.com', name: 'Grace Hopper', title: 'CISO' },
    { id: 'u-priya', email: 'priya@example.com', name: 'Priya Patel', title: 'Operations manager' },
    { id: 'u-ian', email: 'ian@example.com', name: 'Ian Murdock', title: 'IT support', manager: 'priya@example.com' },
    {
      id: 'u-dave',
      email: 'dave@example.com',
      name: 'Dave Stone',
      title: 'Former engineer',
      status: 'deprovisioned',
      manager: 'marcus@example.com',
    },
  ],
  groups: {
    everyone: {
      members: [
        'ada@example.com',
        'alan@example.com',
        'marcus@example.com',
        'sam@example.com',
        'jordan@example.com',
        'kim@example.com',
        'ciso@example.com',
        'priya@example.com',
        'ian@example.com',
      ],
    },
    'platform-team': { members: ['ada@example.com', 'alan@example.com', 'marcus@example.com', 'dave@example.com'] },
    'sre-oncall': { members: ['alan@example.com'] },
    'security-team': { members: ['sam@example.com', 'jordan@example.com', 'kim@example.com'] },
    'access-admins': { members: ['priya@example.com', 'ciso@example.com'] },
    'it-helpdesk': { members: ['ian@example.com', 'priya@example.com', 'ada@example.com'] },
    'github-owners': { members: [] as string[] },
    'github-members': { members: ['alan@example.com'] },
    'aws-admins': { members: [] as string[] },
  },
};

const owner: Role = {
  id: 'owner',
  name: 'Organization owner',
  policy: 'github-owner-jit',
  sensitive: true,
  eligibleGroups: ['platform-team'],
  duration: { defaultSeconds: 3600, maxSeconds: 4 * 3600 },
  justification: 'required',
  approval: [
    { kind: 'manager' },
    { kind: 'group', group: 'security-team', minApprovals: 2, notify: 'C0SECURITY' },
    { kind: 'user', user: 'ciso@example.com' },
  ],
  autoApprove: { requesterGroups: ['sre-oncall'], maxDurationSeconds: 3600 },
  extension: { maxTotalSeconds: 8 * 3600, approval: 'same' },
  provision: { method: 'okta_group', group: 'github-owners' },
};

const member: Role = {
  id: 'member',
  name: 'Member',
  policy: 'github-member',
  sensitive: false,
  eligibleGroups: ['everyone'],
  duration: { defaultSeconds: 30 * 86400, maxSeconds: 90 * 86400 },
  justification: 'optional',
  approval: 'auto',
  extension: { maxTotalSeconds: 120 * 86400, approval: 'auto' },
  provision: { method: 'okta_group', group: 'github-members' },
};

/** A second role through the same group as `member`, to prove shared membership is kept. */
const triage: Role = { ...member, id: 'triage', name: 'Triage', policy: 'github-triage', extension: null };

const awsAdmin: Role = {
  id: 'admin',
  name: 'Administrator',
  policy: 'aws-admin',
  sensitive: true,
  eligibleGroups: ['platform-team'],
  duration: { defaultSeconds: 3600, maxSeconds: 8 * 3600 },
  justification: 'required',
  approval: [{ kind: 'manager' }],
  extension: null,
  provision: { method: 'okta_group', group: 'aws-admins' },
};

const billing: Role = {
  id: 'viewer',
  name: 'Viewer',
  policy: 'billing-viewer',
  sensitive: false,
  eligibleGroups: ['everyone'],
  duration: { defaultSeconds: 86400, maxSeconds: 7 * 86400 },
  justification: 'optional',
  approval: 'auto',
  extension: null,
  provision: {
    method: 'webhook',
    url: 'https://billing.example.com/hooks',
    secretEnv: 'BILLING_HOOK_SECRET',
    timeoutSeconds: 10,
  },
};

const laptop: Role = {
  id: 'local-admin',
  name: 'Local administrator',
  policy: 'laptop-local-admin',
  sensitive: false,
  eligibleGroups: ['everyone'],
  duration: { defaultSeconds: 4 * 3600, maxSeconds: 86400 },
  justification: 'optional',
  approval: 'auto',
  extension: null,
  provision: { method: 'manual', assigneeGroup: 'it-helpdesk' },
};

/** The example roles, for tests that need one without a whole catalog. */
export const EXAMPLE_ROLES = { owner, member, triage, awsAdmin, billing, laptop };

/** Emergency access for the SRE on call (Alan): at most 1 hour, reviewed by the security team within a day. */
export const ONCALL_BREAK_GLASS: Role['breakGlass'] = {
  maxSeconds: 3600,
  eligibleGroups: ['sre-oncall'],
  reviewWithinSeconds: 86_400,
  reviewers: { kind: 'group', group: 'security-team' },
};

/** An access review of the help desk's members (Ada, Ian, Priya), by their managers, the admins as fallback. */
export const HELPDESK_REVIEW: LoadedReview = {
  id: 'helpdesk',
  name: 'Help desk membership',
  schedule: null,
  scope: { roles: [], groups: ['it-helpdesk'] },
  reviewer: { kind: 'manager' },
  fallbackReviewer: { kind: 'group', group: 'access-admins' },
  dueSeconds: 7 * 86_400,
  remindersSeconds: [],
  undecided: 'keep',
  remediate: 'report',
  source: { file: 'policies/reviews/helpdesk.yml' },
};

export function examplePolicies(overrides: { owner?: Partial<Role> } = {}): LoadedPolicy[] {
  return [
    {
      app: 'github',
      name: 'GitHub',
      roles: [{ ...owner, ...overrides.owner }, member, triage],
      source: { file: 'github.yml' },
    },
    { app: 'aws', name: 'AWS', roles: [awsAdmin], source: { file: 'aws.yml' } },
    { app: 'billing', name: 'Billing', roles: [billing], source: { file: 'billing.yml' } },
    { app: 'laptop', name: 'Laptop', roles: [laptop], source: { file: 'laptop.yml' } },
  ];
}

export const SETTINGS: Settings = {
  adminGroup: 'access-admins',
  securityChannel: 'C0SECURITY',
  alertsChannel: 'C0ACCESSOPS',
  timezone: 'Europe/Berlin',
  sweepSchedule: '* * * * *',
  digestSchedule: '0 9 * * 1',
  reconcileSchedule: '0 * * * *',
  approvalTimeoutSeconds: 72 * 3600,
  remindersSeconds: [86400, 3600],
  approverRemindersSeconds: [],
  managerAttribute: 'managerId',
  auditSinks: [],
  auditCheckpoints: null,
  retentionSeconds: 90 * 86_400,
};

export interface Harness {
  deps: Deps;
  store: Store;
  directory: ControllableDirectory;
  /** The directory underneath, for changes made outside the bot (an admin editing Okta by hand). */
  yaml: Directory;
  clock: FakeClock;
  notifier: RecordingNotifier;
  webhook: FakeWebhook;
  dbPath: string;
  as(email: string): Promise<ActingPerson>;
  runJobs(): ReturnType<typeof runDueJobs>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  policies?: LoadedPolicy[];
  /** Access review definitions (none by default). */
  reviews?: LoadedReview[];
  dbPath?: string;
  /** Another store than a new SQLite file (PostgreSQL); the harness closes it. */
  store?: Store;
  directory?: Directory;
  /** The webhook provisioner's transport; default the recording fake (`h.webhook`). */
  webhook?: WebhookTransport;
  /** The notifier the operations use, made from the other parts (the Slack one); default the recording fake. */
  notifier?: (parts: NotifierParts) => Notifier;
  /** The test's clock, when something made before the harness shares it (a Slack stand-in). */
  clock?: FakeClock;
  /** The operations' log; default silent. */
  logger?: Logger;
  /** Settings that differ from `SETTINGS` (approver reminders, say). */
  settings?: Partial<Settings>;
}

export function createHarness(options: HarnessOptions = {}): Harness {
  const dir = options.dbPath || options.store ? undefined : mkdtempSync(join(tmpdir(), 'access-bot-'));
  const dbPath = options.dbPath ?? (dir ? join(dir, 'access.db') : '');
  const store = options.store ?? SqliteStore.open(dbPath);
  const yaml = options.directory ?? YamlDirectory.fromData(structuredClone(COMPANY), 'test-directory');
  const directory = new ControllableDirectory(yaml);
  const clock = options.clock ?? new FakeClock();
  const notifier = new RecordingNotifier();
  const webhook = new FakeWebhook();
  const parts: NotifierParts = {
    store,
    directory,
    catalog: new Catalog(options.policies ?? examplePolicies()),
    reviews: new ReviewCatalog(options.reviews ?? []),
    settings: { ...SETTINGS, ...options.settings },
    clock,
    logger: options.logger ?? silentLogger,
    provisioners: createProvisioners({ directory, env: {}, webhook: options.webhook ?? webhook }),
    exportFiles: csvExportFiles(),
  };
  const deps: Deps = { ...parts, notifier: options.notifier ? options.notifier(parts) : notifier };
  return {
    deps,
    store,
    directory,
    yaml,
    clock,
    notifier,
    webhook,
    dbPath,
    as: (email) => identifyByEmail(deps, email),
    runJobs: () =>
      runDueJobs(deps, {
        worker: 'test',
        baseDelaySeconds: 1,
        random: () => 0.999999,
      }) /* no jitter: the full exponential delay */,
    close: async () => {
      await store.close();
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
