/**
 * H1 across processes: one process is adding the membership (or calling the grant webhook) when
 * the grant is revoked and a second process runs its jobs. The second must leave the revocation to
 * wait; the first follows its add with the removal. Also: the first dies mid-add, and the second
 * takes over once the dead worker's lock expires.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runDueJobs } from '../../src/operations/run-jobs.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { companyOktaPerTest } from '../okta/company-org.js';
import type { OktaStandIn } from '../okta/okta-stand-in.js';
import { approvedAwsAdmin, effectHarness, HOOK_SECRET } from '../support/effect-harness.js';
import type { Harness } from '../support/lifecycle-harness.js';
import { REVOCATIONS } from '../support/revocations.js';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.js';

const CHILD = join(import.meta.dirname, '..', 'support', 'effect-child.ts');
const T0 = '2026-03-02T09:00:00.000Z';

const org = companyOktaPerTest();
let okta: OktaStandIn;
let receiver: WebhookReceiver;
let dir: string;
let h: Harness;
const children: ChildProcess[] = [];

beforeEach(async () => {
  okta = org.okta;
  receiver = await startWebhookReceiver({ secret: HOOK_SECRET });
  dir = mkdtempSync(join(tmpdir(), 'access-bot-effects-'));
  h = effectHarness({ oktaUrl: okta.url, webhookUrl: receiver.url, dbPath: join(dir, 'access.db') });
  h.clock.set(T0);
});
afterEach(async () => {
  for (const child of children.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  okta.releaseHolds();
  await receiver.close();
  await h.close();
  rmSync(dir, { recursive: true, force: true });
});

/** The other process: runs the due jobs once at T0 and exits. */
function otherProcess(worker: string) {
  const proc = spawn(process.execPath, ['--import', 'tsx', CHILD, h.dbPath, okta.url, receiver.url, T0, worker], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = once(proc, 'exit').then(([code, signal]) => ({
    code: code as number | null,
    signal: signal as string | null,
    stdout,
    stderr,
  }));
  return { proc, exited };
}

const ADA_IN_AWS = '/api/v1/groups/00g-aws-admins/users/u-ada';
const grantActions = async (grantId: string) => (await h.store.auditEventsFor({ grantId })).map((e) => e.action);
const here = (worker: string) => runDueJobs(h.deps, { worker, baseDelaySeconds: 1 });

describe('two processes, one adding to Okta while the grant is revoked', () => {
  it.each(REVOCATIONS)("the removal waits for the other process's add and follows it (%s)", async (reason, revoke) => {
    const grantId = await approvedAwsAdmin(h);
    const add = okta.hold(ADA_IN_AWS, { method: 'PUT' });
    const other = otherProcess('proc-a');
    await add.arrived;

    await revoke(h, grantId);
    const mine = await here('proc-b');
    expect(mine.skipped).toBeGreaterThanOrEqual(1); // the revocation's claim was refused
    expect(okta.count(ADA_IN_AWS, 'DELETE')).toBe(0);
    expect((await h.store.getJobByKey(`revoke:${grantId}`))!.status).toBe('pending');

    add.release();
    const done = await other.exited;
    expect(done.code, done.stderr).toBe(0);
    expect(okta.isMember('00g-aws-admins', 'u-ada')).toBe(false);
    expect(okta.requests.filter((r) => r.path === ADA_IN_AWS).map((r) => r.method)).toEqual(['PUT', 'DELETE']);
    expect(await h.store.getGrant(grantId)).toMatchObject({ status: 'revoked', revocationReason: reason });
    expect(await grantActions(grantId)).toEqual([
      'grant.provisioningStarted',
      'grant.revocationStarted',
      'grant.provisioned',
      'grant.revoked',
    ]);
  });

  it('the second process takes over when the first dies with its add in flight, and removes what landed', async () => {
    const grantId = await approvedAwsAdmin(h);
    const add = okta.hold(ADA_IN_AWS, { method: 'PUT' });
    const other = otherProcess('proc-a');
    await add.arrived;
    await REVOCATIONS[0]![1](h, grantId);
    other.proc.kill('SIGKILL');
    expect((await other.exited).signal).toBe('SIGKILL');
    const landed = okta.nextRequest((r) => r.method === 'PUT' && r.path === ADA_IN_AWS);
    add.release(); // Okta applies the add its dead caller never heard back about
    await landed;
    expect(okta.isMember('00g-aws-admins', 'u-ada')).toBe(true);

    await here('proc-b'); // within the dead worker's lock: nothing moves
    expect(okta.count(ADA_IN_AWS, 'DELETE')).toBe(0);
    h.clock.advance(301);
    await here('proc-b');
    expect(okta.isMember('00g-aws-admins', 'u-ada')).toBe(false);
    expect(await h.store.getGrant(grantId)).toMatchObject({ status: 'revoked', revocationReason: 'relinquished' });
  });
});

describe('two processes, one calling the grant webhook while the grant is revoked', () => {
  it.each(REVOCATIONS)('the receiver gets grant, then revoke (%s)', async (reason, revoke) => {
    const result = await submitRequest(h.deps, {
      requester: await h.as('ada@example.com'),
      app: 'billing',
      role: 'viewer',
    });
    if (result.kind !== 'submitted' || !result.grant) throw new Error(result.kind);
    const grantId = result.grant.id;
    const grantCall = receiver.holdNext({ action: 'grant' });
    const other = otherProcess('proc-a');
    await grantCall.arrived;

    await revoke(h, grantId);
    await here('proc-b');
    expect(receiver.requests).toEqual([]);

    grantCall.release();
    const done = await other.exited;
    expect(done.code, done.stderr).toBe(0);
    expect(receiver.applied.map((a) => a.idempotencyKey)).toEqual([`${grantId}:grant`, `${grantId}:revoke`]);
    expect(await h.store.getGrant(grantId)).toMatchObject({ status: 'revoked', revocationReason: reason });
    expect(await grantActions(grantId)).toEqual([
      'grant.provisioningStarted',
      'grant.revocationStarted',
      'grant.provisioned',
      'grant.revoked',
    ]);
  });
});
