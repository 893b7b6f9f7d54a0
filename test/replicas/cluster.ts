/**
 * Several replicas of the bot on one PostgreSQL database, behind a loopback load balancer: the
 * Slack stand-in and the Okta stand-in run here, each replica is a process of its own
 * (replica-process.ts). Tests drive it as Slack would, with signed requests to the balancer, and
 * read what happened from the stand-ins and from the database.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACTION, BLOCK, durationBlockId } from '../../blocks/ids.js';
import { PgStore } from '../../src/adapters/db/postgres/pg-store.js';
import type { Store } from '../../src/operations/ports.js';
import { SlackApiStandIn } from '../../src/sandbox/slack-api/slack-api-server.js';
import type { StoredMessage, StoredView } from '../../src/sandbox/slack-api/slack-workspace.js';
import { apiView } from '../../src/sandbox/slack-api/web-api-methods.js';
import { seedCompanyOrg } from '../okta/fixtures.js';
import { OktaStandIn } from '../okta/okta-stand-in.js';
import { findElement, initialValues, SECRET, TOKEN, USERS, type UserName } from '../slack/slack-fixture.js';
import { COMPANY } from '../support/lifecycle-harness.js';
import { createTestDatabase, type TestDatabase } from '../support/pg-test-db.js';
import {
  sendBlockAction,
  sendSlashCommand,
  sendViewSubmission,
  type SlackHttpResult,
  type SlackViewPayload,
} from '../support/slack-signing.js';
import { LoopbackBalancer } from './loopback-balancer.js';

const SETTINGS = `admin_group: access-admins
security_channel: C0SECURITY
alerts_channel: C0ACCESSOPS
timezone: UTC
sweep_schedule: "* * * * * *"
digest_schedule: "*/3 * * * * *"
reconcile_schedule: "0 0 1 1 *"
approval_timeout: 72h
reminders: [1h]
manager_attribute: managerId
`;

const GITHUB = `app: github
name: GitHub
roles:
  - id: owner
    name: Organization owner
    policy: github-owner-jit
    sensitive: true
    eligible_groups: [platform-team]
    duration: { default: 1h, max: 4h }
    justification: required
    approval:
      - manager
      - group: security-team
        min_approvals: 2
      - user: ciso@example.com
    extension: none
    provision:
      okta_group: github-owners
`;

const AWS = `app: aws
name: AWS
roles:
  - id: admin
    name: Administrator
    policy: aws-admin
    sensitive: true
    eligible_groups: [platform-team]
    duration: { default: 1h, max: 8h }
    justification: required
    approval:
      - manager
    extension: none
    provision:
      okta_group: aws-admins
