import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkOktaGroups } from '../../src/adapters/okta/okta-startup-check.js';
import { OktaStandIn } from './okta-stand-in.js';
import { directoryFor, seedOrg } from './fixtures.js';

let okta: OktaStandIn;
let url: string;

beforeEach(async () => {
  okta = new OktaStandIn();
  seedOrg(okta);
  ({ url } = await okta.start());
});

afterEach(async () => {
  await okta.stop();
});

describe('checkOktaGroups at start-up', () => {
  it('passes when every group exists and every provisioned group is an OKTA_GROUP', async () => {
    const result = await checkOktaGroups(directoryFor(url), [
      { name: 'github-owners', provisioned: true, where: 'policies/github.yml:14 roles[0].provision.okta_group' },
      { name: 'ad-engineering', provisioned: false, where: 'policies/github.yml:9 roles[0].eligible_groups[0]' },
      { name: 'Everyone', provisioned: false, where: 'policies/wiki.yml:9 roles[0].eligible_groups[0]' },
    ]);
    expect(result).toEqual({ ok: true, problems: [] });
  });

  it('reports a missing group and an app-sourced group the bot would have to provision', async () => {
    const result = await checkOktaGroups(directoryFor(url), [
      { name: 'github-ownrs', provisioned: true, where: 'policies/github.yml:14 roles[0].provision.okta_group' },
      { name: 'ad-engineering', provisioned: true, where: 'policies/jira.yml:20 roles[1].provision.okta_group' },
      { name: 'platform-team', provisioned: false, where: 'policies/github.yml:9 roles[0].eligible_groups[0]' },
    ]);
    expect(result).toEqual({
      ok: false,
      problems: [
        {
          group: 'github-ownrs',
          where: 'policies/github.yml:14 roles[0].provision.okta_group',
          code: 'missing',
          message: 'policies/github.yml:14 roles[0].provision.okta_group: Okta has no group named "github-ownrs"',
        },
        expect.objectContaining({ group: 'ad-engineering', code: 'not_manageable', message: expect.stringContaining('APP_GROUP') }),
      ],
    });
  });

  it('says Okta is unreachable, not that groups are missing, when Okta is down at start', async () => {
    const directory = directoryFor(url, { maxAttempts: 2 });
    await okta.goDown();
    const result = await checkOktaGroups(directory, [{ name: 'github-owners', provisioned: true, where: 'policies/github.yml:14' }]);
    expect(result).toEqual({ unreachable: expect.stringContaining('ECONNREFUSED') });
  });

  it('says Okta is unreachable when it keeps answering 5xx', async () => {
    okta.failNext('/api/v1/groups', 10, 503);
    const result = await checkOktaGroups(directoryFor(url, { maxAttempts: 3 }), [
      { name: 'github-owners', provisioned: true, where: 'policies/github.yml:14' },
    ]);
    expect(result).toEqual({ unreachable: expect.stringContaining('503') });
    expect(okta.count('/api/v1/groups')).toBe(3);
  });
});
