/**
 * Offboarding signals from Okta: deactivations and suspensions read from the System Log (fast,
 * incremental), and a status check of a list of people (slow, complete; catches what the log
 * missed or what happened before the bot first read it).
 *
 * The System Log is read the way Okta documents polling (okta-developer-docs
 * `reference/system-log-query`): the first request carries `since` and no `until` (a polling
 * request: ordered and filtered by persistence time, so an event published earlier but persisted
 * late is still read), and from then on only the `next` link Okta returned is requested, verbatim,
 * one page per call, forever. `since` and `after` are never combined and `after` is never crafted
 * ("Rely on the system-generated links"). The SDK's iterator never ends on a polling request, so
 * each call fetches exactly one page; the caller persists the returned cursor after each page.
 */
import * as z from 'zod';
import { isOffboardedStatus } from '../../domain/person.js';
import type { Logger } from '../../operations/ports.js';
import type { OktaClient } from './okta-client.js';
import { mapError, statusOf, type OktaDirectory } from './okta-directory.js';

const OFFBOARDING_EVENT_TYPES = ['user.lifecycle.deactivate', 'user.lifecycle.suspend'] as const;
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
  /** Events per page (Okta allows up to 1000). Default 100. */
  limit?: number;
  logger?: Logger;
}

export interface DeactivationPage {
  people: Deactivation[];
  /** Persist this; pass it to the next call. */
  cursor: string;
  /** True when the page had events: call again now. False: caught up; call again next run. */
  more: boolean;
}

/**
 * The cursor is Okta's own next link without its origin (path and query), so it survives an org
 * URL change; v1 cursors (bounded windows, before polling) are read once to start polling there.
 */
const CursorV2Schema = z.object({ v: z.literal(2), next: z.string().startsWith('/api/v1/logs?') });
const CursorV1Schema = z.object({
  v: z.literal(1),
  since: z.iso.datetime(),
  until: z.iso.datetime().nullable(),
  after: z.string().nullable(),
});

const LogEventSchema = z.object({
  uuid: z.string().optional(),
  eventType: z.string(),
  published: z.union([z.date(), z.string()]),
  outcome: z.object({ result: z.string().nullish() }).nullish(),
  target: z.array(z.object({ id: z.string(), type: z.string() })).nullish(),
});

const DAY = 24 * 60 * 60_000;
/** Okta returns events of the last 90 days only (and rejects `since` older than 180: E0000053). */
const MAX_LOOKBACK_MS = 90 * DAY;
const FILTER = OFFBOARDING_EVENT_TYPES.map((t) => `eventType eq "${t}"`).join(' or ');

export async function readDeactivations(
  client: OktaClient,
  cursor: string | null,
  now: Date,
  options: ReadDeactivationsOptions = {},
): Promise<DeactivationPage> {
  const limit = options.limit ?? 100;
  const oldest = now.getTime() - MAX_LOOKBACK_MS;
  const start = parseCursor(cursor);
  let page: unknown[];
  let nextUri: string | undefined;
  let since = start.since ?? new Date(now.getTime() - (options.initialLookbackMs ?? DAY)).toISOString();
  try {
    if (start.next) {
      ({ page, nextUri } = await fetchLink(client, start.next));
    } else {
      if (Date.parse(since) < oldest) {
        options.logger?.warn('okta.system_log.cursor_too_old', { since, clampedTo: new Date(oldest).toISOString() });
        since = new Date(oldest).toISOString();
      }
      // A polling request: `since`, ascending, no `until`.
      const query = { since, filter: FILTER, sortOrder: 'ASCENDING' as const, limit };
      const collection = await client.systemLogApi.listLogEvents(query);
      page = await collection.getNextPage();
      nextUri = collection.nextUri;
    }
  } catch (error) {
    if (start.next && statusOf(error) === 400) {
      // Okta no longer takes the stored link (its position aged out of retention): start polling
      // again from the last day. The status check covers anyone a gap would miss.
      const reason = error instanceof Error ? error.message : String(error);
      options.logger?.warn('okta.system_log.link_refused', { error: reason });
      return readDeactivations(client, null, now, options);
    }
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
  // Okta always links the next page of a polling request; without one, the same page is read again.
  const next = (nextUri && pathAndQuery(nextUri)) ?? start.next;
  const cursorOut = next ? JSON.stringify({ v: 2, next }) : JSON.stringify({ v: 1, since, until: null, after: null });
  return { people, cursor: cursorOut, more: page.length > 0 };
}

/** One page of a stored next link, requested verbatim (through the same gated client). */
async function fetchLink(client: OktaClient, next: string): Promise<{ page: unknown[]; nextUri: string | undefined }> {
  const collection = client.follow(`${client.baseUrl}${next}`);
  const page: unknown = await collection.getNextPage();
  return { page: Array.isArray(page) ? page : [], nextUri: collection.nextUri };
}

function pathAndQuery(uri: string): string | undefined {
  try {
    const url = new URL(uri);
    return `${url.pathname}${url.search}`;
  } catch {
    return undefined;
  }
}

export interface OffboardedPerson {
  id: string;
  status: 'suspended' | 'deprovisioned' | 'gone';
}

/**
 * Who among `personIds` no longer works here: SUSPENDED, DEPROVISIONED, or deleted from Okta.
 * One search per batch (`id eq "a" or id eq "b" ...`) finds the candidates; every candidate, and
 * anyone the search does not return, is confirmed with `GET /users/{id}` before being reported,
 * because "the search parameter results are sourced from an eventually consistent datasource"
 * (OKTA-OAS listUsers; "Use an ID lookup for records that you update"): a person reactivated a
 * moment ago may still look suspended in search, and keeps their access.
 */
export async function checkStatuses(
  directory: OktaDirectory,
  personIds: string[],
  batchSize = 20,
): Promise<OffboardedPerson[]> {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`checkStatuses: batchSize must be a positive integer`);
  const out: OffboardedPerson[] = [];
  const ids = [...new Set(personIds)];
  for (let i = 0; i < ids.length; i += batchSize) {
    const batch = ids.slice(i, i + batchSize);
    const found = new Map(
      (await directory.searchPeople(batch.map((id) => `id eq "${id.replace(/["\\]/g, '')}"`).join(' or '))).map((p) => [
        p.id,
        p,
      ]),
    );
    for (const id of batch) {
      const hit = found.get(id);
      // Active in the index: no signal (a suspension the index has not caught up with is found next run).
      if (hit && !isOffboardedStatus(hit.status)) continue;
      const person = await directory.getPerson(id);
      if (!person) out.push({ id, status: 'gone' });
      else if (isOffboardedStatus(person.status))
        out.push({ id, status: person.status as 'suspended' | 'deprovisioned' });
    }
  }
  return out;
}

function isOffboardingType(t: string): t is OffboardingEventType {
  return (OFFBOARDING_EVENT_TYPES as readonly string[]).includes(t);
}

/** Where to read from: a stored next link, or (no cursor, or a v1 cursor) a polling start time. */
function parseCursor(raw: string | null): { next?: string; since?: string } {
  if (raw === null) return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    throw new Error(`System Log cursor is not JSON: ${raw.slice(0, 80)}`);
  }
  const v2 = CursorV2Schema.safeParse(json);
  if (v2.success) return { next: v2.data.next };
  const v1 = CursorV1Schema.safeParse(json);
  if (v1.success) return { since: v1.data.since };
  throw new Error(`System Log cursor is not one this bot wrote: ${raw.slice(0, 80)}`);
}
