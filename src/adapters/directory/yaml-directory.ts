/**
 * A directory read from a YAML file, used when Okta is not configured (the sandbox, tests, trying
 * policies out). Membership changes are kept in memory only: the file is never rewritten, so a
 * restart returns to what the file says.
 *
 * ```yaml
 * people:
 *   - id: 00u-ada            # optional; defaults to the email, lower-cased
 *     email: ada@example.com
 *     login: ada             # optional; defaults to the email
 *     name: Ada Lovelace
 *     title: Engineer
 *     status: active         # active | suspended | deprovisioned (default active)
 *     manager: marcus@example.com   # email, login or id of another person (optional)
 *     timezone: Europe/London        # the sandbox gives the person's Slack profile this zone (optional)
 * groups:
 *   platform-team:
 *     type: OKTA_GROUP       # OKTA_GROUP (default; the bot can manage it) | APP_GROUP (read-only)
 *     members: [ada@example.com]    # emails, logins or ids
 * ```
 */
import { readFile } from 'node:fs/promises';
import { LineCounter, isMap, isPair, isScalar, isSeq, parseDocument, type Document } from 'yaml';
import * as z from 'zod';
import { AccessError, PermanentError } from '../../domain/errors.js';
import { isActiveStatus, type Person } from '../../domain/person.js';
import type { Directory, DirectoryGroup } from '../../operations/ports.js';

const DirectoryPersonSchema = z.strictObject({
  id: z.string().trim().min(1).optional(),
  email: z.email(),
  login: z.string().trim().min(1).optional(),
  name: z.string().trim().min(1),
  title: z.string().trim().min(1).optional(),
  status: z.enum(['active', 'suspended', 'deprovisioned']).default('active'),
  manager: z.string().trim().min(1).optional(),
  timezone: z.string().trim().refine(isTimeZone, 'an IANA time zone, such as Europe/Berlin').optional(),
});

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

const DirectoryGroupSchema = z.strictObject({
  type: z.enum(['OKTA_GROUP', 'APP_GROUP']).default('OKTA_GROUP'),
  members: z.array(z.string().trim().min(1)).default([]),
});

const DirectoryFileSchema = z.strictObject({
  people: z.array(DirectoryPersonSchema),
  groups: z.record(z.string().min(1), DirectoryGroupSchema).default({}),
});
export type DirectoryFile = z.infer<typeof DirectoryFileSchema>;

/** One problem in a directory file, located like a policy problem. */
export interface DirectoryProblem {
  file: string;
  /** 1-based; 0 when the data did not come from text (`fromData`). */
  line: number;
  column: number;
  path: string;
  message: string;
}

/** The directory file is unreadable or invalid; `message` has one `file:line:col path: message` line per problem. */
export class DirectoryFileError extends PermanentError {
  constructor(readonly problems: DirectoryProblem[]) {
    super(problems.map(formatDirectoryProblem).join('\n'));
    this.name = 'DirectoryFileError';
  }
}

function formatDirectoryProblem(p: DirectoryProblem): string {
  const where = p.line > 0 ? `${p.file}:${p.line}:${p.column}` : p.file;
  return `${where} ${p.path || '(root)'}: ${p.message}`;
}

interface GroupState {
  name: string;
  type: 'OKTA_GROUP' | 'APP_GROUP';
  /** Person ids, in file order, then in the order they were added. */
  members: Set<string>;
}

type Locate = (path: readonly PropertyKey[], target?: 'key' | 'value') => { line: number; column: number };

export class YamlDirectory implements Directory {
  readonly kind = 'yaml';

  /** Reads from memory cost nothing: there is nothing to share within an operation. */
  forOperation(): Directory {
    return this;
  }
  private readonly people: Person[];
  private readonly byId = new Map<string, Person>();
  /** Lower-cased email and login -> the people they name (more than one: ambiguous). */
  private readonly byEmailOrLogin = new Map<string, Person[]>();
  private readonly managerIdOf = new Map<string, string>();
  /**
   * Zones the file gives people, for the sandbox's Slack profiles (Slack, not the directory, says whose zone is whose).
   */
  private readonly zones = new Map<string, string>();
  private readonly groups = new Map<string, GroupState>();

