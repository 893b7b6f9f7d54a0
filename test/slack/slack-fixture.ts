/**
 * The bot as Slack meets it: the Slack API stand-in, the operations on a real SQLite file with the
 * YAML directory and the example policies, and the Bolt app on port 0 with its real HTTP receiver.
 * Tests drive it with signed requests and wait on the stand-in's events, never on sleeps.
 */
import { ACTION, BLOCK, durationBlockId } from '../../blocks/ids.js';
import {
  connectSlack,
  createSlackBot,
  slackNotifier,
  type SlackBot,
} from '../../src/adapters/slack/create-slack-app.js';
import { DisplayLookups } from '../../src/adapters/slack/display-lookups.js';
import { jsonLogger, silentLogger } from '../../src/adapters/log/json-logger.js';
import { SlackApiStandIn } from '../../src/sandbox/slack-api/slack-api-server.js';
import type { StoredMessage, StoredView } from '../../src/sandbox/slack-api/slack-workspace.js';
import { apiView } from '../../src/sandbox/slack-api/web-api-methods.js';
import type { LoadedPolicy, Settings } from '../../src/domain/policy.js';
import type { LoadedReview } from '../../src/domain/reviews/review-definition.js';
import type { Directory, Logger, Store } from '../../src/operations/ports.js';
import { createHarness, type Harness } from '../support/lifecycle-harness.js';
import { FakeClock } from '../support/fakes.js';
import {
  sendBlockAction,
  sendSlashCommand,
  sendViewSubmission,
  type SigningOptions,
  type SlackHttpResult,
  type SlackViewPayload,
} from '../support/slack-signing.js';

export const SECRET = 'e2e-signing-secret';
export const TOKEN = 'xoxb-e2e-token';

/** Slack users of the harness's company (lifecycle-harness COMPANY), by first name. */
export const USERS = {
  ada: { id: 'U0ADA', email: 'ada@example.com', name: 'Ada Lovelace', directoryId: 'u-ada' },
  alan: { id: 'U0ALAN', email: 'alan@example.com', name: 'Alan Turing', directoryId: 'u-alan' },
  marcus: { id: 'U0MARCUS', email: 'marcus@example.com', name: 'Marcus Chen', directoryId: 'u-marcus' },
  sam: { id: 'U0SAM', email: 'sam@example.com', name: 'Sam Rivera', directoryId: 'u-sam' },
  jordan: { id: 'U0JORDAN', email: 'jordan@example.com', name: 'Jordan Lee', directoryId: 'u-jordan' },
  kim: { id: 'U0KIM', email: 'kim@example.com', name: 'Kim Nguyen', directoryId: 'u-kim' },
  grace: { id: 'U0GRACE', email: 'ciso@example.com', name: 'Grace Hopper', directoryId: 'u-grace' },
  priya: { id: 'U0PRIYA', email: 'priya@example.com', name: 'Priya Patel', directoryId: 'u-priya' },
  ian: { id: 'U0IAN', email: 'ian@example.com', name: 'Ian Murdock', directoryId: 'u-ian' },
  /** Left the company: deprovisioned in the directory, still in Slack for a while. */
  dave: { id: 'U0DAVE', email: 'dave@example.com', name: 'Dave Stone', directoryId: 'u-dave' },
} as const;
export type UserName = keyof typeof USERS;

