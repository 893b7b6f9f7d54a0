/**
 * The Bolt app over the HTTP receiver (`POST /slack/events`), wired to the operations.
 *
 * - Start-up: `deferInitialization` + `app.init()` inside try/catch, so a bad token or an
 *   unreachable Slack gives a clear SlackStartupError instead of Node's crash on the unhandled
 *   rejection Bolt's constructor would leave (TECH-NOTES §1).
 * - The WebClient never retries (`retries: 0`, 429s rejected): the job runner is the one place
 *   that retries, with backoff, and logs.
 * - Acks: `processBeforeResponse` stays false; listeners call the operation first (the decision is
 *   committed) and ack after, with a timer that acks at the budget if the directory is slow.
 * - Requests from another workspace (team id ≠ auth.test's) are refused before any listener runs.
 * - Socket Mode when an app-level token is given: the same listeners over an outbound WebSocket,
 *   with `/healthz` still served over HTTP on the given port.
 */
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CustomRoute, Logger as BoltLogger } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import type { Deps } from '../../operations/context.js';
import type { Clock, Logger } from '../../operations/ports.js';
import type { JobRunnerOptions } from '../../operations/run-jobs.js';
import { FOREIGN_WORKSPACE_TEXT, type SlackContext } from './context.js';
import { App, HTTPReceiver, LogLevel } from './bolt.js';
import type { DisplayLookups } from './display-lookups.js';
import { JobPump } from './job-pump.js';
import { ListenerRouter } from './listener-router.js';
import * as accessCommand from './listeners/commands/access.js';
import * as approveAction from './listeners/actions/approve.js';
import * as cancelAction from './listeners/actions/cancel.js';
import * as denyAction from './listeners/actions/deny.js';
import * as grantButtons from './listeners/actions/grant-buttons.js';
import * as homeActions from './listeners/actions/home.js';
import * as requestFormActions from './listeners/actions/request-form.js';
import * as revokeFormActions from './listeners/actions/revoke-form.js';
import * as reviewActions from './listeners/actions/review.js';
import * as taskDoneAction from './listeners/actions/task-done.js';
import * as appHomeEvent from './listeners/events/app-home.js';
import * as breakGlassActions from './listeners/actions/break-glass.js';
import * as delegationActions from './listeners/actions/delegation.js';
import * as breakGlassViews from './listeners/views/break-glass.js';
import * as delegateView from './listeners/views/delegate.js';
import * as appOptions from './listeners/options/apps.js';
import * as approveShorterView from './listeners/views/approve-shorter.js';
import * as denyReasonView from './listeners/views/deny-reason.js';
import * as exportView from './listeners/views/export.js';
import * as extendView from './listeners/views/extend.js';
import * as requestView from './listeners/views/request-submitted.js';
import * as revokeView from './listeners/views/revoke.js';
import * as reviewRevokeView from './listeners/views/review-revoke.js';
import { checkConfiguredChannels } from './channel-check.js';
import { foreignTeam } from './payloads.js';
import { SlackCallGate } from './slack-call-gate.js';
import { slackFetch } from './slack-fetch.js';
import { SlackNotifier } from './slack-notifier.js';

export class SlackStartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SlackStartupError';
  }
}

export interface SlackConnectionOptions {
  token: string;
  /** Verifies HTTP requests; not used in Socket Mode. */
  signingSecret?: string;
  /** An app-level token (xapp-): Socket Mode instead of the HTTP receiver. */
  appToken?: string;
  /** The HTTP port: /slack/events (HTTP mode) and /healthz (both modes). 0 for any free port. */
  port?: number;
  /** The interface to listen on in HTTP mode (the sandbox keeps the bot on 127.0.0.1). Default: all. */
  host?: string;
  /** Answers GET /healthz. */
  health?: () => Promise<{ status: number; body: unknown }>;
  apiUrl: string;
  /** What the bot talks to, for the start-up log: "Slack", or the sandbox's "embedded Slack stand-in". */
  describedAs?: string;
  logger: Logger;
  /** WebClient request timeout; default 10 s. */
  timeoutMs?: number;
  /** Slack's rate-limit windows and Retry-After count in this clock's time. */
  clock: Clock;
  /** How the bot waits out a short Slack Retry-After; tests pass one that moves their clock. */
  rateLimitSleep?: (ms: number) => Promise<void>;
}

/**
 * The Bolt app, connected: the token checked (auth.test) and the workspace known. Nothing listens
 * yet; the notifier can be built on `client`, and `createSlackBot` adds the listeners.
 */
