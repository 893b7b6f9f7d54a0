/** Start-up with OKTA_ORG_URL set: the runtime checks the policies' groups against Okta. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/adapters/log/json-logger.js';
import { PolicyLoadError } from '../../src/adapters/policies/policy-problem.js';
import { loadConfig } from '../../src/config.js';
import { createRuntime, recheckDirectoryUntilReachable } from '../../src/runtime.js';
import { OktaStandIn } from './okta-stand-in.js';

let okta: OktaStandIn;
let dir: string;
let env: Record<string, string>;

const POLICY = `app: github
name: GitHub
roles:
  - id: owner
    name: Owner
    policy: github-owner
    eligible_groups: [platform-team]
    duration: { default: 1h, max: 4h }
    approval: [manager]
    provision:
      okta_group: github-owners
`;

beforeEach(async () => {
  okta = new OktaStandIn();
  const { url } = await okta.start();
  okta
    .addUser({ id: '00uadmin', email: 'admin@example.com', firstName: 'Ada', lastName: 'Admin' })
    .addGroup({ id: '00gadmins', name: 'access-admins' })
    .addGroup({ id: '00gplatform', name: 'platform-team' })
    .addMember('00gadmins', '00uadmin');
  dir = mkdtempSync(join(tmpdir(), 'access-bot-okta-'));
  writeFileSync(join(dir, 'settings.yml'), 'admin_group: access-admins\nsecurity_channel: C0SECURITY\n');
  writeFileSync(join(dir, 'github.yml'), POLICY);
  env = {
    OKTA_ORG_URL: url,
    OKTA_API_TOKEN: 'test-token',
    POLICIES_DIR: dir,
    DATABASE_PATH: join(dir, 'access.db'),
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_SIGNING_SECRET: 'secret',
  };
});
afterEach(async () => {
  await okta.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('start-up against Okta', () => {
  it('names a missing group and an app-sourced provisioned group with file, line and key', async () => {
    okta.addGroup({ id: '00gghowners', name: 'github-owners', type: 'APP_GROUP' });
    const error = await createRuntime(loadConfig(env), { logger: silentLogger }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PolicyLoadError);
    expect((error as PolicyLoadError).message).toMatch(
      /github\.yml:11:\d+ roles\[0\]\.provision\.okta_group: .*github-owners.*(APP_GROUP|app-sourced)/,
    );

    okta.removeGroup('00gghowners').removeGroup('00gplatform');
    const missing = await createRuntime(loadConfig(env), { logger: silentLogger }).catch((e: unknown) => e);
    expect((missing as PolicyLoadError).message).toMatch(
      /github\.yml:7:\d+ roles\[0\]\.eligible_groups\[0\]: .*platform-team/,
    );
    expect((missing as PolicyLoadError).message).toMatch(/github-owners/);
  });

  it('starts anyway when Okta is down, and says so', async () => {
    okta.addGroup({ id: '00gghowners', name: 'github-owners' });
    await okta.goDown();
    const runtime = await createRuntime(loadConfig(env), { logger: silentLogger });
    try {
      expect(runtime.directoryUnreachable).toBeTruthy();
      expect(runtime.deps.directory.kind).toBe('okta');
    } finally {
      await runtime.close();
    }
  });

  it('checks again once Okta is back, and alerts on a definite problem found then', async () => {
    okta.addGroup({ id: '00gghowners', name: 'github-owners', type: 'APP_GROUP' });
    await okta.goDown();
    const runtime = await createRuntime(loadConfig(env), { logger: silentLogger });
    try {
      expect(runtime.directoryUnreachable).toBeTruthy();
      await okta.comeBackUp();
      const stop = recheckDirectoryUntilReachable(runtime, 50);
      const alertJob = await new Promise<string>((resolve) => {
        const poll = setInterval(async () => {
          const job = (await runtime.store.listJobs({})).find((j) => j.key.startsWith('notify:alert:policy-check:'));
          if (job) {
            clearInterval(poll);
            resolve(JSON.stringify(job.payload));
          }
        }, 20);
      });
      stop();
      expect(runtime.directoryUnreachable).toBeUndefined();
      expect(alertJob).toContain('github-owners');
      expect(alertJob).toContain('C0SECURITY'); // the alerts channel defaults to the security channel
    } finally {
      await runtime.close();
    }
  });
});
