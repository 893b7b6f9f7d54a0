/**
 * A realistic history for export tests, made with the real operations on a real SQLite file:
 * every request and grant status, every revocation reason, an extension, a fallback to admins,
 * a shortened duration, two versions of a policy, and justifications that try formula injection.
 *
 * Day 1 (2026-03-02) and day 2 (03-03) hold most requests; 03-04 a policy change; 03-05 the
 * expiries, the other endings, a pending request and an active grant.
 */
import { Catalog } from '../../src/domain/catalog.js';
import { PermanentError } from '../../src/domain/errors.js';
import { YamlDirectory } from '../../src/adapters/directory/yaml-directory.js';
import { cancelRequest } from '../../src/operations/cancel-request.js';
import { completeTask } from '../../src/operations/complete-task.js';
import { extendGrant } from '../../src/operations/extend-grant.js';
import { identifySlackUser } from '../../src/operations/identify-person.js';
import { recordPolicyVersions } from '../../src/operations/record-policy-versions.js';
import { reviewRequest } from '../../src/operations/review-request.js';
import {
  offboardPerson,
  recordExternalRemoval,
  relinquishGrant,
  revokeGrantAsAdmin,
} from '../../src/operations/revoke-grant.js';
import { submitRequest } from '../../src/operations/submit-request.js';
import { sweep } from '../../src/operations/sweep.js';
import { COMPANY, createHarness, examplePolicies, type Harness } from '../support/lifecycle-harness.js';

/** Justifications an attacker might type, and ordinary text that must come back exactly. */
export const HOSTILE = {
  hyperlink: '=HYPERLINK("http://x","y")',
  formulaNewline: '=1+1\n',
  atCrlf: '@SUM(1)\r\nx',
  minus: '-2+3',
  plus: '+1',
  tab: '\tcmd',
  plain: 'on-call, "sev 1" incident;\nsee runbook, step 2\r\nthanks',
  note: "=cmd|' /C calc'!A0",
} as const;

/** A person whose directory name itself starts a formula. */
export const EVE = { id: 'u-eve', email: 'Eve@Example.com', name: '@Eve "E" Hacker, Jr.', title: 'Contractor' };

export interface SeededHistory {
  h: Harness;
  /** Request ids by what happened to them. */
  req: Record<
    | 'pendingOwner'
    | 'activeAws'
    | 'shortenedAws'
    | 'deniedAws'
    | 'cancelledOwner'
    | 'expiredOwner'
    | 'failedMember'
    | 'expiredBilling'
    | 'relinquishedMember'
    | 'revokedLaptop'
    | 'offboardedMember'
    | 'externalTriage'
    | 'eveBilling'
    | 'extension',
    string
  >;
  grant: Record<
    | 'activeAws'
    | 'shortenedAws'
    | 'failedMember'
    | 'expiredBilling'
    | 'relinquishedMember'
    | 'revokedLaptop'
    | 'offboardedMember'
    | 'externalTriage'
    | 'eveBilling',
    string
  >;
}

