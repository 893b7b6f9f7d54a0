import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import Papa from 'papaparse';
import { hostname, tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../src/adapters/db/sqlite-store.js';
import { silentLogger } from '../../src/adapters/log/json-logger.js';
import { loadConfig } from '../../src/config.js';
import { identifySlackUser } from '../../src/operations/identify-person.js';
import { identifyByEmail } from '../../src/operations/identify-person.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { createRuntime } from '../../src/runtime.js';
import { populationHash } from '../../src/domain/reviews/population.js';
import { cli, EXAMPLE_ENV } from './helpers.js';

let dir: string;
let env: Record<string, string>;
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'access-bot-cli-'));
  env = { ...EXAMPLE_ENV, DATABASE_PATH: join(dir, 'access.db') };
  // Some history through the real runtime and operations: an auto-approved grant and a pending request.
  const runtime = await createRuntime(loadConfig(env), { logger: silentLogger });
  const { deps } = runtime;
  await submitRequest(deps, {
    requester: await identifyByEmail(deps, 'ada@example.com'),
    app: 'github',
    role: 'member',
  });
  await submitRequest(deps, {
    requester: await identifyByEmail(deps, 'ada@example.com'),
    app: 'aws-prod',
    role: 'admin',
    justification: 'INC-7 database failover',
  });
  await identifySlackUser(deps, { slackUserId: 'U0ADA', email: 'ada@example.com' });
  await runtime.close();
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('lifecycle commands', () => {
  it('sweep runs the due provisioning jobs and leaves messages to the bot', async () => {
    const result = await cli(['sweep'], env);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('jobs: 1 done, 0 to retry, 0 given up');
    expect(result.stdout).toMatch(/messages waiting for the bot to send: [1-9]/);
    const grants = await cli(['grants', 'list', '--active'], env);
    expect(grants.stdout).toMatch(/ada@example.com\s+github\/member\s+active/);
  });

  it('lists requests with their status, step and policy version, filtered by status and user', async () => {
    const pending = await cli(['requests', 'list', '--status', 'pending_approval'], env);
    expect(pending.code).toBe(0);
    expect(pending.stdout).toMatch(
      /ada@example.com\s+aws-prod\/admin\s+1 hour\s+pending_approval\s+1\/2\s+aws-prod-admin@[0-9a-f]{12}/,
    );
    expect(pending.stdout).not.toContain('github/member');
    const json = await cli(['requests', 'list', '--user', 'ADA@example.com', '--json'], env);
    expect(
      json.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { app: string }).app)
        .sort(),
    ).toEqual(['aws-prod', 'github']);
    expect((await cli(['requests', 'list', '--status', 'bogus'], env)).code).toBe(2);
    expect((await cli(['requests', 'list', '--user', 'nobody@example.com'], env)).code).toBe(1);
  });

  it('audit verify confirms the chain, and names a tampered event with exit 1', async () => {
    const ok = await cli(['audit', 'verify'], env);
    expect(ok.code).toBe(0);
    const head = /head ([0-9a-f]{64})/.exec(ok.stdout)![1]!;
    expect((await cli(['audit', 'verify', '--expect-head', head], env)).code).toBe(0);

    const Database = (await import('better-sqlite3')).default;
    const db = new Database(env.DATABASE_PATH!);
    db.prepare(
      `update audit_events set details = json_set(details, '$.justification', 'routine') where action = 'request.submitted' and request_id like 'req_%' and json_extract(details, '$.app') = 'aws-prod'`,
    ).run();
    const seq = (
      db
        .prepare(
          `select seq from audit_events where action = 'request.submitted' and json_extract(details, '$.app') = 'aws-prod'`,
        )
        .get() as { seq: number }
    ).seq;
    db.close();
    const broken = await cli(['audit', 'verify'], env);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain(`event ${seq} (request.submitted) was changed`);
    expect((await cli(['audit', 'verify', '--expect-head', 'nothex'], env)).code).toBe(2);
  });

  it('identity unbind needs an admin and a reason, and is audited', async () => {
    const refused = await cli(
      ['identity', 'unbind', '--slack-user', 'U0ADA', '--admin', 'ada@example.com', '--reason', 'x'],
      env,
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Only members of access-admins');
    expect((await cli(['identity', 'unbind', '--slack-user', 'U0ADA'], env)).code).toBe(2);
    const done = await cli(
      ['identity', 'unbind', '--slack-user', 'U0ADA', '--admin', 'jordan@example.com', '--reason', 'new Slack account'],
      env,
    );
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toContain('unbound U0ADA');
  });

  it('records what an admin does from the command line as such: via the CLI, which OS user, no Slack id (L9)', async () => {
    const runtime = await createRuntime(loadConfig(env), { logger: silentLogger });
    await identifySlackUser(runtime.deps, { slackUserId: 'U0JORDAN', email: 'jordan@example.com' }); // Jordan also uses Slack
    await runtime.close();
    const unbound = await cli(
      ['identity', 'unbind', '--slack-user', 'U0ADA', '--admin', 'jordan@example.com', '--reason', 'new Slack account'],
      env,
    );
    expect(unbound.code, unbound.stderr).toBe(0);
    const exported = await cli(
      ['export', 'requests', '--admin', 'jordan@example.com', '--out', join(dir, 'requests.csv')],
      env,
    );
    expect(exported.code, exported.stderr).toBe(0);

    const store = SqliteStore.open(env.DATABASE_PATH!);
    const events = await store.auditEvents({ limit: 1000 });
    await store.close();
    for (const action of ['identity.unbound', 'export.created'] as const) {
      const actor = events.find((e) => e.action === action)!.actor;
      expect(actor, action).toEqual({
        kind: 'person',
        directoryId: expect.any(String),
        email: 'jordan@example.com',
        via: 'cli',
        osUser: userInfo().username,
        host: hostname(),
      });
    }
  });
});