`;

/** A schedule pass a replica reported: it ran the slot, or skipped it (and why). */
export interface ReportedPass {
  replica: number;
  name: string;
  status: 'ran' | 'failed' | 'skipped';
  reason?: string;
  slot?: string;
}

export interface Replica {
  index: number;
  child: ChildProcess;
  url: string | undefined;
  pid: number;
  output: () => string;
}

export class Cluster {
  readonly replicas: Replica[] = [];
  /** Every schedule pass every replica reported, in arrival order. */
  readonly passes: ReportedPass[] = [];
  slack!: SlackApiStandIn;
  okta!: OktaStandIn;
  /** The test's own view of the database (a fourth connection, never a replica). */
  store!: Store;
  balancer!: LoopbackBalancer;
  url!: string;
  database!: TestDatabase;
  private dir!: string;

  static async start(count: number, options: { lockSeconds?: number } = {}): Promise<Cluster> {
    const cluster = new Cluster();
    try {
      await cluster.boot(count, options.lockSeconds ?? 3);
    } catch (error) {
      await cluster.stop();
      throw error;
    }
    return cluster;
  }

  private async boot(count: number, lockSeconds: number): Promise<void> {
    this.database = await createTestDatabase();
    this.dir = mkdtempSync(join(tmpdir(), 'access-bot-replicas-'));
    writeFileSync(join(this.dir, 'settings.yml'), SETTINGS);
    writeFileSync(join(this.dir, 'github.yml'), GITHUB);
    writeFileSync(join(this.dir, 'aws.yml'), AWS);

    this.okta = new OktaStandIn({ searchLagMs: 0 });
    seedCompanyOrg(this.okta, COMPANY);
    const { url: oktaUrl } = await this.okta.start();
    this.slack = new SlackApiStandIn({ botTokens: [TOKEN] });
    for (const u of Object.values(USERS))
      this.slack.addUser({ id: u.id, email: u.email, name: u.email.split('@')[0]!, realName: u.name, tz: 'UTC' });
    for (const [id, name] of [
      ['C0SECURITY', 'security'],
      ['C0ACCESSOPS', 'access-ops'],
      ['C0GENERAL', 'general'],
    ] as const)
      this.slack.addChannel({ id, name });
    await this.slack.start();

    const env = {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      LOG_LEVEL: process.env.DEBUG_REPLICAS ? 'debug' : 'warn',
      DATABASE_URL: this.database.url,
      DATABASE_POOL_SIZE: '4',
      POLICIES_DIR: this.dir,
      SLACK_BOT_TOKEN: TOKEN,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_API_URL: this.slack.url,
      OKTA_ORG_URL: oktaUrl,
      OKTA_API_TOKEN: this.okta.token,
      REPLICA_LOCK_SECONDS: String(lockSeconds),
    };
    // Started together, as a deployment's pods are: they migrate once, under the lock.
    await Promise.all(Array.from({ length: count }, (_, index) => this.spawn(index, env)));
    this.store = await PgStore.open(this.database.url, { poolSize: 2 });
    this.balancer = new LoopbackBalancer(() => this.replicas.map((r) => r.url));
    this.url = await this.balancer.start();
  }

  private async spawn(index: number, env: Record<string, string>): Promise<void> {
    const child = fork(join(import.meta.dirname, 'replica-process.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...env, REPLICA_NAME: `replica${index}` },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    let output = '';
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => {
      output += d.toString();
      if (process.env.DEBUG_REPLICAS) process.stderr.write(`[replica${index}] ${d.toString()}`);
    });
    const replica: Replica = { index, child, url: undefined, pid: child.pid!, output: () => output };
    this.replicas[index] = replica;
    const ready = new Promise<{ port: number }>((resolve, reject) => {
      child.on('message', (m: { ready?: boolean; port?: number; pass?: Omit<ReportedPass, 'replica'> }) => {
        if (m.pass) this.passes.push({ replica: index, ...m.pass });
        if (m.ready) resolve({ port: m.port! });
      });
      child.once('exit', (code, signal) =>
        reject(new Error(`replica${index} exited (${code ?? signal}) before it was ready:\n${output}`)),
      );
    });
    const { port } = await ready;
    replica.url = `http://127.0.0.1:${port}`;
  }

  /** The events URL of the balancer: any replica, or replica `i`. */
  eventsUrl(replica?: number): string {
    return replica === undefined ? `${this.url}/slack/events` : `${this.url}/replica/${replica}/slack/events`;
  }

  /** Kills a replica at once (SIGKILL: no clean-up, its connections drop) and takes it out of the balancer. */
  async kill(index: number): Promise<void> {
    const replica = this.replicas[index]!;
    replica.url = undefined;
    if (replica.child.exitCode === null && replica.child.signalCode === null) {
      const exited = once(replica.child, 'exit');
      replica.child.kill('SIGKILL');
      await exited;
    }
  }

  /** The replica whose job lock a job is held under (its worker name is replica<i>). */
  replicaNamed(worker: string | null | undefined): Replica | undefined {
    const match = /^replica(\d+)/.exec(worker ?? '');
    return match ? this.replicas[Number(match[1])] : undefined;
  }

  // ---- Slack, as a person uses it ------------------------------------------------------------

  command(who: UserName, text: string, replica?: number): Promise<SlackHttpResult> {
    const user = USERS[who];
    return sendSlashCommand(this.eventsUrl(replica), SECRET, {
      userId: user.id,
      text,
      triggerId: this.slack.issueTriggerId(user.id),
    });
  }

  async waitModal(who: UserName, predicate: (view: StoredView) => boolean): Promise<SlackViewPayload> {
    const id = USERS[who].id;
    const ws = this.slack.workspace;
    const current = ws.currentModal(id);
    if (current && predicate(current)) return apiView(current, ws) as SlackViewPayload;
    const event = await this.slack.waitFor('view', (e) => e.view.userId === id && !e.view.closed && predicate(e.view), {
      timeoutMs: 20_000,
    });
    return apiView(event.view, ws) as SlackViewPayload;
  }

  submit(
    who: UserName,
    view: SlackViewPayload,
    values: Record<string, Record<string, unknown>>,
    replica?: number,
  ): Promise<SlackHttpResult> {
    const all = initialValues(view);
    for (const [blockId, actions] of Object.entries(values)) all[blockId] = { ...all[blockId], ...actions };
    return sendViewSubmission(this.eventsUrl(replica), SECRET, { userId: USERS[who].id, view, values: all });
  }

  click(who: UserName, message: StoredMessage, actionId: string, replica?: number): Promise<SlackHttpResult> {
    const user = USERS[who];
    const found = findElement(message, actionId);
    return sendBlockAction(this.eventsUrl(replica), SECRET, {
      userId: user.id,
      actionId,
      blockId: found?.blockId ?? 'actions',
      ...(found?.value !== undefined ? { value: found.value } : {}),
      action: { type: found?.type ?? 'button' },
      triggerId: this.slack.issueTriggerId(user.id),
      message: { channelId: message.channel, ts: message.ts, text: message.text, blocks: message.blocks },
    });
  }

  /** `/access request <app> <role>` on one replica, the form submitted on another: the request's id. */
  async request(
    who: UserName,
    app: string,
    role: string,
    justification: string,
    replicas: [number, number] = [0, 1],
  ): Promise<string> {
    const res = await this.command(who, `request ${app} ${role}`, replicas[0]);
    if (res.status !== 200) throw new Error(`the command answered ${res.status}`);
    // The form for this app and role (a person's earlier form may still be open in their Slack).
    const view = await this.waitModal(who, (v) =>
      JSON.stringify(v.definition.blocks).includes(durationBlockId(app, role)),
    );
    const submitted = await this.submit(
      who,
      view,
      {
        [BLOCK.justification]: { [ACTION.justification]: { type: 'plain_text_input', value: justification } },
        [durationBlockId(app, role)]: {
          [ACTION.duration]: { type: 'static_select', selected_option: { value: '3600' } },
        },
      },
      replicas[1],
    );
    if (submitted.status !== 200) throw new Error(`the submission answered ${submitted.status}`);
    const requests = await waitUntil(async () => {
      const found = await this.store.listRequests({ requesterId: USERS[who].directoryId, app, role, limit: 1 });
      return found[0];
    });
    return requests.id;
  }

  /** The bot's message to a person that carries this button, once it arrives. */
  askOf(who: UserName, requestId: string, actionId = ACTION.approve): Promise<StoredMessage> {
    const channel = this.slack.workspace.dmChannelId(USERS[who].id);
    const has = (m: StoredMessage) =>
      JSON.stringify(m.blocks).includes(requestId) && findElement(m, actionId) !== undefined;
    const now = this.slack.workspace.messages(channel).find(has);
    if (now) return Promise.resolve(now);
    return this.slack.waitFor(
      'message',
      (m) => m.channel === this.slack.workspace.dmChannelId(USERS[who].id) && has(m),
      { timeoutMs: 20_000 },
    );
  }

  ephemerals(who: UserName): StoredMessage[] {
    return this.slack.workspace.ephemeralsFor(USERS[who].id);
  }

  /** Stops every replica as a deployment does (SIGTERM: the passes in flight finish, leases are let go). */
  async stopReplicas(): Promise<void> {
    await Promise.all(
      this.replicas.map(async (replica) => {
        replica.url = undefined;
        if (replica.child.exitCode !== null || replica.child.signalCode !== null) return;
        const exited = once(replica.child, 'exit');
        replica.child.kill('SIGTERM');
        const timer = setTimeout(() => replica.child.kill('SIGKILL'), 5_000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }

  async stop(): Promise<void> {
    await this.stopReplicas();
    await this.balancer?.stop();
    await this.store?.close();
    this.okta?.releaseHolds();
    await this.okta?.stop();
    await this.slack?.stop();
    await this.database?.drop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Polls `probe` until it returns something (or true), for at most `timeoutMs`. */
export async function waitUntil<T>(
  probe: () => Promise<T | undefined | false>,
  timeoutMs = 20_000,
  what = 'the condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
