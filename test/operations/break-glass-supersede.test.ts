/**
 * Emergency access replaces a request for the same role still waiting for approvers: that request
 * ends as cancelled, its open step closes, its approval messages say so, the audit log names the
 * break-glass request, and the requester is told.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { invokeBreakGlass } from '../../src/operations/break-glass.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { createHarness, examplePolicies, ONCALL_BREAK_GLASS, type Harness } from '../support/lifecycle-harness.js';

let h: Harness;
beforeEach(() => {
  h = createHarness({
    policies: examplePolicies({ owner: { breakGlass: ONCALL_BREAK_GLASS } }),
  });
});
afterEach(async () => await h.close());

it('cancels the pending request for the same role when emergency access is taken', async () => {
  const alan = await h.as('alan@example.com');
  // Two hours is more than on-call auto-approval allows: it waits for Alan's manager.
  const submitted = await submitRequest(h.deps, {
    requester: alan,
    app: 'github',
    role: 'owner',
    durationSeconds: 7200,
    justification: 'release week',
  });
  if (submitted.kind !== 'submitted') throw new Error(submitted.kind);
  const pending = submitted.request;
  expect(pending.status).toBe('pending_approval');

  const { request: emergency } = await invokeBreakGlass(h.deps, {
    requester: alan,
    app: 'github',
    role: 'owner',
    justification: 'Production deploys are stuck',
  });

  const reason = 'superseded by emergency access (break-glass)';
  expect(await h.store.getRequest(pending.id)).toMatchObject({
    status: 'cancelled',
    decisionReason: reason,
    currentStep: -1,
  });
  expect((await h.store.getSteps(pending.id))[0]).toMatchObject({ status: 'closed' });
  const cancelled = (await h.store.auditEventsFor({ requestId: pending.id })).filter(
    (e) => e.action === 'request.cancelled',
  );
  expect(cancelled).toHaveLength(1);
  expect(cancelled[0]).toMatchObject({
    actor: { kind: 'system', component: 'break-glass' },
    details: { reason, by: emergency.id },
  });

  await h.runJobs();
  const delivered = h.notifier.delivered.map((d) => d.notification);
  expect(delivered).toContainEqual(
    expect.objectContaining({ type: 'request.cancelled', requestId: pending.id, recipient: expect.anything() }),
  );
  // Marcus's approval message shows the request is over.
  expect(delivered).toContainEqual(
    expect.objectContaining({ type: 'approval.outcome', requestId: pending.id, stepIndex: 0 }),
  );
});