export async function seedHistory(): Promise<SeededHistory> {
  const company = structuredClone(COMPANY) as typeof COMPANY & {
    people: ((typeof COMPANY.people)[number] | typeof EVE)[];
  };
  company.people.push(EVE);
  company.groups.everyone.members.push(EVE.email);
  const h = createHarness({ directory: YamlDirectory.fromData(company, 'test-directory') });
  const as = (email: string) => h.as(email);
  const run = () => h.runJobs();
  const sweepNow = () => sweep(h.deps, { worker: 'test', baseDelaySeconds: 1, random: () => 0.999999 });
  const submit = async (email: string, app: string, role: string, justification: string, durationSeconds?: number) => {
    const result = await submitRequest(h.deps, {
      requester: await as(email),
      app,
      role,
      justification,
      durationSeconds,
    });
    if (result.kind !== 'submitted') throw new Error(`${email} ${app}/${role}: ${result.kind}`);
    return result.request.id;
  };
  const approve = async (email: string, requestId: string, extra: { shortenToSeconds?: number } = {}) => {
    await reviewRequest(h.deps, { actor: await as(email), requestId, decision: 'approve', ...extra });
  };
  const grantOf = async (requestId: string) => (await h.store.grantForRequest(requestId))!.id;

  h.clock.set('2026-03-01T08:00:00.000Z');
  await recordPolicyVersions(h.deps);

  // ---- day 1: 2026-03-02 -------------------------------------------------------------------
  h.clock.set('2026-03-02T09:00:00.000Z');
  // Ada and Marcus have used Slack: their Slack ids are on record.
  await identifySlackUser(h.deps, { slackUserId: 'U0ADA', email: 'ada@example.com' });
  await identifySlackUser(h.deps, { slackUserId: 'U0MARCUS', email: 'marcus@example.com' });

  // Approved, the approver shortened the duration (it expires at the sweep on 03-05).
  h.clock.advance(60);
  const activeAws = await submit('ada@example.com', 'aws', 'admin', HOSTILE.formulaNewline, 7200);
  h.clock.advance(60);
  await approve('marcus@example.com', activeAws, { shortenToSeconds: 1800 });
  await run();

  // Denied, with a reason.
  h.clock.advance(60);
  const deniedAws = await submit('alan@example.com', 'aws', 'admin', HOSTILE.atCrlf);
  h.clock.advance(60);
  await reviewRequest(h.deps, {
    actor: await as('marcus@example.com'),
    requestId: deniedAws,
    decision: 'deny',
    reason: 'not on the project',
  });

  // Cancelled by the requester (2h is over the on-call auto-approval limit, so the chain runs).
  h.clock.advance(60);
  const cancelledOwner = await submit('alan@example.com', 'github', 'owner', HOSTILE.minus, 7200);
  h.clock.advance(60);
  await cancelRequest(h.deps, { actor: await as('alan@example.com'), requestId: cancelledOwner });

  // Will expire undecided; Marcus has no manager, so step 1 falls back to the admins.
  h.clock.advance(60);
  const expiredOwner = await submit('marcus@example.com', 'github', 'owner', HOSTILE.plus);

  // Provisioning fails for good.
  h.clock.advance(60);
  h.directory.failNext('addToGroup', new PermanentError('group github-members not found in Okta'));
  const failedMember = await submit('priya@example.com', 'github', 'member', HOSTILE.tab);
  await run();

  // Will expire (webhook, 1 day).
  h.clock.advance(60);
  const expiredBilling = await submit('ian@example.com', 'billing', 'viewer', HOSTILE.plain);
  await run();

  // Eve: a hostile name, an email in mixed case.
  h.clock.advance(60);
  const eveBilling = await submit(EVE.email, 'billing', 'viewer', '');
  await run();

  // ---- day 2: 2026-03-03 -------------------------------------------------------------------
  h.clock.set('2026-03-03T10:00:00.000Z');
  const relinquishedMember = await submit('alan@example.com', 'github', 'member', 'reviewing PRs');
  await run();
  h.clock.advance(60);
  const revokedLaptop = await submit('kim@example.com', 'laptop', 'local-admin', 'install a driver');
  await run();
  h.clock.advance(60);
  await completeTask(h.deps, {
    actor: await as('ian@example.com'),
    taskId: (await h.store.getTaskFor(await grantOf(revokedLaptop), 'grant'))!.id,
  });
  // An admin takes it away (the note tries a formula); IT removes it by hand.
  h.clock.advance(60);
  await revokeGrantAsAdmin(h.deps, {
    actor: await as('priya@example.com'),
    grantId: await grantOf(revokedLaptop),
    reason: HOSTILE.note,
  });
  await run();
  h.clock.advance(60);
  await completeTask(h.deps, {
    actor: await as('ian@example.com'),
    taskId: (await h.store.getTaskFor(await grantOf(revokedLaptop), 'revoke'))!.id,
  });
  h.clock.advance(60);
  const offboardedMember = await submit('jordan@example.com', 'github', 'member', 'code review');
  await run();
  h.clock.advance(60);
  const extension = await (async () => {
    const result = await extendGrant(h.deps, {
      actor: await as('jordan@example.com'),
      grantId: await grantOf(offboardedMember),
      addSeconds: 7 * 86400,
      justification: 'longer project',
    });
    if (result.kind !== 'extended') throw new Error(result.kind);
    return (await h.store.listRequests({ requesterId: 'u-jordan' })).find((r) => r.kind === 'extension')!.id;
  })();
  h.clock.advance(60);
  const externalTriage = await submit('sam@example.com', 'github', 'triage', 'triage issues');
  await run();

  // A policy change: a new version of github-owner-jit from 03-04.
  h.clock.set('2026-03-04T08:00:00.000Z');
  const changed = examplePolicies({ owner: { duration: { defaultSeconds: 3600, maxSeconds: 8 * 3600 } } });
  h.deps.catalog = new Catalog(changed);
  await recordPolicyVersions(h.deps);

  // ---- 2026-03-05: the endings ------------------------------------------------------------------
  h.clock.set('2026-03-05T12:00:00.000Z');
  await sweepNow(); // billing expired (1 day), the undecided owner request expired (72h)
  h.clock.advance(60);
  await relinquishGrant(h.deps, { actor: await as('alan@example.com'), grantId: await grantOf(relinquishedMember) });
  await run();
  h.clock.advance(60);
  await offboardPerson(h.deps, { directoryId: 'u-jordan', source: 'status check', status: 'deprovisioned' });
  await run();
  h.clock.advance(60);
  await h.yaml.removeFromGroup('u-sam', 'github-members');
  await recordExternalRemoval(h.deps, {
    grantId: await grantOf(externalTriage),
    detail: 'not in github-members at reconcile',
  });
  await run();

  // Pending: manager approved, one of two security approvals in.
  h.clock.advance(60);
  const pendingOwner = await submit('ada@example.com', 'github', 'owner', HOSTILE.hyperlink);
  h.clock.advance(60);
  await approve('marcus@example.com', pendingOwner);
  h.clock.advance(60);
  await approve('sam@example.com', pendingOwner);

  // Ada's aws grant was shortened to 30 minutes on day 1: it expired at the sweep above. Give her
  // a fresh one so the history keeps an active grant.
  h.clock.advance(60);
  const activeAws2 = await submit('ada@example.com', 'aws', 'admin', 'follow-up', 3600);
  await approve('marcus@example.com', activeAws2);
  await run();

  return {
    h,
    req: {
      pendingOwner,
      activeAws: activeAws2,
      shortenedAws: activeAws,
      deniedAws,
      cancelledOwner,
      expiredOwner,
      failedMember,
      expiredBilling,
      relinquishedMember,
      revokedLaptop,
      offboardedMember,
      externalTriage,
      eveBilling,
      extension,
    },
    grant: {
      activeAws: await grantOf(activeAws2),
      shortenedAws: await grantOf(activeAws),
      failedMember: await grantOf(failedMember),
      expiredBilling: await grantOf(expiredBilling),
      relinquishedMember: await grantOf(relinquishedMember),
      revokedLaptop: await grantOf(revokedLaptop),
      offboardedMember: await grantOf(offboardedMember),
      externalTriage: await grantOf(externalTriage),
      eveBilling: await grantOf(eveBilling),
    },
  };
}
