import { describe, expect, it } from 'vitest';
import { DirectoryFileError, YamlDirectory } from '../../src/adapters/directory/yaml-directory.js';
import { AccessError, PermanentError } from '../../src/domain/errors.js';

const small = () =>
  YamlDirectory.fromData(
    {
      people: [
        {
          id: 'u-ada',
          email: 'Ada@Example.com',
          login: 'ada',
          name: 'Ada Lovelace',
          title: 'Engineer',
          manager: 'marcus@example.com',
        },
        { id: 'u-marcus', email: 'marcus@example.com', name: 'Marcus Chen', title: 'Engineering manager' },
        { id: 'u-dave', email: 'dave@example.com', name: 'Dave Stone', status: 'deprovisioned', manager: 'u-marcus' },
        { email: 'kim@example.com', name: 'Kim Nguyen' },
      ],
      groups: {
        'platform-team': { members: ['ada', 'dave@example.com'] },
        'security-team': { members: ['KIM@example.com'] },
        'salesforce-users': { type: 'APP_GROUP', members: ['marcus@example.com'] },
        empty: {},
      },
    },
    'small.yml',
  );

describe('YamlDirectory', () => {
  it('is a directory of kind yaml', () => {
    expect(small().kind).toBe('yaml');
  });

  it('finds people by email, case-insensitively, and by login', async () => {
    const directory = small();
    expect(await directory.findPerson('ada@example.com')).toEqual({
      id: 'u-ada',
      email: 'Ada@Example.com',
      login: 'ada',
      name: 'Ada Lovelace',
      title: 'Engineer',
      status: 'active',
      active: true,
    });
    expect((await directory.findPerson('ADA'))?.id).toBe('u-ada');
    expect(await directory.findPerson('nobody@example.com')).toBeNull();
  });

  it('defaults the id and login to the email, and the status to active', async () => {
    expect(await small().findPerson('kim@example.com')).toEqual({
      id: 'kim@example.com',
      email: 'kim@example.com',
      login: 'kim@example.com',
      name: 'Kim Nguyen',
      status: 'active',
      active: true,
    });
  });

  it('marks deprovisioned people inactive', async () => {
    expect(await small().getPerson('u-dave')).toMatchObject({ status: 'deprovisioned', active: false });
  });

  it('refuses to guess when an email matches several people', async () => {
    const directory = YamlDirectory.fromData({
      people: [
        { id: 'a', email: 'sam@example.com', name: 'Sam A' },
        { id: 'b', email: 'SAM@example.com', name: 'Sam B' },
      ],
    });
    const error = await directory.findPerson('sam@example.com').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AccessError);
    expect(error).toMatchObject({ code: 'identity_ambiguous', details: { ids: ['a', 'b'] } });
  });

  it('reports a login that matches another person as ambiguous too', async () => {
    const directory = YamlDirectory.fromData({
      people: [
        { id: 'a', email: 'sam@example.com', login: 'sam-a', name: 'Sam A' },
        { id: 'b', email: 'other@example.com', login: 'sam@example.com', name: 'Sam B' },
      ],
    });
    await expect(directory.findPerson('sam@example.com')).rejects.toMatchObject({ code: 'identity_ambiguous' });
  });

  it('gets people by id', async () => {
    expect((await small().getPerson('u-marcus'))?.name).toBe('Marcus Chen');
    expect(await small().getPerson('u-nobody')).toBeNull();
  });

  it('resolves managers named by email or id', async () => {
    const directory = small();
    expect((await directory.managerOf('u-ada'))?.id).toBe('u-marcus');
    expect((await directory.managerOf('u-dave'))?.id).toBe('u-marcus');
    expect(await directory.managerOf('u-marcus')).toBeNull();
  });

  it('lists groups and members, members named by email, login or any case', async () => {
    const directory = small();
    expect(await directory.groupsOf('u-ada')).toEqual(['platform-team']);
    expect((await directory.membersOf('platform-team')).map((p) => p.id)).toEqual(['u-ada', 'u-dave']);
    expect((await directory.membersOf('security-team')).map((p) => p.id)).toEqual(['kim@example.com']);
    expect(await directory.membersOf('empty')).toEqual([]);
    expect(await directory.isMember('u-ada', 'platform-team')).toBe(true);
    expect(await directory.isMember('u-ada', 'security-team')).toBe(false);
    expect(await directory.isMember('u-ada', 'no-such-group')).toBe(false);
  });

  it('throws PermanentError for the members of an unknown group', async () => {
    await expect(small().membersOf('no-such-group')).rejects.toBeInstanceOf(PermanentError);
  });

  it('describes groups: OKTA_GROUP by default and manageable, APP_GROUP read-only', async () => {
    const directory = small();
    expect(await directory.findGroup('platform-team')).toEqual({
      id: 'yaml:platform-team',
      name: 'platform-team',
      type: 'OKTA_GROUP',
      manageable: true,
    });
    expect(await directory.findGroup('salesforce-users')).toMatchObject({ type: 'APP_GROUP', manageable: false });
    expect(await directory.findGroup('no-such-group')).toBeNull();
  });

  it('adds and removes members in memory; adding twice and removing a non-member change nothing', async () => {
    const directory = small();
    await directory.addToGroup('u-marcus', 'platform-team');
    await directory.addToGroup('u-marcus', 'platform-team');
    expect((await directory.membersOf('platform-team')).map((p) => p.id)).toEqual(['u-ada', 'u-dave', 'u-marcus']);
    await directory.removeFromGroup('u-ada', 'platform-team');
    await directory.removeFromGroup('u-ada', 'platform-team');
    await directory.removeFromGroup('kim@example.com', 'platform-team');
    expect(await directory.groupsOf('u-ada')).toEqual([]);
    expect((await directory.membersOf('platform-team')).map((p) => p.id)).toEqual(['u-dave', 'u-marcus']);
  });

  it('refuses to change an unknown group, an app group, or add an unknown person', async () => {
    const directory = small();
    await expect(directory.addToGroup('u-ada', 'no-such-group')).rejects.toBeInstanceOf(PermanentError);
    await expect(directory.removeFromGroup('u-ada', 'no-such-group')).rejects.toBeInstanceOf(PermanentError);
    await expect(directory.addToGroup('u-ada', 'salesforce-users')).rejects.toThrow(/APP_GROUP/);
    await expect(directory.addToGroup('u-nobody', 'platform-team')).rejects.toBeInstanceOf(PermanentError);
  });

  it('hands out copies, so callers cannot change the directory by editing a person', async () => {
    const directory = small();
    const ada = await directory.getPerson('u-ada');
    ada!.status = 'suspended';
    expect((await directory.getPerson('u-ada'))?.status).toBe('active');
  });

  it('loads the example directory', async () => {
    const directory = await YamlDirectory.load('directory.example.yml');
    expect(directory.listPeople().length).toBeGreaterThanOrEqual(12);
    expect((await directory.findPerson('ciso@example.com'))?.title).toBe('CISO');
    expect((await directory.findPerson('grace@example.com'))?.email).toBe('ciso@example.com');
    expect((await directory.membersOf('access-admins')).length).toBe(2);
    expect((await directory.membersOf('security-team')).length).toBe(3);
    const dave = await directory.findPerson('dave@example.com');
    expect(dave?.active).toBe(false);
    expect(await directory.groupsOf(dave!.id)).toContain('github-owners');
  });
});

