/**
 * Display-only look-ups the Slack views need: each Slack user's time zone (users.info `tz`, so the
 * times a person reads are in their own zone), and the names of people a policy names by email
 * ("Grace Hopper (CISO)" rather than "ciso@example.com"). Nothing here decides access, so a few
 * minutes' cache is fine; a miss or a failure falls back to the bot's zone or to the email.
 */
import type { WebClient } from '@slack/web-api';
import type { Directory, Logger } from '../../operations/ports.js';
import type { SlackCallGate } from './slack-call-gate.js';

const TTL_MS = 10 * 60 * 1000;
const KEPT = 10_000;

interface Cached<T> {
  value: T;
  at: number;
}

export class DisplayLookups {
  private readonly zones = new Map<string, Cached<string>>();
  private readonly names = new Map<string, Cached<{ name: string; title?: string } | null>>();

  constructor(
    private readonly deps: { directory: Directory; settings: { timezone: string }; logger: Logger },
    /** Slack's rate limits: a users.info Slack asked to wait for falls back to the bot's zone. */
    private readonly gate?: SlackCallGate,
  ) {}

  /** The bot's zone: for channels, where readers differ (Slack's date tokens show each their own). */
  get botZone(): string {
    return this.deps.settings.timezone;
  }

  /** Keeps what users.info said about a person's zone (identify reads it anyway). */
  rememberZone(slackUserId: string, tz: string | null | undefined): void {
    if (tz && isZone(tz)) remember(this.zones, slackUserId, tz);
  }

  /** The zone a Slack user reads times in: remembered, or asked of Slack once; the bot's zone when unknown. */
  async zoneOf(client: WebClient, slackUserId: string): Promise<string> {
    const known = fresh(this.zones, slackUserId);
    if (known) return known;
    try {
      const read = () => client.users.info({ user: slackUserId });
      const info = this.gate ? await this.gate.call('users.info', read) : await read();
      this.rememberZone(slackUserId, info.user?.tz);
    } catch (error) {
      // Only the fallback text of dates depends on it: the bot's zone will do.
      this.deps.logger.debug('users.info for a time zone failed', {
        slackUserId,
        error: error instanceof Error ? error.message : String(error),
      });
    }
    return fresh(this.zones, slackUserId) ?? this.botZone;
  }

  /** The zone a Slack user is known to read in, without asking Slack; the bot's zone when unknown. */
  knownZone(slackUserId: string | null | undefined): string {
    return (slackUserId && fresh(this.zones, slackUserId)) || this.botZone;
  }

  /**
   * "Grace Hopper (CISO)" for an email the directory knows (`withTitle: false`: "Grace Hopper"); null when it does not.
   */
  async personName(email: string, options: { withTitle?: boolean } = {}): Promise<string | null> {
    const key = email.toLowerCase();
    let known = fresh(this.names, key);
    if (known === undefined) {
      try {
        const person = await this.deps.directory.findPerson(email);
        known = person ? { name: person.name, ...(person.title ? { title: person.title } : {}) } : null;
      } catch (error) {
        this.deps.logger.debug('a display name look-up failed', {
          email,
          error: error instanceof Error ? error.message : String(error),
        });
        return null;
      }
      remember(this.names, key, known);
    }
    if (!known) return null;
    return options.withTitle !== false && known.title ? `${known.name} (${known.title})` : known.name;
  }

  /** Names for several emails, by lower-cased email; unknown ones are left out. */
  async personNames(emails: readonly string[]): Promise<Record<string, string>> {
    const found: Record<string, string> = {};
    await Promise.all(
      [...new Set(emails.map((e) => e.toLowerCase()))].map(async (email) => {
        const name = await this.personName(email);
        if (name) found[email] = name;
      }),
    );
    return found;
  }
}

function fresh<T>(cache: Map<string, Cached<T>>, key: string): T | undefined {
  const entry = cache.get(key);
  return entry && Date.now() - entry.at < TTL_MS ? entry.value : undefined;
}

function remember<T>(cache: Map<string, Cached<T>>, key: string, value: T): void {
  cache.delete(key);
  cache.set(key, { value, at: Date.now() });
  if (cache.size > KEPT) cache.delete(cache.keys().next().value!);
}

/** Zone names found valid: building a formatter to check one costs far more than users.info's other work. */
const validZones = new Set<string>();

function isZone(tz: string): boolean {
  if (validZones.has(tz)) return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    return false;
  }
  // IANA has a few hundred zones; a bound keeps odd input from growing the set for ever.
  if (validZones.size < 1000) validZones.add(tz);
  return true;
}
