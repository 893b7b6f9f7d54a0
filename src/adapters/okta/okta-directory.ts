/**
 * The directory, built on Okta: people, groups, managers and membership changes, read live.
 *
 * Only group ids and types are cached (they decide nothing about access and rarely change);
 * people, statuses and memberships are read from Okta in every operation, once: within one
 * operation (a click, a form, a job) a person, their groups and a group's members are shared
 * (`forOperation`: a view with reads of its own), and a change drops what it changed. Each
 * membership change is followed by reading the membership back, because nothing is reported done
 * that Okta did not confirm.
 * Waiting, pacing and retrying happen in `OktaCallGate`, not here.
 */
import * as z from 'zod';
import { AccessError, PermanentError, TransientError } from '../../domain/errors.js';
import { isActiveStatus, type Person } from '../../domain/person.js';
import { SharedReads } from '../../operations/read-scope.js';
import type { Clock, Directory, DirectoryGroup, Logger } from '../../operations/ports.js';
import { createOktaClient, tokenErrorOf, type OktaAuth, type OktaClient } from './okta-client.js';
import { OktaCallGate, type GateStats } from './okta-call-gate.js';
import type { SharedRateWindows } from './shared-rate-windows.js';

export interface OktaDirectoryOptions {
  /** The org URL, e.g. https://example.okta.com (http is accepted for 127.0.0.1 only). */
  orgUrl: string;
  auth: OktaAuth;
  /** The profile attribute naming a person's manager: an Okta user id, a login or an email. */
  managerAttribute: string;
  /** Okta requests in flight at once. Default 5. */
  concurrency?: number;
  /** Attempts for a request answered 5xx or failing on the network. Default 4. */
  maxAttempts?: number;
  /** First retry delay (doubles, with jitter). Default 250 ms. */
  baseDelayMs?: number;
  /** How long a group's id and type are reused. Default 5 minutes. */
  groupCacheTtlMs?: number;
  /** Page size for member lists; Okta caps it (200 is the documented recommendation). */
  pageSize?: number;
  /** Per-attempt HTTP timeout. Default 30 s. */
  attemptTimeoutMs?: number;
  logger?: Logger;
  clock?: Clock;
  sleep?: (ms: number) => Promise<void>;
  /** Okta's rate-limit windows shared by every replica on the database (PostgreSQL deployments). */
  sharedRateLimits?: SharedRateWindows;
}

/** Okta user as we read it; unknown profile attributes are kept (the manager attribute is one). */
const OktaUserSchema = z.object({
  id: z.string().min(1),
  status: z.string().min(1),
  profile: z.looseObject({
    login: z.string().min(1),
    email: z.string().nullish(),
    firstName: z.string().nullish(),
    lastName: z.string().nullish(),
    displayName: z.string().nullish(),
    title: z.string().nullish(),
  }),
});
type OktaUser = z.infer<typeof OktaUserSchema>;

const OktaGroupSchema = z.object({
  id: z.string().min(1),
  type: z.string().min(1),
  profile: z.looseObject({ name: z.string().min(1) }),
});

