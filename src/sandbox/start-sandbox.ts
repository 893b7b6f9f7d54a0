/**
 * The local sandbox: with neither Slack nor Okta configured, `npm start` runs the real bot (the
 * same Bolt app, listeners, jobs, schedules and SQLite) against the embedded Slack Web API
 * stand-in and the YAML directory, and serves a page where a person picks who they are.
 *
 * Everything listens on 127.0.0.1 only. The page's actions reach the bot as Slack's would: signed
 * with a signing secret made for this run, on /slack/events.
 */
import { randomBytes } from 'node:crypto';
import type { Catalog } from '../domain/catalog.js';
import type { Settings } from '../domain/policy.js';
import type { Logger } from '../operations/ports.js';
import type { SandboxWebhooks } from './sandbox-webhooks.js';
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

export interface DirectoryPeople {
  listPeople(): { id: string; email: string; name: string; title?: string }[];
  /** The zone the directory file gives a person (their Slack profile's `tz` in the sandbox). */
  timezoneOf?(personId: string): string | undefined;
}

/**
 * The embedded Slack workspace: the Web API stand-in with every person of the directory and the
 * channels the bot posts to, and the token and signing secret made for this run. Started before the
 * bot connects to it (the bot's notifier needs its client).
 */
export interface SandboxWorkspace {
  standIn: SlackApiStandIn;
  apiUrl: string;
  token: string;
  signingSecret: string;
  people: ReturnType<typeof slackPeople>;
  channels: { id: string; name: string }[];
  stop(): Promise<void>;
}

export async function startSandboxWorkspace(options: {
  people: DirectoryPeople;
  settings: Settings;
  catalog: Catalog;
  /** The sandbox's clock: moving time forward ages trigger ids and rate-limit windows too. */
  clock: { now(): Date };
}): Promise<SandboxWorkspace> {
  const token = `xoxb-sandbox-${randomBytes(8).toString('hex')}`;
  const signingSecret = randomBytes(24).toString('hex');
  // Slack's clock is the sandbox's: moving time forward ages trigger ids and rate-limit windows too.
  const standIn = new SlackApiStandIn({ botTokens: [token], clock: () => options.clock.now().getTime() });
  const people = slackPeople(options.people);
  // Each person reads times in their own zone, as Slack's users.info says; the bot's zone unless the file gives one.
  for (const p of people)
    standIn.addUser({
      id: p.slackId,
      email: p.email,
      name: p.email.split('@')[0]!,
      realName: p.name,
      tz: p.timezone ?? options.settings.timezone,
    });
  const channels = sandboxChannels(options.settings, options.catalog);
  for (const c of channels) standIn.addChannel(c);
  const { url: apiUrl } = await standIn.start(0, '127.0.0.1');
  return { standIn, apiUrl, token, signingSecret, people, channels, stop: () => standIn.stop() };
}

/**
 * The page on `port` (loopback only), where a person picks who they are. `afterAdvance` runs when
 * the page moves the clock (the sweep, so reminders and expiries show at once).
 */
export function startSandboxPage(
  workspace: SandboxWorkspace,
  options: {
    botEventsUrl: string;
    port: number;
    timezone: string;
    clock: OffsetClock;
    logger: Logger;
    afterAdvance: () => Promise<unknown>;
    /** The embedded webhook receiver the bot's webhook roles call: the page lists its calls. */
    webhookCalls: SandboxWebhooks;
    /** The bot's health check, served at /healthz on the page's port. */
    health?: () => Promise<{ status: number; body: unknown }>;
  },
): Promise<SandboxServer> {
  return startSandboxServer({
    standIn: workspace.standIn,
    botEventsUrl: options.botEventsUrl,
    signingSecret: workspace.signingSecret,
    people: workspace.people,
    channels: workspace.channels,
    webhookCalls: options.webhookCalls,
    ...(options.health ? { health: options.health } : {}),
    port: options.port,
    host: '127.0.0.1',
    timezone: options.timezone,
    clock: {
      now: () => options.clock.now(),
      advance: async (seconds) => {
        options.clock.advance(seconds);
        options.logger.info('sandbox clock moved', { seconds, now: options.clock.now().toISOString() });
        await options.afterAdvance();
      },
    },
  });
}

/** Every person in the directory gets a Slack-shaped id (U0 + their email's name), unique. */
export function slackPeople(
  directory: DirectoryPeople,
): { slackId: string; email: string; name: string; title: string; timezone?: string }[] {
  const used = new Set<string>();
  return directory.listPeople().map((person) => {
    const base = `U0${person.email
      .split('@')[0]!
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, '')}`.slice(0, 20);
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}${n}`;
    used.add(id);
    const timezone = directory.timezoneOf?.(person.id);
    return {
      slackId: id,
      email: person.email,
      name: person.name,
      title: person.title ?? '',
      ...(timezone ? { timezone } : {}),
    };
  });
}

/** The channels the bot posts to: security and alerts from the settings, and every `notify:` channel. */
function sandboxChannels(settings: Settings, catalog: Catalog): { id: string; name: string }[] {
  const channels = new Map<string, string>([
    [settings.securityChannel, 'security'],
    [settings.alertsChannel, settings.alertsChannel === settings.securityChannel ? 'security' : 'access-ops'],
  ]);
  const checkpoints = settings.auditCheckpoints?.channel;
  if (checkpoints && !channels.has(checkpoints)) channels.set(checkpoints, 'audit-checkpoints');
  for (const entry of catalog.entries()) {
    if (entry.role.approval === 'auto') continue;
    for (const step of entry.role.approval)
      if (step.kind === 'group' && step.notify && !channels.has(step.notify))
        channels.set(step.notify, `${step.group}-approvals`);
  }
  return [...channels].map(([id, name]) => ({ id, name }));
}
