/**
 * Offboarding signals from Okta: deactivations and suspensions read from the System Log (fast,
 * incremental), and a direct status check of a list of people (slow, complete; catches what the
 * log missed or what happened before the bot first read it).
 *
 * The System Log is read one page per call with bounded `since`/`until` windows. An open-ended
 * ascending request is a "polling request": Okta always answers with a next link, and the SDK's
 * iterator never ends. Here every window has an end, and the caller persists the returned cursor
 * after each page, so a crash re-reads at most one page.
 */
import type { Client } from '@okta/okta-sdk-nodejs';
import { z } from 'zod';
import { isOffboardedStatus } from '../../domain/person.js';
import type { Logger } from '../../operations/ports.js';
import { mapError, type OktaDirectory } from './okta-directory.js';

export const OFFBOARDING_EVENT_TYPES = ['user.lifecycle.deactivate', 'user.lifecycle.suspend'] as const;
export type OffboardingEventType = (typeof OFFBOARDING_EVENT_TYPES)[number];

export interface Deactivation {
  oktaId: string;
  eventType: OffboardingEventType;
  /** ISO 8601, UTC. */
  published: string;
}

export interface ReadDeactivationsOptions {
  /** Where the first read starts when there is no cursor yet. Default 24 h before `now`. */
  initialLookbackMs?: number;
  /**
   * Events reach the System Log a little after they happen; a window closes this long before
   * `now` so a late event is not skipped. Default 60 s.
   */
  lagMs?: number;
  /** Events per page (Okta allows up to 1000). Default 100. */
  limit?: number;
  logger?: Logger;
}

export interface DeactivationPage {
  people: Deactivation[];
  /** Persist this; pass it to the next call. */
  cursor: string;
  /** True when the current window has more pages: call again now. False: the window is done. */
  more: boolean;
}

/** The cursor is ours (JSON), not Okta's next URL, so it survives an org URL or SDK change. */
const CursorSchema = z.object({
  v: z.literal(1),
  since: z.iso.datetime(),
  until: z.iso.datetime().nullable(),
  after: z.string().nullable(),
});
type Cursor = z.infer<typeof CursorSchema>;

const LogEventSchema = z.object({
  uuid: z.string().optional(),
  eventType: z.string(),
  published: z.union([z.date(), z.string()]),
  outcome: z.object({ result: z.string().nullish() }).nullish(),
  target: z.array(z.object({ id: z.string(), type: z.string() })).nullish(),
});

const DAY = 24 * 60 * 60_000;
/** Okta returns events of the last 90 days only (and rejects `since` older than 180). */
const MAX_LOOKBACK_MS = 90 * DAY;

export async function readDeactivations(
  client: Client,
  cursor: string | null,
  now: Date,
  options: ReadDeactivationsOptions = {},
): Promise<DeactivationPage> {
  const lagMs = options.lagMs ?? 60_000;
  const limit = options.limit ?? 100;
  let state: Cursor = cursor
    ? parseCursor(cursor)
    : { v: 1, since: new Date(now.getTime() - (options.initialLookbackMs ?? DAY)).toISOString(), until: null, after: null };

  const oldest = now.getTime() - MAX_LOOKBACK_MS;
  if (Date.parse(state.since) < oldest) {
    options.logger?.warn('okta.system_log.cursor_too_old', { since: state.since, clampedTo: new Date(oldest).toISOString() });
    state = { v: 1, since: new Date(oldest).toISOString(), until: null, after: null };
  }
  let until = state.until;
  if (until === null) {
    until = new Date(now.getTime() - lagMs).toISOString();
    if (Date.parse(until) <= Date.parse(state.since)) return { people: [], cursor: encode(state), more: false };
    state = { ...state, until, after: null };
  }

  let page: unknown[];
  let nextUri: string | undefined;
  try {
    const collection = await client.systemLogApi.listLogEvents({
      since: state.since,
      until,
      filter: OFFBOARDING_EVENT_TYPES.map((t) => `eventType eq "${t}"`).join(' or '),
      sortOrder: 'ASCENDING',
      limit,
      ...(state.after ? { after: state.after } : {}),
    });
    page = await collection.getNextPage();
    nextUri = collection.nextUri;
  } catch (error) {
    throw mapError(error, 'reading the Okta System Log', client);
  }

  const people: Deactivation[] = [];
  for (const raw of page) {
    const parsed = LogEventSchema.safeParse(raw);
    if (!parsed.success) continue;
    const event = parsed.data;
    if (!isOffboardingType(event.eventType)) continue;
    if (event.outcome?.result && event.outcome.result !== 'SUCCESS') continue;
    const published = new Date(event.published).toISOString();
    for (const target of event.target ?? []) {
      if (target.type === 'User') people.push({ oktaId: target.id, eventType: event.eventType, published });
    }
  }

  const after = page.length > 0 && nextUri ? afterOf(nextUri) : null;
  if (after) return { people, cursor: encode({ ...state, after }), more: true };
  // The window is read whole: the next one starts where this one ended.
  return { people, cursor: encode({ v: 1, since: until, until: null, after: null }), more: false };
}

export interface OffboardedPerson {
  id: string;
  status: 'suspended' | 'deprovisioned' | 'gone';
}

/**
 * Who among `personIds` no longer works here: SUSPENDED, DEPROVISIONED, or deleted from Okta.
 * One search per batch (`id eq "a" or id eq "b" ...`); anyone the search does not return is read
 * by id before being called gone, because Okta's search index is eventually consistent.
 */
export async function checkStatuses(directory: OktaDirectory, personIds: string[], batchSize = 20): Promise<OffboardedPerson[]> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`checkStatuses: batchSize must be a positive integer`);
  const out: OffboardedPerson[] = [];
  const ids = [...new Set(personIds)];
  for (let i = 0; i < ids.length; i += batchSize) {
    const batch = ids.slice(i, i + batchSize);
    const found = new Map(
      (await directory.searchPeople(batch.map((id) => `id eq "${id.replace(/["\\]/g, '')}"`).join(' or '))).map((p) => [p.id, p]),
    );
    for (const id of batch) {
      const person = found.get(id) ?? (await directory.getPerson(id));
      if (!person) out.push({ id, status: 'gone' });
      else if (isOffboardedStatus(person.status)) out.push({ id, status: person.status as 'suspended' | 'deprovisioned' });
    }
  }
  return out;
}

function isOffboardingType(t: string): t is OffboardingEventType {
  return (OFFBOARDING_EVENT_TYPES as readonly string[]).includes(t);
}

function parseCursor(raw: string): Cursor {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`System Log cursor is not JSON: ${raw.slice(0, 80)}`);
  }
  const parsed = CursorSchema.safeParse(json);
  if (!parsed.success) throw new Error(`System Log cursor is not one this bot wrote: ${raw.slice(0, 80)}`);
  return parsed.data;
}

function encode(cursor: Cursor): string {
  return JSON.stringify(cursor);
}

function afterOf(nextUri: string): string | null {
  try {
    return new URL(nextUri).searchParams.get('after');
  } catch {
    return null;
  }
}
