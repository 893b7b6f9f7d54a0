/**
 * How many Okta calls one request costs, from `/access request` to revocation, for each policy
 * shape, measured from outside: the real Bolt app over signed HTTP against the Slack stand-in, the
 * real OktaDirectory (SDK, gate) against the Okta stand-in, every Okta request recorded.
 *
 *   node --import tsx bench/okta-calls-bench.ts            # the table
 *   node --import tsx bench/okta-calls-bench.ts --json     # the counts as JSON
 *
 * Each shape runs one request (4 hours) through submit (the modal and its submission), approval,
 * provisioning, extension (three hours later, the reminder's Extend button, its modal, and its
 * approval when the policy asks for one) and revocation (expiry). Everyone has used the bot before
 * (their Slack user is matched to the directory) and the bot knows the groups' ids (as after
 * start-up); a person's first contact costs one search instead of one read. The minimum per
 * step, and why, is in the README ("Okta
 * calls per request").
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACTION, BLOCK, durationBlockId } from '../blocks/ids.js';
import { SqliteStore } from '../src/adapters/db/sqlite-store.js';
import { silentLogger } from '../src/adapters/log/json-logger.js';
import { OktaDirectory } from '../src/adapters/okta/okta-directory.js';
import { connectSlack, createSlackBot, slackNotifier, type SlackBot } from '../src/adapters/slack/create-slack-app.js';
import { DisplayLookups } from '../src/adapters/slack/display-lookups.js';
import { csvExportFiles } from '../src/adapters/csv/export-csv.js';
import { createProvisioners } from '../src/adapters/provisioners/provisioners.js';
import { Catalog } from '../src/domain/catalog.js';
import { ReviewCatalog } from '../src/domain/reviews/review-definition.js';
import type { LoadedPolicy, Role } from '../src/domain/policy.js';
import type { Deps } from '../src/operations/context.js';
import { runDueJobs } from '../src/operations/run-jobs.js';
import { sweep } from '../src/operations/sweep.js';
import { SlackApiStandIn } from '../src/sandbox/slack-api/slack-api-server.js';
import type { StoredMessage, StoredView } from '../src/sandbox/slack-api/slack-workspace.js';
import { apiView } from '../src/sandbox/slack-api/web-api-methods.js';
import { OktaStandIn, type RecordedRequest } from '../test/okta/okta-stand-in.js';
import { initialValues } from '../test/slack/slack-fixture.js';
import { COMPANY, SETTINGS } from '../test/support/lifecycle-harness.js';
import { FakeClock, FakeWebhook } from '../test/support/fakes.js';
import {
  sendBlockAction,
  sendSlashCommand,
  sendViewSubmission,
  type SlackViewPayload,
} from '../test/support/slack-signing.js';

const SECRET = 'bench-secret';
const TOKEN = 'xoxb-bench';
const STEPS = ['submit', 'approval', 'provisioning', 'extension', 'revocation'] as const;
type Step = (typeof STEPS)[number];
type ShapeName = 'auto' | 'manager' | 'manager + 2-of-N group (notify:)' | 'webhook' | 'manual';

/**
 * The fewest Okta calls each step needs without reading stale data for a decision (see README,
 * "Okta calls per request"). P = a person read (GET /users/{id}), G = a person's groups
 * (GET /users/{id}/groups), M = a group's members, W = a membership write.
 */
const MINIMUM: Record<ShapeName, Record<Step, number>> = {
  // modal P+G; submission P+G (auto-approval decides: live); G, W, G; Extend P, then P+G; W, G.
  auto: { submit: 4, approval: 0, provisioning: 3, extension: 3, revocation: 2 },
  // modal P+G; submission P (live) + the manager's P (the modal's G serves: every step re-checks);
  // approval: approver P, requester P+G; extension: Extend P, submission P+G+manager P, approval 3.
  manager: { submit: 4, approval: 3, provisioning: 3, extension: 7, revocation: 2 },
  // as manager, plus M of the group (the whole chain must be satisfiable at submission); approval:
  // the manager's 3, M as step 2 starts, two group approvals of 3 each.
  'manager + 2-of-N group (notify:)': { submit: 5, approval: 10, provisioning: 3, extension: 15, revocation: 2 },
  webhook: { submit: 4, approval: 0, provisioning: 0, extension: 3, revocation: 0 },
  // the task goes to the assignee group (M); Done: the assignee's P and G.
  manual: { submit: 4, approval: 0, provisioning: 3, extension: 3, revocation: 3 },
};