export interface SlackConnection {
  app: App;
  client: WebClient;
  teamId: string;
  /** The Enterprise Grid organisation of the workspace (auth.test `enterprise_id`), if any. */
  enterpriseId?: string;
  mode: 'http' | 'socket';
  /** Slack's rate limits for every call on this connection: the notifier's, the listeners', the lookups'. */
  gate: SlackCallGate;
  readonly options: SlackConnectionOptions;
}

export interface SlackBotOptions {
  deps: Deps;
  /** Readers' zones and people's names, shared with the notifier (`slackNotifier`). */
  display: DisplayLookups;
  /** The job runner settings the pump uses after each interaction. */
  jobs: JobRunnerOptions;
  /** Default 2500 ms: Slack waits 3 s for an ack. */
  ackBudgetMs?: number;
}

export interface SlackBot {
  app: App;
  client: WebClient;
  teamId: string;
  jobs: JobPump;
  mode: 'http' | 'socket';
  /** Starts receiving (HTTP server, or the WebSocket plus the health server); returns the HTTP port. */
  start(): Promise<number>;
  stop(): Promise<void>;
}

export async function connectSlack(options: SlackConnectionOptions): Promise<SlackConnection> {
  const { logger } = options;
  const port = options.port ?? 3000;
  const customRoutes = options.health ? [healthRoute(options.health)] : [];
  const receiving = options.appToken
    ? { appToken: options.appToken, socketMode: true, installerOptions: { port }, customRoutes }
    : { receiver: httpReceiver(options.signingSecret ?? '', customRoutes, logger) };
  const app = new App({
    token: options.token,
    ...receiving,
    deferInitialization: true,
    processBeforeResponse: false,
    // Bolt's conversation store is process memory, which another replica would not see (and the
    // bot keeps no state in it): off, which also spares every request its failed look-up.
    convoStore: false,
    logger: boltLogger(logger),
    clientOptions: {
      slackApiUrl: options.apiUrl,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout: options.timeoutMs ?? 10_000,
      fetch: slackFetch,
    },
  });
  let teamId: string;
  let enterpriseId: string | undefined;
  try {
    await app.init();
    const auth = await app.client.auth.test();
    if (!auth.team_id) throw new Error('auth.test answered without a team_id');
    teamId = auth.team_id;
    enterpriseId = auth.enterprise_id || undefined;
    logger.info(`connected to ${options.describedAs ?? 'Slack'}`, {
      team: auth.team,
      teamId,
      botUserId: auth.user_id,
      apiUrl: options.apiUrl,
    });
  } catch (error) {
    const code = (error as { data?: { error?: string } }).data?.error;
    const why = code ? `Slack answered "${code}"` : error instanceof Error ? error.message : String(error);
    throw new SlackStartupError(
      `Could not connect to Slack at ${options.apiUrl}: ${why}. Check SLACK_BOT_TOKEN (an xoxb- token of an installed app) and SLACK_API_URL.`,
      { cause: error },
    );
  }
  const sleep = options.rateLimitSleep ? { sleep: options.rateLimitSleep } : {};
  const gate = new SlackCallGate({ clock: options.clock, logger, ...sleep });
  const mode = options.appToken ? 'socket' : 'http';
  return { app, client: app.client, teamId, ...(enterpriseId ? { enterpriseId } : {}), mode, gate, options };
}

/**
 * The notifier on this workspace: the messages the bot owes people, posted with the connection's
 * client under its rate-limit gate. `display` is shared with the listeners (`createSlackBot`): a
 * zone one learns, both use.
 */
export function slackNotifier(
  connection: SlackConnection,
  deps: ConstructorParameters<typeof SlackNotifier>[0],
  display: DisplayLookups,
): SlackNotifier {
  return new SlackNotifier(deps, connection.client, display, connection.gate);
}

/**
 * The listeners on a connection, wired to the operations through `deps`. Checks first, loudly,
 * that the bot can post to every configured channel: one it cannot loses every message meant for it.
 */
