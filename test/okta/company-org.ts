/**
 * For a test file: the Okta stand-in holding the lifecycle harness's example company (COMPANY),
 * started once, seeded before each test and emptied after it (holds released, requests cleared).
 * Group ids are `00g-<name>`; user ids are the harness's directory ids.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { COMPANY } from '../support/lifecycle-harness.js';
import { seedCompanyOrg } from './fixtures.js';
import { OktaStandIn } from './okta-stand-in.js';

export function companyOktaPerTest(): { readonly okta: OktaStandIn } {
  const holder = {} as { okta: OktaStandIn };
  beforeAll(async () => {
    holder.okta = new OktaStandIn();
    await holder.okta.start();
  });
  afterAll(() => holder.okta.stop());
  beforeEach(() => seedCompanyOrg(holder.okta, COMPANY));
  // Registered first, so it runs after the test file's own clean-up (vitest runs after-hooks in reverse).
  afterEach(() => {
    const { okta } = holder;
    okta.releaseHolds();
    okta.delayEvery(0);
    for (const person of COMPANY.people) okta.removeUser(person.id);
    for (const name of Object.keys(COMPANY.groups)) okta.removeGroup(`00g-${name}`);
    okta.clearRequests();
  });
  return holder;
}