export interface SlackFixture {
  slack: SlackApiStandIn;
  h: Harness;
  bot: SlackBot;
  url: string;
  /** `/access <text>` by a person, with a fresh trigger id. */
  command(who: UserName, text: string, signing?: SigningOptions & { teamId?: string }): Promise<SlackHttpResult>;
  /** The modal on top of the person's stack, as Slack would send it back in a payload. */
  modal(who: UserName): SlackViewPayload;
  /** Waits until the person's top modal satisfies the predicate (e.g. the role list arrived). */
  waitModal(who: UserName, predicate: (view: StoredView) => boolean): Promise<SlackViewPayload>;
  submit(
    who: UserName,
    values: Record<string, Record<string, unknown>>,
    options?: { view?: SlackViewPayload; teamId?: string },
  ): Promise<SlackHttpResult>;
  /** A click on a button (or a select) in a message. */
  click(
    who: UserName,
    message: StoredMessage,
    actionId: string,
    action?: Record<string, unknown>,
    options?: { teamId?: string },
  ): Promise<SlackHttpResult>;
  /** A click on a select inside the person's open modal. */
  pick(who: UserName, actionId: string, blockId: string, value: string): Promise<SlackHttpResult>;
  /** The bot's DMs with a person, oldest first. */
  dms(who: UserName): StoredMessage[];
  channel(id: string): StoredMessage[];
  ephemerals(who: UserName): StoredMessage[];
  /**
   * `/access request <app> <role>`, then the form submitted with these values; returns the HTTP answer of the
   * submission.
   */
  requestViaModal(
    who: UserName,
    app: string,
    role: string,
    input: { seconds?: number; justification?: string },
  ): Promise<SlackHttpResult>;
  /** The DM channel id of a person. */
  dm(who: UserName): string;
  /** Runs every due job and waits for the pump: for assertions on the database. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

/**
 * Slack and the bot share the test's clock: Slack's rate limits (on, with Slack's windows) and
 * trigger ids count in the time the test moves, and the bot waits out a short Retry-After by
 * moving that clock, never by sleeping.
 */
export interface LogLine {
  level: string;
  msg: string;
  fields?: Record<string, unknown>;
}

export async function startSlackFixture(
  options: {
    policies?: LoadedPolicy[];
    /** Access review definitions (none by default). */
    reviews?: LoadedReview[];
    directory?: Directory;
    /** Channels that are private with the bot not invited (channel_not_found). */
    privateChannels?: string[];
    /** Collects the bot's log lines. */
    logger?: { lines: LogLine[] };
    /** How long listeners may work before acking (default: the bot's 2,500 ms). */
    ackBudgetMs?: number;
    /** Settings that differ from the harness's. */
    settings?: Partial<Settings>;
    /** Another store than a new SQLite file (one that counts its reads); the fixture closes it. */
    store?: Store;
  } = {},
): Promise<SlackFixture> {
  // The stand-in, the bot and the operations share one clock: the harness's, made first.
  const clock = new FakeClock();
  const slack = new SlackApiStandIn({ botTokens: [TOKEN], clock: () => clock.now().getTime() });
  for (const u of Object.values(USERS))
    slack.addUser({ id: u.id, email: u.email, name: u.email.split('@')[0]!, realName: u.name, tz: 'Europe/Berlin' });
  const channels = [
    ['C0SECURITY', 'security'],
    ['C0ACCESSOPS', 'access-ops'],
    ['C0GENERAL', 'general'],
  ] as const;
  for (const [id, name] of channels) {
    const hidden = options.privateChannels?.includes(id) ? { isPrivate: true, botIsMember: false } : {};
    slack.addChannel({ id, name, ...hidden });
  }
  await slack.start();
  // One log for the Bolt app and the operations, as in production.
  // DEBUG_SLACK=1 shows the bot's log while a test is being written.
  const botLogger = options.logger
    ? recordingLogger(options.logger.lines)
    : process.env.DEBUG_SLACK
      ? jsonLogger({ level: 'debug' })
      : silentLogger;
  let connection;
  try {
    connection = await connectSlack({
      token: TOKEN,
      signingSecret: SECRET,
      port: 0,
      apiUrl: slack.url,
      logger: botLogger,
      timeoutMs: 5000,
      clock,
      rateLimitSleep: async (ms) => clock.advance(ms / 1000),
    });
  } catch (error) {
    await slack.stop();
    throw error;
  }
  const connected = connection;
  let display!: DisplayLookups;
  const h = createHarness({
    ...(options.policies ? { policies: options.policies } : {}),
    ...(options.reviews ? { reviews: options.reviews } : {}),
    ...(options.directory ? { directory: options.directory } : {}),
    ...(options.settings ? { settings: options.settings } : {}),
    ...(options.store ? { store: options.store } : {}),
    clock,
    logger: botLogger,
    notifier: (parts) => {
      display = new DisplayLookups(parts, connected.gate);
      return slackNotifier(connected, parts, display);
    },
  });
  const bot: SlackBot = await createSlackBot(connection, {
    deps: h.deps,
    display,
    jobs: { worker: 'slack-e2e', baseDelaySeconds: 1, random: () => 0.999999 },
    ...(options.ackBudgetMs !== undefined ? { ackBudgetMs: options.ackBudgetMs } : {}),
  });
  const port = await bot.start();
  const url = `http://127.0.0.1:${port}`;
  const ws = slack.workspace;
  const payloadOf = (view: StoredView) => apiView(view, ws) as SlackViewPayload;

  const fixture: SlackFixture = {
    slack,
    h,
    bot,
    url,
    command: (who, text, signing = {}) => {
      const user = USERS[who];
      return sendSlashCommand(
        url,
        SECRET,
        {
          userId: user.id,
          text,
          triggerId: slack.issueTriggerId(user.id),
          ...(signing.teamId ? { teamId: signing.teamId } : {}),
        },
        signing,
      );
    },
    modal: (who) => {
      const view = ws.currentModal(USERS[who].id);
      if (!view) throw new Error(`${who} has no modal open`);
      return payloadOf(view);
    },
    waitModal: async (who, predicate) => {
      const id = USERS[who].id;
      const current = ws.currentModal(id);
      if (current && predicate(current)) return payloadOf(current);
      const event = await slack.waitFor('view', (e) => e.view.userId === id && !e.view.closed && predicate(e.view));
      return payloadOf(event.view);
    },
    submit: (who, values, opts = {}) => {
      const user = USERS[who];
      const view = opts.view ?? fixture.modal(who);
      // Slack submits what the inputs show, initial options included; the stand-in keeps only what was typed.
      const all = initialValues(view);
      for (const [blockId, actions] of Object.entries(values)) all[blockId] = { ...all[blockId], ...actions };
      return sendViewSubmission(url, SECRET, {
        userId: user.id,
        view,
        values: all,
        ...(opts.teamId ? { teamId: opts.teamId } : {}),
      });
    },
    click: (who, message, actionId, action = {}, opts = {}) => {
      const user = USERS[who];
      const found = findElement(message, actionId);
      return sendBlockAction(url, SECRET, {
        userId: user.id,
        actionId,
        blockId: found?.blockId ?? 'actions',
        ...(found?.value !== undefined ? { value: found.value } : {}),
        action: { type: found?.type ?? 'button', ...action },
        triggerId: slack.issueTriggerId(user.id),
        message: { channelId: message.channel, ts: message.ts, text: message.text, blocks: message.blocks },
        ...(opts.teamId ? { teamId: opts.teamId } : {}),
      });
    },
    pick: (who, actionId, blockId, value) => {
      const user = USERS[who];
      const view = fixture.modal(who);
      ws.setViewState(view.id, blockId, actionId, { type: 'static_select', selected_option: { value } });
      return sendBlockAction(url, SECRET, {
        userId: user.id,
        actionId,
        blockId,
        action: { type: 'static_select', selected_option: { text: { type: 'plain_text', text: value }, value } },
        triggerId: slack.issueTriggerId(user.id),
        view: fixture.modal(who),
      });
    },
    requestViaModal: async (who, app, role, input) => {
      const res = await fixture.command(who, `request ${app} ${role}`);
      if (res.status !== 200) throw new Error(`the command answered ${res.status}`);
      const view = await fixture.waitModal(who, (v) => JSON.stringify(v.definition.blocks).includes(ACTION.duration));
      const values: Record<string, Record<string, unknown>> = {
        [BLOCK.justification]: {
          [ACTION.justification]: { type: 'plain_text_input', value: input.justification ?? '' },
        },
      };
      if (input.seconds !== undefined)
        values[durationBlockId(app, role)] = {
          [ACTION.duration]: { type: 'static_select', selected_option: { value: String(input.seconds) } },
        };
      return fixture.submit(who, values, { view });
    },
    dm: (who) => ws.dmChannelId(USERS[who].id),
    dms: (who) => ws.dmMessages(USERS[who].id),
    channel: (id) => ws.messages(id),
    ephemerals: (who) => ws.ephemeralsFor(USERS[who].id),
    settle: async () => {
      await bot.jobs.idle();
      await h.runJobs();
      await bot.jobs.idle();
    },
    close: async () => {
      await bot.stop();
      await slack.stop();
      await h.close();
    },
  };
  return fixture;
}

function recordingLogger(lines: LogLine[]): Logger {
  const at = (level: string) => (msg: string, fields?: Record<string, unknown>) =>
    void lines.push({ level, msg, ...(fields ? { fields } : {}) });
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** `state.values` as Slack fills it from the inputs' initial options and values. */
export function initialValues(view: SlackViewPayload): Record<string, Record<string, unknown>> {
  const values: Record<string, Record<string, unknown>> = {};
  for (const block of (view.blocks ?? []) as { type: string; block_id?: string; element?: Record<string, unknown> }[]) {
    if (block.type !== 'input' || !block.block_id || !block.element) continue;
    const e = block.element as { type: string; action_id: string; initial_option?: unknown; initial_value?: string };
    if (e.initial_option)
      values[block.block_id] = { [e.action_id]: { type: e.type, selected_option: e.initial_option } };
    else if (e.type === 'plain_text_input')
      values[block.block_id] = { [e.action_id]: { type: e.type, value: e.initial_value ?? null } };
  }
  return values;
}

interface FoundElement {
  blockId: string;
  type: string;
  value?: string;
}

/** The element with this action id in a message's blocks (and its block id and value). */
export function findElement(message: StoredMessage, actionId: string): FoundElement | undefined {
  for (const block of message.blocks as {
    block_id?: string;
    elements?: Record<string, unknown>[];
    accessory?: Record<string, unknown>;
  }[]) {
    for (const element of [...(block.elements ?? []), ...(block.accessory ? [block.accessory] : [])]) {
      if (element.action_id === actionId) {
        return {
          blockId: block.block_id ?? 'actions',
          type: String(element.type),
          ...(typeof element.value === 'string' ? { value: element.value } : {}),
        };
      }
    }
  }
  return undefined;
}

/** All the text a message shows (blocks flattened), for assertions. */
export function textOf(message: StoredMessage | { blocks: unknown[] }): string {
  return JSON.stringify(message.blocks);
}

export function hasAction(message: StoredMessage, actionId: string): boolean {
  return findElement(message, actionId) !== undefined;
}
