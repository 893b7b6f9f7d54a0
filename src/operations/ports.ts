/**
 * The ports the operations use to reach the world. Adapters implement them: the YAML or Okta
 * directory, SQLite storage, Slack messages, provisioners. Nothing here names a vendor type.
 */
import type { Person } from '../domain/person.js';

/** A group as the directory knows it. */
export interface DirectoryGroup {
  id: string;
  name: string;
  /**
   * Whether the bot can change its membership through the directory's API (Okta: only
   * `OKTA_GROUP` groups; app-sourced groups are read-only).
   */
  manageable: boolean;
  /** The directory's own type label (OKTA_GROUP, APP_GROUP, BUILT_IN, yaml). */
  type: string;
}

/**
 * The identity provider: the source of truth for people, groups, managers and employment status.
 * Every method reads live data (no stale cache on anything that decides access). Methods throw
 * `TransientError` for outages worth retrying, `PermanentError` for definite failures
 * (an unknown group on add), and `AccessError('identity_ambiguous')` when an email matches several people.
 */
export interface Directory {
  /** Which implementation this is, for logs and /healthz ("yaml", "okta"). */
  readonly kind: string;
  /** By email (case-insensitive) or login. Null when nobody matches; throws when several do. */
  findPerson(emailOrLogin: string): Promise<Person | null>;
  /** By the directory's immutable id. Null when the person no longer exists. */
  getPerson(id: string): Promise<Person | null>;
  /** Names of the groups the person is a member of. */
  groupsOf(personId: string): Promise<string[]>;
  /** Every member of the group (all pages). Throws PermanentError for an unknown group. */
  membersOf(groupName: string): Promise<Person[]>;
  /** The group by name, or null when the directory has no such group. */
  findGroup(groupName: string): Promise<DirectoryGroup | null>;
  /** The person's manager, resolved through the configured manager attribute; null when none. */
  managerOf(personId: string): Promise<Person | null>;
  isMember(personId: string, groupName: string): Promise<boolean>;
  addToGroup(personId: string, groupName: string): Promise<void>;
  removeFromGroup(personId: string, groupName: string): Promise<void>;
}

/** Time, injected so tests and the sandbox can move it. */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** Structured logs (JSON lines in production). */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}