const base = {
  sensitive: true,
  eligibleGroups: ['everyone'],
  duration: { defaultSeconds: 3600, maxSeconds: 4 * 3600 },
  justification: 'optional' as const,
};
const SHAPES: Record<ShapeName, Role> = {
  auto: {
    ...base,
    id: 'auto',
    name: 'Auto',
    policy: 'bench-auto',
    approval: 'auto',
    extension: { maxTotalSeconds: 8 * 3600, approval: 'auto' },
    provision: { method: 'okta_group', group: 'bench-auto' },
  },
  manager: {
    ...base,
    id: 'manager',
    name: 'Manager',
    policy: 'bench-manager',
    approval: [{ kind: 'manager' }],
    extension: { maxTotalSeconds: 8 * 3600, approval: 'same' },
    provision: { method: 'okta_group', group: 'bench-manager' },
  },
  'manager + 2-of-N group (notify:)': {
    ...base,
    id: 'chain',
    name: 'Chain',
    policy: 'bench-chain',
    approval: [{ kind: 'manager' }, { kind: 'group', group: 'security-team', minApprovals: 2, notify: 'C0SECURITY' }],
    extension: { maxTotalSeconds: 8 * 3600, approval: 'same' },
    provision: { method: 'okta_group', group: 'bench-chain' },
  },
  webhook: {
    ...base,
    id: 'webhook',
    name: 'Webhook',
    policy: 'bench-webhook',
    approval: 'auto',
    extension: { maxTotalSeconds: 8 * 3600, approval: 'auto' },
    provision: {
      method: 'webhook',
      url: 'https://hooks.example.com/bench',
      secretEnv: 'BENCH_SECRET',
      timeoutSeconds: 10,
    },
  },
  manual: {
    ...base,
    id: 'manual',
    name: 'Manual',
    policy: 'bench-manual',
    approval: 'auto',
    extension: { maxTotalSeconds: 8 * 3600, approval: 'auto' },
    provision: { method: 'manual', assigneeGroup: 'it-helpdesk' },
  },
};

const slackIdOf = (email: string) => `U0${email.split('@')[0]!.toUpperCase()}`;