describe("sweep on the sandbox's configuration (M2)", () => {
  it('sends webhook calls to the embedded receiver, never to the URL in the policy', async () => {
    const { createServer } = await import('node:net');
    let connections = 0;
    const endpoint = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve));
    try {
      const policies = join(dir, 'policies');
      cpSync('policies', policies, { recursive: true });
      const billing = join(policies, 'billing.yml');
      const port = (endpoint.address() as { port: number }).port;
      writeFileSync(
        billing,
        readFileSync(billing, 'utf8')
          .replace(
            '    approval:\n      - manager\n    extension: { max_total: 30d, approval: same }',
            '    approval: auto\n    extension: { max_total: 30d, approval: same }',
          )
          .replaceAll('https://billing.internal.example.com/access-hooks', `https://127.0.0.1:${port}/access-hooks`),
      );
      const sandboxEnv = { ...env, POLICIES_DIR: policies }; // the real secret is set, and still not used
      const runtime = await createRuntime(loadConfig(sandboxEnv), { logger: silentLogger });
      const result = await submitRequest(runtime.deps, {
        requester: await identifyByEmail(runtime.deps, 'ada@example.com'),
        app: 'billing',
        role: 'viewer',
      });
      await runtime.close();
      if (result.kind !== 'submitted' || !result.grant) throw new Error(result.kind);

      const swept = await cli(['sweep'], sandboxEnv);
      expect(swept.code, swept.stderr).toBe(0);
      expect(connections).toBe(0);
      const store = SqliteStore.open(env.DATABASE_PATH!);
      expect((await store.getGrant(result.grant.id))!.status).toBe('active');
      await store.close();
    } finally {
      await new Promise<void>((resolve) => endpoint.close(() => resolve()));
    }
  });
});