  private constructor(
    data: DirectoryFile,
    readonly source: string,
    locate: Locate,
  ) {
    const problems: DirectoryProblem[] = [];
    const problem = (path: (string | number)[], message: string) =>
      problems.push({ file: source, ...locate(path), path: path.join('.'), message });

    this.people = data.people.map((p, i) => {
      const person: Person = {
        id: p.id ?? p.email.toLowerCase(),
        email: p.email,
        login: p.login ?? p.email,
        name: p.name,
        status: p.status,
        active: isActiveStatus(p.status),
        ...(p.title ? { title: p.title } : {}),
      };
      if (this.byId.has(person.id)) problem(['people', i, p.id ? 'id' : 'email'], `duplicate person id ${person.id}`);
      else this.byId.set(person.id, person);
      if (p.timezone) this.zones.set(person.id, p.timezone);
      return person;
    });
    for (const person of this.people) {
      for (const key of new Set([person.email.toLowerCase(), person.login.toLowerCase()])) {
        const list = this.byEmailOrLogin.get(key);
        if (list) list.push(person);
        else this.byEmailOrLogin.set(key, [person]);
      }
    }
    const logins = new Map<string, number>();
    this.people.forEach((p, i) => {
      const key = p.login.toLowerCase();
      const earlier = logins.get(key);
      if (earlier !== undefined && data.people[i]?.login !== undefined)
        problem(['people', i, 'login'], `duplicate login ${p.login} (also people.${earlier})`);
      else if (earlier === undefined) logins.set(key, i);
    });

    // References (managers, members) may name a person by email, login or id, but must name exactly one.
    const resolveRef = (ref: string, path: (string | number)[]): Person | undefined => {
      const byId = this.byId.get(ref);
      if (byId) return byId;
      const matches = this.match(ref);
      if (matches.length === 1) return matches[0];
      problem(
        path,
        matches.length === 0
          ? `${ref} is not a person in this directory`
          : `${ref} matches ${matches.length} people (${matches.map((m) => m.id).join(', ')})`,
      );
      return undefined;
    };

    data.people.forEach((p, i) => {
      if (!p.manager) return;
      const manager = resolveRef(p.manager, ['people', i, 'manager']);
      const self = this.people[i];
      if (!manager || !self) return;
      if (manager.id === self.id) problem(['people', i, 'manager'], `${self.email} cannot be their own manager`);
      else this.managerIdOf.set(self.id, manager.id);
    });

    for (const [name, group] of Object.entries(data.groups)) {
      const members = new Set<string>();
      group.members.forEach((ref, j) => {
        const person = resolveRef(ref, ['groups', name, 'members', j]);
        if (person) members.add(person.id);
      });
      this.groups.set(name, { name, type: group.type, members });
    }

    if (problems.length > 0) throw new DirectoryFileError(problems);
  }