export async function createSlackBot(connection: SlackConnection, options: SlackBotOptions): Promise<SlackBot> {
  const { deps } = options;
  const { app, teamId, enterpriseId, gate, options: connected } = connection;
  const { logger } = connected;
  const port = connected.port ?? 3000;
  await checkConfiguredChannels(app.client, deps.settings, deps.catalog, logger);
  const ackBudgetMs = options.ackBudgetMs ?? 2500;
  const jobs = new JobPump(deps, options.jobs);
  const ctx: SlackContext = {
    deps,
    teamId,
    ...(enterpriseId ? { enterpriseId } : {}),
    jobs,
    ackBudgetMs,
    display: options.display,
    gate,
  };

  // Another workspace's request never reaches a listener: nothing is looked up or recorded. The
  // person's own team decides (a Slack Connect user in a shared channel of ours is refused); the
  // listeners check users.info again before anyone is matched to the directory (`identify`).
  app.use(async (args) => {
    const team = foreignTeam(args.body, teamId, enterpriseId !== undefined);
    if (team === undefined) return args.next();
    logger.warn('refused a request from another workspace', { team, expected: teamId });
    const ack = (args as { ack?: (body?: unknown) => Promise<void> }).ack;
    if (!ack) return;
    const text = FOREIGN_WORKSPACE_TEXT;
    if ((args.body as { command?: unknown }).command !== undefined) await ack({ response_type: 'ephemeral', text });
    else await ack();
  });
  app.error(async (error) => {
    logger.error('slack listener failed', { error: error.message, code: (error as { code?: string }).code });
  });

  // One Bolt listener per kind, routing by id: Bolt runs every request through every listener.
  const router = new ListenerRouter();
  for (const listener of [
    accessCommand,
    requestFormActions,
    approveAction,
    denyAction,
    cancelAction,
    requestView,
    denyReasonView,
    approveShorterView,
    extendView,
    appOptions,
    grantButtons,
    taskDoneAction,
    homeActions,
    revokeFormActions,
    revokeView,
    exportView,
    appHomeEvent,
    breakGlassActions,
    breakGlassViews,
    delegationActions,
    delegateView,
    reviewActions,
    reviewRevokeView,
  ]) {
    listener.register(router.registry());
  }
  router.mount(app, ctx);

  return {
    app,
    client: app.client,
    teamId,
    jobs: ctx.jobs,
    mode: connection.mode,
    async start() {
      if (connected.appToken) {
        await app.start();
        // The socket receiver's own HTTP server serves the custom routes (/healthz).
        const server = (app as unknown as { receiver: { httpServer?: Server } }).receiver.httpServer;
        if (!server) return port;
        if (!server.listening) await new Promise((resolve) => server.once('listening', resolve));
        return (server.address() as AddressInfo).port;
      }
      const server = (await (connected.host ? app.start({ port, host: connected.host }) : app.start(port))) as Server;
      return (server.address() as AddressInfo).port;
    },
    async stop() {
      await app.stop();
      await ctx.jobs.idle();
    },
  };
}

/** Slack's own replay window: a signed request older than this is stale (Bolt refuses it). */
const SIGNATURE_WINDOW_SECONDS = 5 * 60;

/**
 * Bolt's HTTP receiver, which verifies each request's signature and refuses timestamps more than
 * 5 minutes old, but accepts any timestamp in the future. A request signed more than 5 minutes
 * ahead of this machine's clock is refused the same way (401) before Bolt sees it, so a captured
 * request cannot be replayed for longer than the window by signing it "later". (Security review L8.)
 */
function httpReceiver(signingSecret: string, customRoutes: CustomRoute[], logger: Logger): HTTPReceiver {
  const receiver = new HTTPReceiver({
    signingSecret,
    customRoutes,
    processBeforeResponse: false,
    logger: boltLogger(logger),
  });
  const verified = receiver.requestListener;
  receiver.requestListener = (req, res) => {
    const timestamp = Number(req.headers['x-slack-request-timestamp']);
    if (Number.isFinite(timestamp) && timestamp - Date.now() / 1000 > SIGNATURE_WINDOW_SECONDS) {
      logger.warn('refused a Slack request signed in the future', {
        timestamp,
        aheadSeconds: Math.round(timestamp - Date.now() / 1000),
      });
      res.writeHead(401);
      res.end();
      return;
    }
    return verified(req, res);
  };
  return receiver;
}

function healthRoute(health: () => Promise<{ status: number; body: unknown }>) {
  return {
    path: '/healthz',
    method: ['GET'],
    handler: (_req: unknown, res: ServerResponse) => {
      void health()
        .then(({ status, body }) => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(body));
        })
        .catch((error: unknown) => {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ status: 'failing', error: error instanceof Error ? error.message : String(error) }));
        });
    },
  };
}

/** Bolt logs through our structured logger. */
function boltLogger(logger: Logger): BoltLogger {
  let level = LogLevel.INFO;
  const text = (msgs: unknown[]) =>
    msgs.map((m) => (m instanceof Error ? m.message : typeof m === 'string' ? m : JSON.stringify(m))).join(' ');
  return {
    debug: (...msgs) => logger.debug(text(msgs), { source: 'bolt' }),
    info: (...msgs) => logger.info(text(msgs), { source: 'bolt' }),
    warn: (...msgs) => logger.warn(text(msgs), { source: 'bolt' }),
    error: (...msgs) => logger.error(text(msgs), { source: 'bolt' }),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