describe('access review commands (issue 17)', () => {
  it('starts the example review, shows its progress, closes it, and exports its evidence', async () => {
    const refused = await cli(['reviews', 'start', 'quarterly-sensitive', '--admin', 'ada@example.com'], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('not started: Only members of access-admins');
    expect((await cli(['reviews', 'start', 'no-such-review'], env)).stderr).toContain(
      'the reviews are quarterly-sensitive',
    );

    const started = await cli(['reviews', 'start', 'quarterly-sensitive', '--admin', 'jordan@example.com'], env);
    expect(started.code, started.stderr).toBe(0);
    const campaign = /campaign (rvc_\w+)/.exec(started.stdout)![1]!;
    // Dave (github-owners) and Linus (aws-prod-readonly) are standing members; both report to Marcus.
    expect(started.stdout).toMatch(/population {2}2 items, hash [0-9a-f]{64}/);
    expect((await cli(['reviews', 'start', 'quarterly-sensitive'], env)).stderr).toContain(
      `already running: campaign ${campaign}`,
    );

    const status = await cli(['reviews', 'status', campaign], env);
    expect(status.stdout).toContain('decisions   0 decided on time: 0 kept, 0 revoked; 2 pending; 0 undecided');
    expect(status.stdout).toMatch(/Marcus Chen\s+marcus@example.com\s+2\s+0\s+2/);

    const closed = await cli(['reviews', 'close', campaign, '--admin', 'jordan@example.com'], env);
    expect(closed.code, closed.stderr).toBe(0);
    expect(closed.stdout).toContain('items       2: 0 decided on time, 0 kept, 0 revoked, 2 undecided');
    expect((await cli(['reviews', 'close', campaign], env)).stderr).toContain('already closed');

    const out = join(dir, 'reviews.csv');
    const exported = await cli(['export', 'reviews', '--campaign', campaign, '--out', out], env);
    expect(exported.code, exported.stderr).toBe(0);
    const rows = Papa.parse<Record<string, string>>(readFileSync(out, 'utf8').replace(/^\uFEFF/, ''), {
      header: true,
      skipEmptyLines: true,
    }).data;
    expect(rows.map((r) => [r.holder_email, r.access, r.source, r.decision])).toEqual([
      ['linus@example.com', 'group:aws-prod-readonly', 'standing', 'undecided'],
      ['dave@example.com', 'group:github-owners', 'standing', 'undecided'],
    ]);
    const lines = rows.map((r) => `${r.holder_okta_id}\t${r.access}\t${r.source}`);
    expect(populationHash(lines)).toBe(rows[0]!.population_hash);

    // Closed, it is still the review's latest: the overview counts it.
    const latest = await cli(['reviews', 'status'], env);
    expect(latest.stdout).toMatch(
      new RegExp(`${campaign}\\s+quarterly-sensitive\\s+closed\\s+\\S+\\s+\\S+\\s+2\\s+0\\s+0\\s+2`),
    );
    // A second campaign: the overview shows it alone (the first is history), --all lists both.
    const again = await cli(['reviews', 'start', 'quarterly-sensitive', '--admin', 'jordan@example.com'], env);
    expect(again.code, again.stderr).toBe(0);
    const second = /campaign (rvc_\w+)/.exec(again.stdout)![1]!;
    const overview = await cli(['reviews', 'status', '--json'], env);
    expect(
      (JSON.parse(overview.stdout) as { id: string; status: string; counts: { items: number } }[]).map((c) => [
        c.id,
        c.status,
        c.counts.items,
      ]),
    ).toEqual([[second, 'open', 2]]);
    const all = await cli(['reviews', 'status', '--all'], env);
    expect(all.stdout).toContain(second);
    expect(all.stdout).toContain(campaign);
    expect(all.stdout).not.toMatch(/pending|undecided/);

    // Its review file removed, both closed campaigns are history: the overview says where they are.
    expect((await cli(['reviews', 'close', second, '--admin', 'jordan@example.com'], env)).code).toBe(0);
    const policies = join(dir, 'policies-without-review');
    cpSync('policies', policies, { recursive: true });
    rmSync(join(policies, 'reviews', 'quarterly-sensitive.yml'));
    const history = await cli(['reviews', 'status'], { ...env, POLICIES_DIR: policies });
    expect(history.code, history.stderr).toBe(0);
    expect(history.stdout).toContain('no open campaign, and no current review has had one (reviews status --all');
  });
});

describe('review definition versions (issue 17)', () => {
  it("records the review file's version at each start, logs an edit once, and exports both versions", async () => {
    const policies = join(dir, 'policies');
    cpSync('policies', policies, { recursive: true });
    const file = join(policies, 'reviews', 'quarterly-sensitive.yml');
    const started = { ...env, POLICIES_DIR: policies };
    const reviewEvents = async () => {
      const store = SqliteStore.open(env.DATABASE_PATH!);
      try {
        return (await store.auditEvents({ limit: 10_000 })).filter((e) => e.action.startsWith('reviewDefinition.'));
      } finally {
        await store.close();
      }
    };

    expect((await cli(['sweep'], started)).code).toBe(0);
    expect((await cli(['sweep'], started)).code).toBe(0);
    expect((await reviewEvents()).map((e) => e.action)).toEqual(['reviewDefinition.added']);

    writeFileSync(file, readFileSync(file, 'utf8').replace('due: 14d', 'due: 21d'));
    expect((await cli(['sweep'], started)).code).toBe(0);
    expect((await cli(['sweep'], started)).code).toBe(0);
    const events = await reviewEvents();
    expect(events.map((e) => e.action)).toEqual(['reviewDefinition.added', 'reviewDefinition.changed']);
    expect(events[1]!.details).toMatchObject({
      review: 'quarterly-sensitive',
      changes: [{ path: 'due', before: '2w', after: '3w' }],
    });

    const out = join(dir, 'policies.csv');
    const exported = await cli(['export', 'policies', '--out', out], started);
    expect(exported.code, exported.stderr).toBe(0);
    const rows = Papa.parse<Record<string, string>>(readFileSync(out, 'utf8').replace(/^\uFEFF/, ''), {
      header: true,
      skipEmptyLines: true,
    }).data;
    const review = rows.filter((r) => r.policy_name === 'review:quarterly-sensitive');
    expect(review.map((r) => [r.version, r.app, r.role, r.current])).toEqual([
      [events[1]!.details.from, '', '', 'false'],
      [events[1]!.details.to, '', '', 'true'],
    ]);
    expect(review[0]!.in_force_until).toBe(review[1]!.first_seen_at);
    expect(JSON.parse(review[1]!.definition!)).toMatchObject({ review: 'quarterly-sensitive', due: '3w' });
    expect(rows.some((r) => r.app === 'github' && r.role === 'owner')).toBe(true); // the policies stay beside it
  });
});
