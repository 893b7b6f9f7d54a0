/** Wraps a directory so a test can deactivate people or make calls fail, like a flaky Okta. */
import type { Person } from '../../src/domain/person.js';
import type { Directory, DirectoryGroup } from '../../src/operations/ports.js';

export class ControllableDirectory implements Directory {
  readonly kind: string;
  private readonly statuses = new Map<string, string>();
  private readonly failures: { method: keyof Directory; error: Error }[] = [];
  readonly calls: { method: string; args: unknown[] }[] = [];
  /** Runs before every call: a test can make the directory slow (e.g. move its clock). */
  beforeCall: ((method: keyof Directory) => void | Promise<void>) | undefined;

  constructor(private readonly inner: Directory) {
    this.kind = inner.kind;
  }

  /** The inner directory's view for one operation, with this wrapper's statuses, failures and call log. */
  forOperation(): Directory {
    return Object.create(this, { inner: { value: this.inner.forOperation() } }) as ControllableDirectory;
  }

  setStatus(personId: string, status: string): void {
    this.statuses.set(personId, status);
  }

  failNext(method: keyof Directory, error: Error, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push({ method, error });
  }

  private apply(person: Person | null): Person | null {
    if (!person) return null;
    const status = this.statuses.get(person.id);
    if (status === undefined) return person;
    if (status === 'gone') return null;
    return { ...person, status, active: status === 'active' };
  }

  private async call<T>(method: keyof Directory, args: unknown[], run: () => Promise<T>): Promise<T> {
    this.calls.push({ method, args });
    await this.beforeCall?.(method);
    const index = this.failures.findIndex((f) => f.method === method);
    if (index >= 0) {
      const [failure] = this.failures.splice(index, 1);
      throw failure!.error;
    }
    return run();
  }

  findPerson(emailOrLogin: string) {
    return this.call('findPerson', [emailOrLogin], async () => this.apply(await this.inner.findPerson(emailOrLogin)));
  }
  getPerson(id: string) {
    return this.call('getPerson', [id], async () => this.apply(await this.inner.getPerson(id)));
  }
  groupsOf(personId: string, options?: { maxAgeMs?: number }) {
    return this.call('groupsOf', [personId], () =>
      options ? this.inner.groupsOf(personId, options) : this.inner.groupsOf(personId),
    );
  }
  membersOf(groupName: string) {
    return this.call('membersOf', [groupName], async () =>
      (await this.inner.membersOf(groupName)).map((p) => this.apply(p)).filter((p): p is Person => p !== null),
    );
  }
  findGroup(groupName: string): Promise<DirectoryGroup | null> {
    return this.call('findGroup', [groupName], () => this.inner.findGroup(groupName));
  }
  managerOf(personId: string) {
    return this.call('managerOf', [personId], async () => this.apply(await this.inner.managerOf(personId)));
  }
  isMember(personId: string, groupName: string) {
    return this.call('isMember', [personId, groupName], () => this.inner.isMember(personId, groupName));
  }
  addToGroup(personId: string, groupName: string) {
    return this.call('addToGroup', [personId, groupName], () => this.inner.addToGroup(personId, groupName));
  }
  removeFromGroup(personId: string, groupName: string) {
    return this.call('removeFromGroup', [personId, groupName], () => this.inner.removeFromGroup(personId, groupName));
  }
}