describe('YamlDirectory validation', () => {
  const problemsOf = (fn: () => unknown): string[] => {
    try {
      fn();
    } catch (error) {
      expect(error).toBeInstanceOf(DirectoryFileError);
      return (error as DirectoryFileError).message.split('\n');
    }
    throw new Error('expected a DirectoryFileError');
  };

  it('names the file, line, column and key of each schema problem', () => {
    const text = `people:
  - email: ada@example.com
    name: Ada
    status: retired
  - email: not-an-email
    name: Bob
    shoe_size: 44
groups:
  team:
    type: BUILT_IN
`;
    const lines = problemsOf(() => YamlDirectory.parse(text, 'dir.yml'));
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^dir\.yml:4:13 people\.0\.status: /);
    expect(lines[1]).toMatch(/^dir\.yml:5:12 people\.1\.email: /);
    expect(lines[2]).toMatch(/^dir\.yml:7:5 people\.1\.shoe_size: .*shoe_size/);
    expect(lines[3]).toMatch(/^dir\.yml:10:11 groups\.team\.type: /);
  });

  it('reports references to people who are not in the file, and ambiguous ones', () => {
    const text = `people:
  - { id: a, email: sam@example.com, name: Sam A }
  - { id: b, email: sam@example.com, name: Sam B, manager: nobody@example.com }
groups:
  team:
    members: [a, sam@example.com, ghost@example.com]
`;
    const lines = problemsOf(() => YamlDirectory.parse(text, 'dir.yml'));
    expect(lines).toEqual([
      'dir.yml:3:60 people.1.manager: nobody@example.com is not a person in this directory',
      'dir.yml:6:18 groups.team.members.1: sam@example.com matches 2 people (a, b)',
      'dir.yml:6:35 groups.team.members.2: ghost@example.com is not a person in this directory',
    ]);
  });

  it('reports a login used twice', () => {
    const lines = problemsOf(() =>
      YamlDirectory.fromData(
        {
          people: [
            { email: 'a@example.com', name: 'A' },
            { email: 'b@example.com', login: 'A@example.com', name: 'B' },
          ],
        },
        'mem',
      ),
    );
    expect(lines).toEqual(['mem people.1.login: duplicate login A@example.com (also people.0)']);
  });

  it('reports duplicate ids and self-management', () => {
    const lines = problemsOf(() =>
      YamlDirectory.fromData(
        {
          people: [
            { id: 'x', email: 'a@example.com', name: 'A', manager: 'x' },
            { id: 'x', email: 'b@example.com', name: 'B' },
          ],
        },
        'mem',
      ),
    );
    expect(lines).toEqual([
      'mem people.1.id: duplicate person id x',
      'mem people.0.manager: a@example.com cannot be their own manager',
    ]);
  });

  it('reports YAML syntax errors with their position', () => {
    const lines = problemsOf(() =>
      YamlDirectory.parse('people:\n  - email: a@example.com\n   name: [oops\n', 'broken.yml'),
    );
    expect(lines[0]).toMatch(/^broken\.yml:\d+:\d+ \(root\): /);
  });

  it('says when the file cannot be read', async () => {
    await expect(YamlDirectory.load('no/such/directory.yml')).rejects.toThrow(
      /^no\/such\/directory\.yml \(root\): cannot read the directory file/,
    );
  });
});