const DEFAULT_GROUP_TTL_MS = 5 * 60_000;
const RECENT_GROUPS_MS = 60_000;
const RECENT_GROUPS_MAX = 10_000;
const noopLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export class OktaDirectory implements Directory {
  readonly kind = 'okta';
  /** The gated SDK client, for the System Log reader; every request it makes goes through the gate. */
  readonly client: OktaClient;
  private readonly gate: OktaCallGate;
  private readonly managerAttribute: string;
  private readonly groupTtlMs: number;
  private readonly pageSize: number;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly groupCache = new Map<string, { group: DirectoryGroup; expiresAt: number }>();
  /** Each person's groups as last read, for `groupsOf(…, { maxAgeMs })` only (never a decision). */
  private readonly recentGroups = new Map<string, { names: string[]; at: number }>();
  /** This operation's shared reads (`forOperation`); none on the directory itself, which reads live. */
  private readonly reads: SharedReads | null = null;

  constructor(options: OktaDirectoryOptions) {
    if (!options.managerAttribute || options.managerAttribute.trim() === '') {
      throw new PermanentError(
        'Okta settings: managerAttribute is missing (the profile attribute naming the manager, e.g. managerId)',
      );
    }
    this.managerAttribute = options.managerAttribute.trim();
    this.groupTtlMs = options.groupCacheTtlMs ?? DEFAULT_GROUP_TTL_MS;
    this.pageSize = options.pageSize ?? 200;
    this.clock = options.clock ?? { now: () => new Date() };
    this.logger = options.logger ?? noopLogger;
    this.gate = new OktaCallGate({
      concurrency: options.concurrency,
      maxAttempts: options.maxAttempts,
      baseDelayMs: options.baseDelayMs,
      sleep: options.sleep,
      logger: this.logger,
      shared: options.sharedRateLimits,
    });
    this.client = createOktaClient({
      orgUrl: options.orgUrl,
      auth: options.auth,
      gate: this.gate,
      attemptTimeoutMs: options.attemptTimeoutMs,
    });
  }

  /**
   * A view for one operation: the same client, gate and group cache, and reads shared within the
   * operation. It inherits everything else from this directory, so it costs one object.
   */
  forOperation(): Directory {
    return Object.create(this, { reads: { value: new SharedReads() } }) as OktaDirectory;
  }

  /** `read()`, once within this operation (every time outside one). */
  private shared<T>(key: string, read: () => Promise<T>): Promise<T> {
    return this.reads ? this.reads.read(key, read) : read();
  }

  /** Requests sent, 429s, retries: for logs, /healthz and the benchmark. */
  gateStats(): GateStats {
    return this.gate.stats();
  }

  async findPerson(emailOrLogin: string): Promise<Person | null> {
    const wanted = emailOrLogin.trim();
    if (wanted === '') return null;
    if (wanted.includes('@')) {
      const matches = (await this.searchUsers(`profile.email eq ${quote(wanted)}`)).filter(
        (u) => (u.profile.email ?? '').toLowerCase() === wanted.toLowerCase(),
      );
      if (matches.length > 1) {
        throw new AccessError(
          'identity_ambiguous',
          `${matches.length} Okta users have the email ${wanted}; an admin must resolve it`,
          {
            email: wanted,
            oktaIds: matches.map((u) => u.id),
          },
        );
      }
      if (matches[0]) return toPerson(matches[0]);
    }
    // A login (often, but not always, the email). Search is eventually consistent in Okta, so a
    // just-created person may only be found this way.
    return this.getPerson(wanted);
  }

  async getPerson(id: string): Promise<Person | null> {
    const user = await this.readUser(id);
    return user ? toPerson(user) : null;
  }

  /** Every person matching an Okta search expression (all pages; deprovisioned people included). */
  async searchPeople(search: string): Promise<Person[]> {
    return (await this.searchUsers(search)).map(toPerson);
  }

  async groupsOf(personId: string, options: { maxAgeMs?: number } = {}): Promise<string[]> {
    const now = this.clock.now().getTime();
    const recent = this.recentGroups.get(personId);
    if (options.maxAgeMs !== undefined && recent && now - recent.at <= options.maxAgeMs) return recent.names;
    const groups = await this.userGroups(personId);
    const names = groups === null ? [] : groups.map((g) => g.profile.name);
    this.rememberGroups(personId, names, now);
    return names;
  }

  /** Keeps the last read of each person's groups for a minute at most (a bounded, short memory). */
  private rememberGroups(personId: string, names: string[], now: number): void {
    this.recentGroups.delete(personId);
    this.recentGroups.set(personId, { names, at: now });
    for (const [id, entry] of this.recentGroups) {
      if (now - entry.at <= RECENT_GROUPS_MS && this.recentGroups.size <= RECENT_GROUPS_MAX) break;
      this.recentGroups.delete(id); // oldest first: a Map iterates in insertion order
    }
  }

  async membersOf(groupName: string): Promise<Person[]> {
    const group = await this.requireGroup(groupName);
    try {
      return await this.shared(`okta:members:${group.id}`, async () => {
        const collection = await this.client.groupApi.listGroupUsers({ groupId: group.id, limit: this.pageSize });
        const users = (await drainCollection(collection)).map(parseUser);
        // The listing returns each member whole: within this operation it answers their reads too
        // (an access review's manager lookups for 5,000 members cost no read of each member).
        for (const user of users) this.reads?.prime(`okta:user:${user.id}`, user);
        return users.map(toPerson);
      });
    } catch (error) {
      if (statusOf(error) === 404) {
        this.groupCache.delete(groupName);
        throw new PermanentError(`Okta group "${groupName}" (${group.id}) no longer exists`, { cause: error });
      }
      throw this.fail(error, `reading the members of Okta group "${groupName}"`);
    }
  }

  async findGroup(groupName: string): Promise<DirectoryGroup | null> {
    const now = this.clock.now().getTime();
    const cached = this.groupCache.get(groupName);
    if (cached && cached.expiresAt > now) return cached.group;
    const group = await this.lookUpGroup(groupName);
    // Only a definite group is cached: a group created a minute from now must be seen.
    if (group) this.groupCache.set(groupName, { group, expiresAt: now + this.groupTtlMs });
    else this.groupCache.delete(groupName);
    return group;
  }

  async managerOf(personId: string): Promise<Person | null> {
    const user = await this.readUser(personId);
    if (!user) return null;
    const raw = user.profile[this.managerAttribute];
    if (typeof raw !== 'string' || raw.trim() === '') return null;
    const ref = raw.trim();
    // `me` would be read as GET /users/me: the API token's owner, not anyone's manager.
    if (ref.toLowerCase() === 'me') {
      this.logger.warn('okta.manager_not_found', {
        personId,
        attribute: this.managerAttribute,
        value: ref,
        why: '"me" names the API token\'s owner',
      });
      return null;
    }
    // An id or a login first: one exact read. An email that is not a login needs a search.
    const byIdOrLogin = await this.readUser(ref);
    if (byIdOrLogin) return toPerson(byIdOrLogin);
    if (ref.includes('@')) {
      const byEmail = await this.findPerson(ref);
      if (byEmail) return byEmail;
    }
    this.logger.warn('okta.manager_not_found', { personId, attribute: this.managerAttribute, value: ref });
    return null;
  }

  async isMember(personId: string, groupName: string): Promise<boolean> {
    const group = await this.requireGroup(groupName);
    const groups = await this.userGroups(personId);
    return groups !== null && groups.some((g) => g.id === group.id);
  }

  async addToGroup(personId: string, groupName: string): Promise<void> {
    await this.changeMembership('add', personId, groupName);
  }

  async removeFromGroup(personId: string, groupName: string): Promise<void> {
    await this.changeMembership('remove', personId, groupName);
  }

  private async changeMembership(change: 'add' | 'remove', personId: string, groupName: string): Promise<void> {
    const group = await this.requireGroup(groupName);
    if (!group.manageable) {
      throw new PermanentError(
        `Okta group "${groupName}" is ${group.type}; only OKTA_GROUP memberships can be changed through the API`,
      );
    }
    const what = `${change === 'add' ? 'adding' : 'removing'} ${personId} ${change === 'add' ? 'to' : 'from'} Okta group "${groupName}"`;
    // Whatever this operation read about the person's groups or the group's members is now stale.
    this.reads?.forget(`okta:groups:${personId}`, `okta:members:${group.id}`);
    this.recentGroups.delete(personId);
    try {
      if (change === 'add') await this.client.groupApi.assignUserToGroup({ groupId: group.id, userId: personId });
      else await this.client.groupApi.unassignUserFromGroup({ groupId: group.id, userId: personId });
    } catch (error) {
      const status = statusOf(error);
      if (status === 404) {
        // Which one is gone, the group or the person? Ask Okta again, by id, rather than guess.
        this.groupCache.delete(groupName);
        const fresh = await this.confirmGroup(group);
        if (!fresh) {
          throw new PermanentError(`Okta group "${groupName}" does not exist (any more)`, { cause: error });
        }
        if (change === 'remove') {
          // The person no longer exists in Okta, so they are in no group: the removal holds.
          const user = await this.readUser(personId);
          if (!user) return;
        }
        throw new PermanentError(`Okta user ${personId} does not exist; ${what} is impossible`, { cause: error });
      }
      if (status === 403) {
        throw new PermanentError(
          `Okta refused ${what} (403 ${errorCodeOf(error) ?? ''}): the group may be app-sourced, or the bot lacks the admin role / okta.groups.manage scope`,
          { cause: error },
        );
      }
      throw this.fail(error, what);
    }
    // Nothing is reported done that Okta did not confirm: read back, fresh.
    this.reads?.forget(`okta:groups:${personId}`, `okta:members:${group.id}`);
    const member = await this.isMember(personId, groupName);
    if (member !== (change === 'add')) {
      throw new TransientError(
        `Okta accepted ${what} but reading the membership back still shows ${member ? 'a member' : 'no membership'}; will retry`,
      );
    }
  }

  private fail(error: unknown, what: string): Error {
    return mapError(error, what, this.client);
  }

  private async requireGroup(groupName: string): Promise<DirectoryGroup> {
    const group = await this.findGroup(groupName);
    if (!group) throw new PermanentError(`Okta group "${groupName}" does not exist`);
    return group;
  }

  /**
   * The group by exact name: `search` finds it, `GET /groups/{id}` confirms it still exists
   * (search "is sourced from an eventually consistent datasource", OKTA-OAS listGroups, so a group
   * deleted a moment ago may still be found). `q` is not used: its results cannot be paged ("You
   * can't page a query"), so a name shared as a prefix by more groups than one answer holds could
   * be missed. A group created in the last minutes may not be found yet; the caller says so.
   */
  private async lookUpGroup(groupName: string): Promise<DirectoryGroup | null> {
    try {
      const bySearch = await drainCollection(
        await this.client.groupApi.listGroups({ search: `profile.name eq ${quote(groupName)}`, limit: this.pageSize }),
      );
      const match = bySearch.map(parseGroup).find((g) => g.name === groupName);
      return match ? await this.confirmGroup(match) : null;
    } catch (error) {
      throw this.fail(error, `looking up Okta group "${groupName}"`);
    }
  }

  /** The group as Okta has it now, by id; null when it no longer exists. */
  private async confirmGroup(group: DirectoryGroup): Promise<DirectoryGroup | null> {
    try {
      const live = parseGroup(await this.client.groupApi.getGroup({ groupId: group.id }));
      return live.name === group.name ? live : null;
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw error;
    }
  }

  private readUser(idOrLogin: string): Promise<OktaUser | null> {
    return this.shared(`okta:user:${idOrLogin}`, async () => {
      try {
        return parseUser(await this.client.userApi.getUser({ userId: idOrLogin }));
      } catch (error) {
        if (statusOf(error) === 404) return null;
        throw this.fail(error, `reading Okta user ${idOrLogin}`);
      }
    });
  }

  private searchUsers(search: string): Promise<OktaUser[]> {
    return this.shared(`okta:search:${search}`, async () => {
      try {
        const collection = await this.client.userApi.listUsers({ search, limit: this.pageSize });
        return (await drainCollection(collection)).map(parseUser);
      } catch (error) {
        throw this.fail(error, `searching Okta users (${search})`);
      }
    });
  }

  /** The person's groups, or null when the person does not exist. */
  private userGroups(personId: string): Promise<{ id: string; profile: { name: string } }[] | null> {
    return this.shared(`okta:groups:${personId}`, () => this.readUserGroups(personId));
  }

  private async readUserGroups(personId: string): Promise<{ id: string; profile: { name: string } }[] | null> {
    try {
      const collection = await this.client.userApi.listUserGroups({ userId: personId });
      return (await drainCollection(collection)).map((raw) => {
        const g = OktaGroupSchema.parse(raw);
        return { id: g.id, profile: { name: g.profile.name } };
      });
    } catch (error) {
      if (statusOf(error) === 404) return null;
      throw this.fail(error, `reading the groups of Okta user ${personId}`);
    }
  }
}