  /** Reads and validates a directory file. Throws `DirectoryFileError` naming the file, line and key. */
  static async load(path: string): Promise<YamlDirectory> {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      throw new DirectoryFileError([
        {
          file: path,
          line: 0,
          column: 0,
          path: '',
          message: `cannot read the directory file: ${(error as Error).message}`,
        },
      ]);
    }
    return YamlDirectory.parse(text, path);
  }

  /** Parses directory YAML text; `sourceName` is used in error messages. */
  static parse(text: string, sourceName: string): YamlDirectory {
    const lineCounter = new LineCounter();
    const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
    if (doc.errors.length > 0) {
      throw new DirectoryFileError(
        doc.errors.map((e) => {
          const pos = lineCounter.linePos(e.pos[0]);
          return {
            file: sourceName,
            line: pos.line,
            column: pos.col,
            path: '',
            message: e.message.split('\n')[0] ?? e.message,
          };
        }),
      );
    }
    const locate: Locate = (path, target = 'value') => {
      const offset = offsetOf(doc, path, target);
      if (offset === undefined) return { line: 1, column: 1 };
      const pos = lineCounter.linePos(offset);
      return { line: pos.line, column: pos.col };
    };
    return YamlDirectory.build(doc.toJS() as unknown, sourceName, locate);
  }

  /** Builds a directory from already-parsed data (tests build small directories this way). */
  static fromData(data: unknown, sourceName = 'directory'): YamlDirectory {
    return YamlDirectory.build(data, sourceName, () => ({ line: 0, column: 0 }));
  }

  private static build(data: unknown, sourceName: string, locate: Locate): YamlDirectory {
    const parsed = DirectoryFileSchema.safeParse(data ?? {});
    if (!parsed.success) {
      throw new DirectoryFileError(
        parsed.error.issues.map((issue) => {
          // For an unknown key, point at the key itself rather than at the object holding it.
          const unknownKey = issue.code === 'unrecognized_keys' ? issue.keys[0] : undefined;
          const path = unknownKey === undefined ? issue.path : [...issue.path, unknownKey];
          return {
            file: sourceName,
            ...locate(path, unknownKey === undefined ? 'value' : 'key'),
            path: path.map(String).join('.'),
            message: issue.message,
          };
        }),
      );
    }
    return new YamlDirectory(parsed.data, sourceName, locate);
  }

  /** Everybody in the file, in file order (the sandbox lists them to pick who you are). */
  listPeople(): Person[] {
    return this.people.map(copy);
  }

  /** The zone the file gives a person (the sandbox sets it on their Slack profile), if any. */
  timezoneOf(personId: string): string | undefined {
    return this.zones.get(personId);
  }

  /** Every group name, in file order. */
  listGroups(): string[] {
    return [...this.groups.keys()];
  }

  private match(emailOrLogin: string): Person[] {
    return this.byEmailOrLogin.get(emailOrLogin.trim().toLowerCase()) ?? [];
  }

  async findPerson(emailOrLogin: string): Promise<Person | null> {
    const matches = this.match(emailOrLogin);
    if (matches.length > 1) {
      throw new AccessError('identity_ambiguous', `${emailOrLogin} matches ${matches.length} people in the directory`, {
        ids: matches.map((m) => m.id),
      });
    }
    return matches[0] ? copy(matches[0]) : null;
  }

  async getPerson(id: string): Promise<Person | null> {
    const person = this.byId.get(id);
    return person ? copy(person) : null;
  }

  async groupsOf(personId: string): Promise<string[]> {
    return [...this.groups.values()].filter((g) => g.members.has(personId)).map((g) => g.name);
  }

  async membersOf(groupName: string): Promise<Person[]> {
    const group = this.group(groupName);
    return [...group.members].flatMap((id) => {
      const person = this.byId.get(id);
      return person ? [copy(person)] : [];
    });
  }

  async findGroup(groupName: string): Promise<DirectoryGroup | null> {
    const group = this.groups.get(groupName);
    if (!group) return null;
    return { id: `yaml:${group.name}`, name: group.name, type: group.type, manageable: group.type === 'OKTA_GROUP' };
  }

  async managerOf(personId: string): Promise<Person | null> {
    const managerId = this.managerIdOf.get(personId);
    const manager = managerId ? this.byId.get(managerId) : undefined;
    return manager ? copy(manager) : null;
  }

  async isMember(personId: string, groupName: string): Promise<boolean> {
    return this.groups.get(groupName)?.members.has(personId) ?? false;
  }

  async addToGroup(personId: string, groupName: string): Promise<void> {
    const group = this.group(groupName);
    if (group.type !== 'OKTA_GROUP')
      throw new PermanentError(
        `group ${groupName} is an ${group.type}; its membership cannot be changed through the directory`,
      );
    if (!this.byId.has(personId)) throw new PermanentError(`no person with id ${personId} in ${this.source}`);
    group.members.add(personId);
  }

  async removeFromGroup(personId: string, groupName: string): Promise<void> {
    const group = this.group(groupName);
    if (group.type !== 'OKTA_GROUP')
      throw new PermanentError(
        `group ${groupName} is an ${group.type}; its membership cannot be changed through the directory`,
      );
    // Removing someone who is not a member is a no-op, as Okta's DELETE is.
    group.members.delete(personId);
  }

  private group(groupName: string): GroupState {
    const group = this.groups.get(groupName);
    if (!group) throw new PermanentError(`group ${groupName} is not in the directory (${this.source})`);
    return group;
  }
}

function copy(person: Person): Person {
  return { ...person };
}

/** The source offset of the node at `path` (its value, or the key naming it), or of its deepest existing ancestor. */
function offsetOf(doc: Document, path: readonly PropertyKey[], target: 'key' | 'value'): number | undefined {
  let node: unknown = doc.contents;
  let offset = rangeStart(node);
  for (const [i, key] of path.entries()) {
    if (isMap(node)) {
      const pair = node.items.find(
        (item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(key),
      );
      if (!pair) break;
      const last = i === path.length - 1;
      offset =
        (last && target === 'key' ? rangeStart(pair.key) : (rangeStart(pair.value) ?? rangeStart(pair.key))) ?? offset;
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key];
      if (item === undefined) break;
      offset = rangeStart(item) ?? offset;
      node = item;
    } else {
      break;
    }
  }
  return offset;
}

function rangeStart(node: unknown): number | undefined {
  if (node && typeof node === 'object' && 'range' in node) {
    const range = (node as { range?: [number, number, number] | null }).range;
    return range ? range[0] : undefined;
  }
  return undefined;
}
