/**
 * Who is offered emergency access, decided once in the core: the Slack form opens from the same
 * answer the submission re-checks, so the form and the submission refuse with the same sentence.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AccessError } from '../../src/domain/errors.js';
import { breakGlassOfferFor, invokeBreakGlass } from '../../src/operations/break-glass.js';
import { createHarness, examplePolicies, ONCALL_BREAK_GLASS, type Harness } from '../support/lifecycle-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness({ policies: examplePolicies({ owner: { breakGlass: ONCALL_BREAK_GLASS } }) });
});
afterEach(async () => await h.close());

const entry = (app: string, role: string) => h.deps.catalog.find(app, role)!;
const offerTo = async (email: string, app: string, role: string) =>
  breakGlassOfferFor(h.deps, (await h.as(email)).person, entry(app, role));
const submitted = async (email: string, app: string, role: string) =>
  invokeBreakGlass(h.deps, { requester: await h.as(email), app, role, justification: 'prod is down' }).catch(
    (error: unknown) => error as AccessError,
  );

describe('the break-glass offer', () => {
  it('offers the on-call engineer the cap, the choices and the default of the rule', async () => {
    const offer = await offerTo('alan@example.com', 'github', 'owner');
    expect(offer).toMatchObject({ kind: 'offered', check: { maxSeconds: 3600, defaultSeconds: 3600 } });
  });

  it('refuses with the sentence the submission gives: not eligible, no rule, already held', async () => {
    const cases = [
      ['ada@example.com', 'github', 'owner', 'not_eligible', /You may not use emergency access to .*sre-oncall/],
      ['alan@example.com', 'aws', 'admin', 'break_glass_not_allowed', /has no emergency access.*access request aws/],
    ] as const;
    for (const [email, app, role, code, sentence] of cases) {
      const offer = await offerTo(email, app, role);
      expect(offer).toMatchObject({ kind: 'refused', code, message: expect.stringMatching(sentence) });
      const error = (await submitted(email, app, role)) as AccessError;
      expect(error).toBeInstanceOf(AccessError);
      expect([error.code, error.message]).toEqual([code, offer.kind === 'refused' ? offer.message : '']);
    }
    // Both refusals on the policy's grounds are in the audit log.
    const refusals = (await h.store.auditEvents()).filter((e) => e.action === 'request.refused');
    expect(refusals.map((e) => e.details.outcome)).toEqual(['not_eligible', 'not_allowed']);

    await submitted('alan@example.com', 'github', 'owner');
    expect(await offerTo('alan@example.com', 'github', 'owner')).toMatchObject({
      kind: 'refused',
      code: 'already_held',
      message: 'You already hold GitHub Organization owner; emergency access would add nothing.',
    });
  });

  it('reads the person live: someone suspended since they were identified is refused', async () => {
    const alan = await h.as('alan@example.com');
    h.directory.setStatus(alan.person.id, 'suspended');
    expect(await breakGlassOfferFor(h.deps, alan.person, entry('github', 'owner'))).toMatchObject({
      kind: 'refused',
      code: 'not_eligible',
      message: expect.stringContaining('is not active in the directory'),
    });
  });
});
