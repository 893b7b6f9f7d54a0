/**
 * The local sandbox: with neither Slack nor Okta configured, `npm start` runs the real bot (the
 * same Bolt app, listeners, jobs, schedules and SQLite) against the embedded Slack Web API
 * stand-in and the YAML directory, and serves a page where a person picks who they are.
 *
 * Everything listens on 127.0.0.1 only. The page's actions reach the bot as Slack's would: signed
 * with a signing secret made for this run, on /slack/events.
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import type { Logger } from '../operations/ports.js';
import type { Runtime } from '../runtime.js';
import { createSlackBot, type SlackBot } from '../adapters/slack/create-slack-app.js';
import { createHealthCheck } from '../health.js';
import { SandboxWebhooks } from './sandbox-webhooks.js';
import { SlackApiStandIn } from './slack-api/slack-api-server.js';
import { startSandboxServer, type SandboxServer } from './sandbox-http.js';

/** A clock the sandbox's time control moves forward: real time plus an offset. */
export class OffsetClock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  advance(seconds: number): void {
    this.offsetMs += seconds * 1000;
  }
}

export interface Sandbox {
  url: string;
  bot: SlackBot;
  standIn: SlackApiStandIn;
  page: SandboxServer;
  stop(): Promise<void>;
}

export interface DirectoryPeople {
  listPeople(): { id: string; email: string; name: string; title?: string }[];
  /** The zone the directory file gives a person (their Slack profile's `tz` in the sandbox). */
  timezoneOf?(personId: string): string | undefined;
}

/**
 * Starts the stand-in, the bot on it, and the page on `config.port`. `afterAdvance` runs when the
 * page moves the clock (the sweep, so reminders and expiries show at once).
 */
export async function startSandbox(
  runtime: Runtime,
  config: Config,
  options: { logger: Logger; clock: OffsetClock; people: DirectoryPeople; afterAdvance: () => Promise<unknown>; worker: string },
): Promise<Sandbox> {
  const token = `xoxb-sandbox-${randomBytes(8).toString('hex')}`;
  const signingSecret = randomBytes(24).toString('hex');
  // Slack's clock is the sandbox's: moving time forward ages trigger ids and rate-limit windows too.
  const standIn = new SlackApiStandIn({ botTokens: [token], clock: () => options.clock.now().getTime() });
  const people = slackPeople(options.people);
  // Each person reads times in their own zone, as Slack's users.info says; the bot's zone unless the file gives one.
  for (const p of people) standIn.addUser({ id: p.slackId, email: p.email, name: p.email.split('@')[0]!, realName: p.name, tz: p.timezone ?? runtime.deps.settings.timezone });
  const channels = sandboxChannels(runtime);
  for (const c of channels) standIn.addChannel(c);
  const { url: apiUrl } = await standIn.start(0, '127.0.0.1');
  // Nothing leaves the machine: webhook roles call the embedded receiver, never their policy URL.
  const webhooks = await SandboxWebhooks.start({ now: () => options.clock.now() });
  runtime.deps.webhook = webhooks;

  let bot: SlackBot | undefined;
  try {
    bot = await createSlackBot({
      deps: runtime.deps,
      db: runtime.store.db,
      token,
      signingSecret,
      apiUrl,
      describedAs: 'the embedded Slack stand-in',
      port: 0,
      host: '127.0.0.1',
      health: createHealthCheck(runtime, { slack: { mode: 'sandbox', teamId: 'T0SANDBOX' } }),
      logger: options.logger,
      jobs: { worker: options.worker },
    });
    const botPort = await bot.start();
    const page = await startSandboxServer({
      standIn,
      botEventsUrl: `http://127.0.0.1:${botPort}/slack/events`,
      signingSecret,
      people,
      channels,
      webhookCalls: webhooks,
      port: config.port,
      host: '127.0.0.1',
      timezone: runtime.deps.settings.timezone,
      clock: {
        now: () => options.clock.now(),
        advance: async (seconds) => {
          options.clock.advance(seconds);
          options.logger.info('sandbox clock moved', { seconds, now: options.clock.now().toISOString() });
          await options.afterAdvance();
        },
      },
    });
    const started = bot;
    return {
      url: page.url,
      bot: started,
      standIn,
      page,
      async stop() {
        await page.close();
        await started.stop();
        await webhooks.close();
        await standIn.stop();
      },
    };
  } catch (error) {
    await bot?.stop();
    await webhooks.close();
    await standIn.stop();
    throw error;
  }
}

/** Every person in the directory gets a Slack-shaped id (U0 + their email's name), unique. */
export function slackPeople(directory: DirectoryPeople): { slackId: string; email: string; name: string; title: string; timezone?: string }[] {
  const used = new Set<string>();
  return directory.listPeople().map((person) => {
    const base = `U0${person.email.split('@')[0]!.toUpperCase().replace(/[^A-Z0-9]/g, '')}`.slice(0, 20);
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}${n}`;
    used.add(id);
    const timezone = directory.timezoneOf?.(person.id);
    return { slackId: id, email: person.email, name: person.name, title: person.title ?? '', ...(timezone ? { timezone } : {}) };
  });
}

/** The channels the bot posts to: security and alerts from the settings, and every `notify:` channel. */
function sandboxChannels(runtime: Runtime): { id: string; name: string }[] {
  const { settings, catalog } = runtime.deps;
  const channels = new Map<string, string>([
    [settings.securityChannel, 'security'],
    [settings.alertsChannel, settings.alertsChannel === settings.securityChannel ? 'security' : 'access-ops'],
  ]);
  for (const entry of catalog.entries()) {
    if (entry.role.approval === 'auto') continue;
    for (const step of entry.role.approval) if (step.kind === 'group' && step.notify && !channels.has(step.notify)) channels.set(step.notify, `${step.group}-approvals`);
  }
  return [...channels].map(([id, name]) => ({ id, name }));
}