/** Reads every page of an SDK collection. The iterator yields null for empty pages; skip them. */
async function drainCollection<T>(collection: AsyncIterable<T | null>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of collection) {
    if (item !== null && item !== undefined) items.push(item);
  }
  return items;
}

function toPerson(user: OktaUser): Person {
  const p = user.profile;
  const status = user.status.toLowerCase();
  const fullName = [p.firstName, p.lastName]
    .filter((s): s is string => typeof s === 'string' && s.trim() !== '')
    .join(' ');
  const person: Person = {
    id: user.id,
    email: p.email ?? p.login,
    login: p.login,
    name: fullName || p.displayName || p.login,
    status,
    active: isActiveStatus(status),
  };
  if (p.title) person.title = p.title;
  return person;
}

function parseUser(raw: unknown): OktaUser {
  const parsed = OktaUserSchema.safeParse(raw);
  if (!parsed.success) {
    throw new TransientError(
      `Okta returned a user record this bot cannot read: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
    );
  }
  return parsed.data;
}

function parseGroup(raw: unknown): DirectoryGroup {
  const g = OktaGroupSchema.parse(raw);
  return { id: g.id, name: g.profile.name, type: g.type, manageable: g.type === 'OKTA_GROUP' };
}

/** A string literal for an Okta filter/search expression. */
function quote(value: string): string {
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** The HTTP status of an OktaApiError or HttpError from the SDK, if it is one. */
export function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { status?: unknown }).status;
  const n = typeof status === 'string' ? Number.parseInt(status, 10) : status;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
}

function errorCodeOf(error: unknown): string | undefined {
  const code = (error as { errorCode?: unknown } | null)?.errorCode;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Sorts an SDK failure into "retry later" or "this will not work": the gate already turned 429,
 * 5xx and network trouble into TransientError; a 4xx here is a definite answer.
 */
export function mapError(error: unknown, what: string, client?: OktaClient): Error {
  if (error instanceof TransientError || error instanceof PermanentError || error instanceof AccessError) return error;
  const status = statusOf(error);
  if (status === undefined) {
    return error instanceof Error ? error : new TransientError(`${what} failed: ${String(error)}`);
  }
  const detail = error instanceof Error ? error.message : String(error);
  if (status === 429 || status >= 500) return new TransientError(`${what}: ${detail}`, undefined, { cause: error });
  if (status === 401) {
    const tokenError = client ? tokenErrorOf(client) : null;
    const reason = tokenError
      ? `Okta refused the service app a token (${tokenError}); check its client id, key id, public key and granted scopes`
      : `Okta rejected the bot's credentials (401); check the API token or the service app`;
    return new PermanentError(`${what}: ${reason}`, { cause: error });
  }
  return new PermanentError(`${what}: ${detail}`, { cause: error });
}
