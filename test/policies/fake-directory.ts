/** A hand-written Directory for the policy checks: groups with members, people, and an outage switch. */
import { TransientError } from '../../src/domain/errors.js';
import type { Person } from '../../src/domain/person.js';
import type { Directory, DirectoryGroup } from '../../src/operations/ports.js';

export function person(id: string, overrides: Partial<Person> = {}): Person {
  return {
    id,
    email: `${id}@example.com`,
    login: `${id}@example.com`,
    name: id,
    status: 'active',
    active: true,
    ...overrides,
  };
}

export class FakeDirectory implements Directory {
  readonly kind = 'fake';

  forOperation(): Directory {
    return this;
  }
  readonly calls: string[] = [];
  private readonly groups = new Map<string, { group: DirectoryGroup; members: Person[] }>();
  private readonly people: Person[] = [];
  private down: string | null = null;
  private callsUntilDown = Infinity;

  group(name: string, members: Person[] = [], options: { type?: string; manageable?: boolean } = {}): this {
    const type = options.type ?? 'OKTA_GROUP';
    this.groups.set(name, {
      group: { id: `g-${name}`, name, type, manageable: options.manageable ?? type === 'OKTA_GROUP' },
      members,
    });
    for (const m of members) if (!this.people.some((p) => p.id === m.id)) this.people.push(m);
    return this;
  }

  addPerson(p: Person): this {
    this.people.push(p);
    return this;
  }

  /** Every call from now on fails as an outage would. */
  goDown(message = 'okta: 503 Service Unavailable'): void {
    this.goDownAfter(0, message);
  }

  /** The first `calls` calls answer; every one after fails as an outage would. */
  goDownAfter(calls: number, message = 'okta: 503 Service Unavailable'): void {
    this.callsUntilDown = calls;
    this.down = message;
  }

  private enter(call: string): void {
    this.calls.push(call);
    if (this.down && this.calls.length > this.callsUntilDown) throw new TransientError(this.down);
  }

  async findPerson(emailOrLogin: string): Promise<Person | null> {
    this.enter(`findPerson ${emailOrLogin}`);
    const key = emailOrLogin.toLowerCase();
    return this.people.find((p) => p.email.toLowerCase() === key || p.login.toLowerCase() === key) ?? null;
  }

  async getPerson(id: string): Promise<Person | null> {
    this.enter(`getPerson ${id}`);
    return this.people.find((p) => p.id === id) ?? null;
  }

  async groupsOf(personId: string): Promise<string[]> {
    this.enter(`groupsOf ${personId}`);
    return [...this.groups.values()].filter((g) => g.members.some((m) => m.id === personId)).map((g) => g.group.name);
  }

  async membersOf(groupName: string): Promise<Person[]> {
    this.enter(`membersOf ${groupName}`);
    const g = this.groups.get(groupName);
    if (!g) throw new Error(`unknown group ${groupName}`);
    return g.members;
  }

  async findGroup(groupName: string): Promise<DirectoryGroup | null> {
    this.enter(`findGroup ${groupName}`);
    return this.groups.get(groupName)?.group ?? null;
  }

  async managerOf(personId: string): Promise<Person | null> {
    this.enter(`managerOf ${personId}`);
    return null;
  }

  async isMember(personId: string, groupName: string): Promise<boolean> {
    this.enter(`isMember ${personId} ${groupName}`);
    return this.groups.get(groupName)?.members.some((m) => m.id === personId) ?? false;
  }

  async addToGroup(): Promise<void> {
    throw new Error('the policy check must not change the directory');
  }

  async removeFromGroup(): Promise<void> {
    throw new Error('the policy check must not change the directory');
  }
}