/** GET /api/v1/users/00u1/groups -> "GET /users/{id}/groups"; list queries keep their kind. */
function endpoint(r: RecordedRequest): string {
  const parts = r.path.replace(/^\/api\/v1\//, '').split('/');
  const shape = parts.map((p, i) => (i % 2 === 1 ? '{id}' : p)).join('/');
  const kind = r.query.search !== undefined ? '?search' : r.query.q !== undefined ? '?q' : '';
  return `${r.method} /${shape}${kind}`;
}

interface ShapeResult {
  shape: ShapeName;
  steps: Record<Step, { total: number; byEndpoint: Record<string, number> }>;
}

async function runShape(shape: ShapeName): Promise<ShapeResult> {
  const role = SHAPES[shape];
  const okta = new OktaStandIn({ searchLagMs: 0 } as ConstructorParameters<typeof OktaStandIn>[0]);
  const gid = (name: string) => `00g${name.replace(/[^a-z0-9]/g, '')}`;
  for (const p of COMPANY.people) {
    const [firstName, ...rest] = p.name.split(' ');
    const { status, manager } = p as { status?: string; manager?: string };
    okta.addUser({
      id: p.id,
      email: p.email,
      firstName,
      lastName: rest.join(' '),
      title: p.title,
      status: status === 'deprovisioned' ? 'DEPROVISIONED' : 'ACTIVE',
      profile: { managerId: manager ?? null },
    });
  }
  const groups: Record<string, { members: string[] }> = {
    ...COMPANY.groups,
    'bench-auto': { members: [] },
    'bench-manager': { members: [] },
    'bench-chain': { members: [] },
  };
  for (const [name, g] of Object.entries(groups)) {
    okta.addGroup({ id: gid(name), name });
    for (const email of g.members) okta.addMember(gid(name), COMPANY.people.find((p) => p.email === email)!.id);
  }
  const { url: orgUrl } = await okta.start();

  const dir = mkdtempSync(join(tmpdir(), 'okta-calls-'));
  const store = SqliteStore.open(join(dir, 'bench.db'));
  const clock = new FakeClock();
  const auth = { mode: 'token' as const, token: okta.token };
  const directory = new OktaDirectory({ orgUrl, auth, managerAttribute: 'managerId' });
  const policies: LoadedPolicy[] = [{ app: 'bench', name: 'Bench', roles: [role], source: { file: 'bench.yml' } }];
  const parts = {
    store,
    directory,
    catalog: new Catalog(policies),
    reviews: new ReviewCatalog(),
    settings: SETTINGS,
    clock,
    logger: silentLogger,
    provisioners: createProvisioners({ directory, env: {}, webhook: new FakeWebhook() }),
    exportFiles: csvExportFiles(),
  };
  // Everyone has used the bot before: their Slack user is matched to the directory.
  await store.transaction(async (tx) => {
    const boundAt = clock.now().toISOString();
    for (const p of COMPANY.people) {
      await tx.bindIdentity({ slackUserId: slackIdOf(p.email), directoryId: p.id, email: p.email, boundAt });
    }
  });
  // The bot knows the groups' ids, as after its start-up check.
  for (const name of Object.keys(groups)) await directory.findGroup(name);

  const slack = new SlackApiStandIn({ botTokens: [TOKEN], clock: () => clock.now().getTime() });
  for (const p of COMPANY.people) {
    const name = p.email.split('@')[0]!;
    slack.addUser({ id: slackIdOf(p.email), email: p.email, name, realName: p.name, tz: 'UTC' });
  }
  const channels = [
    ['C0SECURITY', 'security'],
    ['C0ACCESSOPS', 'access-ops'],
    ['C0GENERAL', 'general'],
  ] as const;
  for (const [id, name] of channels) {
    slack.addChannel({ id, name });
  }
  await slack.start();
  const jobs = { worker: 'bench', baseDelaySeconds: 1, random: () => 0.999999, kinds: ['notify' as const] };
  const connection = await connectSlack({
    token: TOKEN,
    signingSecret: SECRET,
    port: 0,
    apiUrl: slack.url,
    logger: silentLogger,
    timeoutMs: 5000,
    clock,
    rateLimitSleep: async (ms: number) => clock.advance(ms / 1000),
  });
  const display = new DisplayLookups(parts, connection.gate);
  const deps: Deps = { ...parts, notifier: slackNotifier(connection, parts, display) };
  const bot: SlackBot = await createSlackBot(connection, { deps, display, jobs });
  const botUrl = `http://127.0.0.1:${await bot.start()}`;
  const ws = slack.workspace;

  /** Waits until the bot is quiet: its pump idle, its messages sent, nothing new for a moment. */
  const settle = async () => {
    for (let quiet = 0; quiet < 3;) {
      const before = okta.requests.length + ws.calls().length;
      await bot.jobs.idle();
      await runDueJobs(deps, jobs);
      await new Promise((resolve) => setTimeout(resolve, 60));
      quiet = okta.requests.length + ws.calls().length === before ? quiet + 1 : 0;
    }
  };
  const runEffects = async (kind: 'provision' | 'revoke') => {
    await runDueJobs(deps, { ...jobs, kinds: [kind] });
    await settle();
  };
  const payloadOf = (view: StoredView) => apiView(view, ws) as SlackViewPayload;
  const waitModal = async (userId: string, predicate: (v: StoredView) => boolean) => {
    const current = ws.currentModal(userId);
    if (current && predicate(current)) return payloadOf(current);
    const matching = (e: { view: StoredView }) => e.view.userId === userId && !e.view.closed && predicate(e.view);
    return payloadOf((await slack.waitFor('view', matching, { timeoutMs: 10_000 })).view);
  };
  const click = async (email: string, message: StoredMessage, actionId: string) => {
    const userId = slackIdOf(email);
    type Element = { action_id?: string; value?: string };
    const found = (message.blocks as { block_id?: string; elements?: Element[]; accessory?: Element }[])
      .flatMap((b) =>
        [...(b.elements ?? []), ...(b.accessory ? [b.accessory] : [])].map((e) => ({
          e,
          blockId: b.block_id ?? 'actions',
        })),
      )
      .find(({ e }) => e.action_id === actionId);
    if (!found) throw new Error(`no ${actionId} in the message`);
    await sendBlockAction(botUrl, SECRET, {
      userId,
      actionId,
      blockId: found.blockId,
      ...(found.e.value !== undefined ? { value: found.e.value } : {}),
      action: { type: 'button' },
      triggerId: slack.issueTriggerId(userId),
      message: { channelId: message.channel, ts: message.ts, text: message.text, blocks: message.blocks },
    });
    await settle();
  };
  const withAction = (channel: string, actionId: string) => () =>
    ws
      .messages(channel)
      .filter((m) => JSON.stringify(m.blocks).includes(actionId))
      .at(-1);
  const dm = (email: string) => ws.dmChannelId(slackIdOf(email));
  const approveOpenSteps = async () => {
    // Whoever the open step asks, in order: the manager in his DM, then two of security-team in #security.
    for (let guard = 0; guard < 6; guard++) {
      const request = (await store.listRequests({ status: ['pending_approval'], limit: 10 }))[0];
      if (!request) return;
      const step = (await store.getSteps(request.id)).find((s) => s.index === request.currentStep)!;
      const decided = new Set((await store.getDecisions(request.id)).map((d) => d.approver.directoryId));
      const requester = request.requester.directoryId;
      const approver = step.approvers.find((a) => !decided.has(a.directoryId) && a.directoryId !== requester);
      if (!approver) throw new Error(`nobody left to approve step ${step.index + 1}`);
      const where = step.notifyChannel ?? dm(approver.email);
      const message = withAction(where, ACTION.approve)();
      if (!message) throw new Error(`no approval message in ${where}`);
      await click(approver.email, message, ACTION.approve);
    }
  };

  const mark = () => okta.requests.length;
  const counts = {} as ShapeResult['steps'];
  const record = (step: Step, from: number) => {
    const byEndpoint: Record<string, number> = {};
    for (const r of okta.requests.slice(from)) byEndpoint[endpoint(r)] = (byEndpoint[endpoint(r)] ?? 0) + 1;
    counts[step] = { total: okta.requests.length - from, byEndpoint };
  };
  const ada = 'ada@example.com';

  try {
    // ---- submit: the modal, then its submission
    let m = mark();
    const adaId = slackIdOf(ada);
    const command = { userId: adaId, text: `request bench ${role.id}`, triggerId: slack.issueTriggerId(adaId) };
    await sendSlashCommand(botUrl, SECRET, command);
    const form = await waitModal(slackIdOf(ada), (v) => JSON.stringify(v.definition.blocks).includes(ACTION.duration));
    await settle();
    const submitted = await sendViewSubmission(botUrl, SECRET, {
      userId: slackIdOf(ada),
      view: form,
      values: {
        ...initialValues(form),
        [durationBlockId('bench', role.id)]: {
          [ACTION.duration]: { type: 'static_select', selected_option: { value: String(4 * 3600) } },
        },
        [BLOCK.justification]: { [ACTION.justification]: { type: 'plain_text_input', value: 'bench' } },
      },
    });
    if (!(await store.listRequests({ limit: 1 }))[0])
      throw new Error(`the request was not submitted: ${submitted.body}`);
    await settle();
    record('submit', m);

    // ---- approval
    m = mark();
    await approveOpenSteps();
    record('approval', m);

    // ---- provisioning (a manual task: the helpdesk's Done)
    m = mark();
    await runEffects('provision');
    if (role.provision.method === 'manual') {
      const task = withAction(dm('ian@example.com'), ACTION.taskDone)();
      if (!task) throw new Error('no task for ian');
      await click('ian@example.com', task, ACTION.taskDone);
    }
    record('provisioning', m);
    const grant = (await store.listGrants({ holderId: 'u-ada', limit: 1 }))[0];
    if (grant?.status !== 'active') throw new Error(`the grant is ${grant?.status ?? 'missing'} after provisioning`);

    // ---- extension: three hours on, the reminder's Extend…, the offer, its approval when the policy asks
    clock.advance(3 * 3600);
    await sweep(deps, { ...jobs, kinds: ['notify'] });
    await settle();
    m = mark();
    const reminder = withAction(dm(ada), ACTION.extendGrant)();
    if (!reminder) {
      throw new Error(
        `no reminder with Extend in the DM: ${ws
          .messages(dm(ada))
          .map((x) => x.text)
          .join(' | ')}`,
      );
    }
    await click(ada, reminder, ACTION.extendGrant);
    const offer = await waitModal(slackIdOf(ada), (v) => v.callbackId === 'access_extend');
    await sendViewSubmission(botUrl, SECRET, {
      userId: slackIdOf(ada),
      view: offer,
      values: {
        ...initialValues(offer),
        [BLOCK.extendBy]: { [ACTION.extendBy]: { type: 'static_select', selected_option: { value: '3600' } } },
        [BLOCK.justification]: { [ACTION.justification]: { type: 'plain_text_input', value: 'bench' } },
      },
    });
    await settle();
    await approveOpenSteps();
    record('extension', m);

    // ---- revocation: it expires; the sweep starts it and the job removes it (or the task is done)
    m = mark();
    clock.advance(3 * 3600);
    await sweep(deps, { ...jobs, kinds: ['notify'] });
    await runEffects('revoke');
    if (role.provision.method === 'manual') {
      const tasks = withAction(dm('ian@example.com'), ACTION.taskDone);
      const task = tasks();
      if (!task) throw new Error('no revoke task for ian');
      await click('ian@example.com', task, ACTION.taskDone);
    }
    record('revocation', m);
    const ended = (await store.getGrant(grant.id))!;
    if (ended.status !== 'revoked') throw new Error(`the grant is ${ended.status} after revocation`);
  } finally {
    await bot.stop();
    await slack.stop();
    await okta.stop();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { shape, steps: counts };
}

const results: ShapeResult[] = [];
for (const shape of Object.keys(SHAPES) as ShapeName[]) results.push(await runShape(shape));

if (process.argv.includes('--json')) {
  console.log(JSON.stringify(results, null, 2));
} else {
  const pad = (s: string | number, n: number) => String(s).padEnd(n);
  for (const r of results) {
    const total = STEPS.reduce((n, s) => n + r.steps[s].total, 0);
    const min = STEPS.reduce((n, s) => n + MINIMUM[r.shape][s], 0);
    console.log(`\n${r.shape}: ${total} Okta calls, minimum ${min}, ratio ${(total / min).toFixed(2)}`);
    console.log(`  ${pad('step', 14)}${pad('calls', 7)}${pad('min', 5)}by endpoint`);
    for (const step of STEPS) {
      const s = r.steps[step];
      const sorted = Object.entries(s.byEndpoint).sort((a, b) => b[1] - a[1]);
      const by = sorted.map(([e, n]) => `${e} ${n}`).join(', ') || '-';
      console.log(`  ${pad(step, 14)}${pad(s.total, 7)}${pad(MINIMUM[r.shape][step], 5)}${by}`);
    }
  }
  console.log('\nshape'.padEnd(38) + 'calls  min  ratio');
  for (const r of results) {
    const total = STEPS.reduce((n, s) => n + r.steps[s].total, 0);
    const min = STEPS.reduce((n, s) => n + MINIMUM[r.shape][s], 0);
    console.log(`${pad(r.shape, 37)}${pad(total, 7)}${pad(min, 5)}${(total / min).toFixed(2)}`);
  }
}
