/**
 * An access review end to end (issue 17): the real Bolt app over signed HTTP against the Slack
 * stand-in, the directory through the real Okta SDK against the Okta stand-in, a real SQLite file.
 *
 * The review covers github/member grants and standing membership of it-helpdesk:
 *   Ada   github/member (grant)       -> Marcus, her manager
 *   Alan  github/member (grant)       -> Marcus
 *   Ada   it-helpdesk (standing)      -> Marcus
 *   Ian   it-helpdesk (standing)      -> Priya, his manager
 *   Priya it-helpdesk (standing)      -> Grace: Priya has no manager, and the fallback group
 *                                        (access-admins) is Priya and Grace; nobody reviews their own
 */
import Papa from 'papaparse';
import { afterEach, describe, expect, it } from 'vitest';
import { ACTION, BLOCK, encodeReviewRef } from '../../blocks/ids.js';
import type { LoadedReview } from '../../src/domain/reviews/review-definition.js';
import { populationHash, populationLine } from '../../src/domain/reviews/population.js';
import type { ReviewItem } from '../../src/domain/reviews/review-records.js';
import { sweep } from '../../src/operations/sweep.js';
import type { StoredMessage } from '../../src/sandbox/slack-api/slack-workspace.js';
import { companyOktaPerTest } from '../okta/company-org.js';
import { directoryFor } from '../okta/fixtures.js';
import { hasAction, startSlackFixture, textOf, USERS, type SlackFixture, type UserName } from './slack-fixture.js';
import { holdActive, openHome, waitTold } from './slack2-helpers.js';

const JOBS = { worker: 'review-e2e', baseDelaySeconds: 1, random: () => 0.999999 };
const DAY = 86_400;

const REVIEW: LoadedReview = {
  id: 'quarterly',
  name: 'Quarterly access review',
  schedule: null,
  // github/owner is sensitive and held by nobody: its rules are reviewed all the same.
  scope: {
    roles: [
      { app: 'github', role: 'member' },
      { app: 'github', role: 'owner' },
    ],
    groups: ['it-helpdesk'],
  },
  reviewer: { kind: 'manager' },
  fallbackReviewer: { kind: 'group', group: 'access-admins' },
  dueSeconds: 14 * DAY,
  remindersSeconds: [DAY],
  undecided: 'revoke',
  remediate: 'remove',
  source: { file: 'policies/reviews/quarterly.yml' },
};

const org = companyOktaPerTest();
let fx: SlackFixture;

/** The bot, with the directory read from Okta (its ids are the harness's, so the Slack fixture's people match). */
async function start(review: LoadedReview, options: { pageSize?: number } = {}): Promise<void> {
  fx = await startSlackFixture({ directory: directoryFor(org.okta.url, options), reviews: [review] });
}
afterEach(async () => {
  await fx.close();
});

/** The reviewer's list in their DM (one message per campaign, updated in place). */
function reviewList(who: UserName): StoredMessage {
  const list = fx.dms(who).find((m) => m.text.startsWith('Access review'));
  if (!list) throw new Error(`${who} has no review list: ${JSON.stringify(fx.dms(who).map((m) => m.text))}`);
  return list;
}

async function itemOf(holder: UserName, access: string): Promise<ReviewItem> {
  const campaign = (await fx.h.store.listReviewCampaigns({ reviewId: REVIEW.id, limit: 1 }))[0]!;
  const items = await fx.h.store.reviewItems(campaign.id, { after: -1, limit: 100 });
  const item = items.find(
    (i) =>
      i.holder.directoryId === USERS[holder].directoryId &&
      (i.access.kind === 'role' ? `${i.access.app}/${i.access.role}` : `group:${i.access.group}`) === access,
  );
  if (!item) throw new Error(`no item for ${holder} ${access}`);
  return item;
}

/** A click on an item's Keep or Revoke… in a message, as Slack sends it. */
function clickItem(who: UserName, message: StoredMessage, actionId: string, item: ReviewItem, page = 0) {
  return fx.click(who, message, actionId, {
    value: encodeReviewRef({ id: item.id, page }),
    block_id: `review_item:${item.id}`,
  });
}

async function startReview(id = 'quarterly'): Promise<void> {
  const refused = await fx.command('alan', `review start ${id}`);
  expect(JSON.stringify(refused.json)).toContain('Only members of access-admins');
  expect(await fx.h.store.listReviewCampaigns({ limit: 10 })).toHaveLength(0);

  // Typed in any case: the review's id is a lower-case slug (`/access delegate` keeps its words' case).
  const res = await fx.command('priya', `review Start ${id.charAt(0).toUpperCase()}${id.slice(1)}`);
  expect(JSON.stringify(res.json)).toContain('Starting *');
  await waitTold(fx, 'priya', 'Started ');
  await fx.settle();
}

describe('an access review in Slack, with Okta', () => {
  it('freezes the population, is decided in DMs, revokes with proof, closes at the due time, and the evidence ties out', async () => {
    await start(REVIEW);
    const adaGrant = await holdActive(fx, 'ada', 'github', 'member');
    const alanGrant = await holdActive(fx, 'alan', 'github', 'member');
    await startReview();

    // The population: one item per holder and access, counted and hashed into review.started.
    const [campaign] = await fx.h.store.listReviewCampaigns({ reviewId: 'quarterly', limit: 5 });
    expect(campaign).toMatchObject({
      status: 'open',
      populationCount: 5,
      trigger: 'slack',
      startedBy: 'priya@example.com',
    });
    const items = await fx.h.store.reviewItems(campaign!.id, { after: -1, limit: 100 });
    expect(
      items.map((i) => [
        i.holder.email,
        i.access.kind === 'role' ? 'github/member' : 'group:it-helpdesk',
        i.source.kind,
        i.reviewer.label,
      ]),
    ).toEqual([
      ['ada@example.com', 'github/member', 'grant', 'Marcus Chen (manager)'],
      ['alan@example.com', 'github/member', 'grant', 'Marcus Chen (manager)'],
      ['ada@example.com', 'group:it-helpdesk', 'standing', 'Marcus Chen (manager)'],
      ['ian@example.com', 'group:it-helpdesk', 'standing', 'Priya Patel (manager)'],
      ['priya@example.com', 'group:it-helpdesk', 'standing', 'group access-admins'],
    ]);
    const priyaItem = items.find((i) => i.holder.email === 'priya@example.com')!;
    expect(priyaItem.reviewer.fallbackReason).toBe('the holder has no manager in the directory');
    const started = await fx.h.store.auditEventsBetween('2000-01-01', '2100-01-01', ['review.started']);
    expect(started).toHaveLength(1);
    expect(started[0]!.details).toMatchObject({
      campaign: campaign!.id,
      population: { count: 5, hash: populationHash(items.map(populationLine)) },
    });

    // One DM per reviewer: Marcus has three items, Priya one (Ian's), Grace one (Priya's); Priya
    // does not review her own membership.
    const marcus = reviewList('marcus');
    expect(marcus.text).toContain('3 of 3 items for you to review');
    expect(textOf(marcus)).toContain('Standing member of it-helpdesk');
    expect(textOf(marcus)).toContain(`Grant \`${adaGrant}\`, auto-approved by its policy`);
    expect(textOf(marcus)).toContain('Keep the rest (3)');
    expect(reviewList('priya').text).toContain('1 of 1 items');
    expect(textOf(reviewList('priya'))).toContain('Ian Murdock');
    expect(textOf(reviewList('priya'))).not.toContain('priya@example.com');
    expect(textOf(reviewList('grace'))).toContain('Priya Patel');
    expect(textOf(reviewList('grace'))).toContain('You review this because the holder has no manager in the directory');

    // Nobody reviews their own access, even with a forged click.
    await clickItem('ada', marcus, ACTION.reviewKeep, await itemOf('ada', 'github/member'));
    await waitTold(fx, 'ada', 'You cannot review your own access');

    // Keep: recorded, and the list says so with the progress line. Marcus looked at his items
    // with `/access review` two seconds before: a keep that fast is the rubber-stamp signal.
    expect(JSON.stringify((await fx.command('marcus', 'review')).json)).toContain('Alan Turing');
    fx.h.clock.advance(2);
    await clickItem('marcus', marcus, ACTION.reviewKeep, await itemOf('alan', 'github/member'));
    await fx.settle();
    expect(await itemOf('alan', 'github/member')).toMatchObject({
      decision: 'keep',
      decidedBy: { email: 'marcus@example.com' },
      secondsToDecision: 2,
    });
    expect(textOf(reviewList('marcus'))).toContain('1 decided · 2 to go');
    expect(textOf(reviewList('marcus'))).toContain('✅ Kept by you');

    // Revoke… on a grant asks why; empty is an inline error; the grant is revoked (reason review) and verified.
    await clickItem('marcus', reviewList('marcus'), ACTION.reviewRevoke, await itemOf('ada', 'github/member'));
    const modal = await fx.waitModal('marcus', (v) => v.callbackId === 'access_review_revoke_reason');
    const empty = await fx.submit(
      'marcus',
      { [BLOCK.reviewReason]: { [ACTION.reviewReason]: { type: 'plain_text_input', value: ' ' } } },
      { view: modal },
    );
    expect(empty.json).toMatchObject({
      response_action: 'errors',
      errors: { [BLOCK.reviewReason]: expect.stringContaining('Please say why') },
    });
    const done = await fx.submit(
      'marcus',
      { [BLOCK.reviewReason]: { [ACTION.reviewReason]: { type: 'plain_text_input', value: 'Moved to sales' } } },
      { view: modal },
    );
    expect(done.status).toBe(200);
    await fx.settle();
    expect(await fx.h.store.getGrant(adaGrant)).toMatchObject({ status: 'revoked', revocationReason: 'review' });
    expect(org.okta.isMember('00g-github-members', 'u-ada')).toBe(false);
    const adaRevoked = await itemOf('ada', 'github/member');
    expect(adaRevoked).toMatchObject({ decision: 'revoke', reason: 'Moved to sales', remediation: 'removed' });
    expect(adaRevoked.remediatedAt).not.toBeNull();
    expect(adaRevoked.remediationEventSeq).not.toBeNull();
    expect(await fx.h.store.getGrant(alanGrant)).toMatchObject({ status: 'active' });

    // Revoke… on standing membership: removed through Okta and read back, as Marcus's decision.
    fx.slack.workspace.closeModals(USERS.marcus.id);
    await clickItem('marcus', reviewList('marcus'), ACTION.reviewRevoke, await itemOf('ada', 'group:it-helpdesk'));
    const second = await fx.waitModal(
      'marcus',
      (v) =>
        v.callbackId === 'access_review_revoke_reason' &&
        textOf({ blocks: v.definition.blocks as unknown[] }).includes('removes this standing membership'),
    );
    await fx.submit(
      'marcus',
      { [BLOCK.reviewReason]: { [ACTION.reviewReason]: { type: 'plain_text_input', value: 'Not on the help desk' } } },
      { view: second },
    );
    await fx.settle();
    expect(org.okta.isMember('00g-it-helpdesk', 'u-ada')).toBe(false);
    expect(await itemOf('ada', 'group:it-helpdesk')).toMatchObject({ decision: 'revoke', remediation: 'removed' });
    const remediated = await fx.h.store.auditEventsBetween('2000-01-01', '2100-01-01', ['reviewItem.remediated']);
    expect(remediated.find((e) => e.details.access === 'group:it-helpdesk')?.actor).toMatchObject({
      kind: 'person',
      email: 'marcus@example.com',
    });
    expect(textOf(reviewList('marcus'))).toContain('removal verified');

    // `/access review` lists what is waiting for me; the App Home shows it too.
    expect(JSON.stringify((await fx.command('priya', 'review')).json)).toContain('Ian Murdock');
    expect(JSON.stringify((await fx.command('marcus', 'review')).json)).toContain(
      'No access review is waiting for you',
    );
    expect(JSON.stringify((await openHome(fx, 'grace')).definition)).toContain('Priya Patel');

    // A reviewer removed from the reviewer group mid-review: the right is checked live at the click.
    org.okta.removeMember('00g-access-admins', 'u-grace');
    await clickItem('grace', reviewList('grace'), ACTION.reviewKeep, priyaItem);
    await waitTold(fx, 'grace', 'you are no longer in access-admins');
    expect((await itemOf('priya', 'group:it-helpdesk')).decision).toBe('pending');

    // A day before the due time: a reminder to each reviewer with items left, and to nobody else.
    const priyaList = reviewList('priya');
    fx.h.clock.advance(13 * DAY + 60);
    await sweep(fx.h.deps, JOBS);
    await fx.settle();
    const reminded = (who: UserName) => fx.dms(who).filter((m) => m.text.startsWith('Reminder:'));
    expect(reminded('priya')).toHaveLength(1);
    expect(reminded('grace')).toHaveLength(1);
    expect(reminded('marcus')).toHaveLength(0);

    // The due time: undecided items are revoked as the review says, the review closes.
    fx.h.clock.advance(DAY);
    await sweep(fx.h.deps, JOBS);
    await fx.settle();
    const closed = (await fx.h.store.getReviewCampaign(campaign!.id))!;
    expect(closed).toMatchObject({ status: 'closed', closedBy: 'system:sweep' });
    expect(await itemOf('ian', 'group:it-helpdesk')).toMatchObject({ decision: 'undecided', remediation: 'removed' });
    expect(org.okta.isMember('00g-it-helpdesk', 'u-ian')).toBe(false);
    expect(org.okta.isMember('00g-it-helpdesk', 'u-priya')).toBe(false);
    expect(textOf(reviewList('priya'))).toContain(
      '0 of your 1 items were decided; 1 nobody decided were revoked as the review says',
    );

    // A late click is refused with the reason.
    await clickItem('priya', priyaList, ACTION.reviewKeep, await itemOf('ian', 'group:it-helpdesk'));
    await waitTold(fx, 'priya', 'closed at');
    expect((await itemOf('ian', 'group:it-helpdesk')).decision).toBe('undecided');

    // The summary in the security channel, with the CSV in its thread; the CSV ties out.
    const summary = fx.channel('C0SECURITY').find((m) => m.text.includes('Quarterly access review'));
    expect(summary, JSON.stringify(fx.channel('C0SECURITY').map((m) => m.text))).toBeDefined();
    const shown = textOf(summary!);
    expect(shown).toContain('5 items');
    expect(shown).toContain(
      '*3* decided on time · *1* kept · *2* revoked · *2* undecided (revoked as the review says)',
    );
    expect(shown).toContain('Removals: *4* verified · *0* pending · *0* failed');
    expect(shown).toContain(
      '⚠️ *1* item was kept less than 5 seconds after the reviewer first saw it: Marcus Chen 1 of 1 kept',
    );
    expect(shown).toContain('Marcus Chen: 3 of 3 decided');
    expect(shown).toContain('Priya Patel: 0 of 1 decided');
    expect(shown).toContain('Grace Hopper: 0 of 1 decided');
    // The rules reviewed too: who may ask for the sensitive role and who approves it, with members now.
    expect(shown).toContain('*Organization owner* (`github/owner`');
    expect(shown).toContain(
      'platform-team (may ask, 4): ada@example.com, alan@example.com, dave@example.com (deprovisioned), marcus@example.com',
    );
    expect(shown).toContain('security-team (approves, 3): jordan@example.com, kim@example.com, sam@example.com');
    const file = fx.slack.workspace.files().find((f) => f.threadTs === summary!.ts);
    expect(file?.filename).toBe(`access-review-quarterly-${campaign!.id}.csv`);
    const rows = Papa.parse<Record<string, string>>(file!.bytes!.toString('utf8').replace(/^\uFEFF/, ''), {
      header: true,
      skipEmptyLines: true,
    }).data;
    expect(rows).toHaveLength(5);
    expect(Object.keys(rows[0]!).slice(0, 16)).toEqual([
      'review_id',
      'campaign_id',
      'started_at',
      'due_at',
      'closed_at',
      'population_hash',
      'holder_email',
      'holder_okta_id',
      'access',
      'source',
      'reviewer',
      'decision',
      'reason',
      'decided_at',
      'remediation_status',
      'removal_verified_at',
    ]);
    const lines = rows.map((r) => `${r.holder_okta_id}\t${r.access}\t${r.source}`);
    expect(populationHash(lines)).toBe(campaign!.populationHash);
    const row = (email: string, access: string) => rows.find((r) => r.holder_email === email && r.access === access)!;
    expect(row('alan@example.com', 'github/member')).toMatchObject({
      decision: 'keep',
      reviewer: 'marcus@example.com',
      remediation_status: 'none',
      source: alanGrant,
      seconds_to_decision: '2',
    });
    expect(row('ada@example.com', 'github/member')).toMatchObject({
      decision: 'revoke',
      reason: 'Moved to sales',
      remediation_status: 'removed',
      source: adaGrant,
    });
    expect(row('ada@example.com', 'github/member').removal_verified_at).not.toBe('');
    expect(row('ada@example.com', 'group:it-helpdesk')).toMatchObject({
      decision: 'revoke',
      source: 'standing',
      remediation_status: 'removed',
    });
    expect(row('ian@example.com', 'group:it-helpdesk')).toMatchObject({
      decision: 'undecided',
      remediation_status: 'removed',
    });
    expect(rows.every((r) => r.closed_at === closed.closedAt)).toBe(true);
    const posted = await fx.h.store.auditEventsBetween('2000-01-01', '2100-01-01', ['review.summaryPosted']);
    expect(posted).toHaveLength(1);
    expect(posted[0]!.details).toMatchObject({ csv: { rows: 5 } });
  });
});

describe('a long list in Slack', () => {
  const CONTRACTORS = 100;
  const people = Array.from({ length: CONTRACTORS }, (_, i) => ({
    id: `u-c${String(i).padStart(3, '0')}`,
    n: String(i).padStart(3, '0'),
  }));
  afterEach(() => {
    for (const p of people) org.okta.removeUser(p.id);
    org.okta.removeGroup('00g-contractors');
  });

  it("pages 100 items for one reviewer within Slack's limits, read from every Okta page, and keeps the rest after a confirmation", async () => {
    org.okta.addGroup({ id: '00g-contractors', name: 'contractors' });
    for (const p of people) {
      org.okta.addUser({
        id: p.id,
        email: `contractor${p.n}@example.com`,
        firstName: 'Contractor',
        lastName: p.n,
        profile: { managerId: 'u-marcus' },
      });
      org.okta.addMember('00g-contractors', p.id);
    }
    const review: LoadedReview = {
      ...REVIEW,
      id: 'contractors',
      name: 'Contractors',
      scope: { roles: [], groups: ['contractors'] },
      remediate: 'report',
    };
    // 30 members per Okta page: the population needs four pages of the group, all read.
    await start(review, { pageSize: 30 });
    org.okta.clearRequests();
    await startReview('contractors');
    expect(org.okta.count(/\/api\/v1\/groups\/00g-contractors\/users/, 'GET')).toBe(4);
    const [campaign] = await fx.h.store.listReviewCampaigns({ reviewId: 'contractors', limit: 1 });
    expect(campaign!.populationCount).toBe(CONTRACTORS);

    // One message, ten items a page: the stand-in refuses anything over Slack's 50 blocks or its text budget.
    const dms = fx.dms('marcus').filter((m) => m.text.startsWith('Access review'));
    expect(dms).toHaveLength(1);
    const list = dms[0]!;
    expect(list.blocks.length).toBeLessThanOrEqual(50);
    expect(textOf(list)).toContain('0 decided · 100 to go · page 1 of 10');
    expect(textOf(list)).toContain('Contractor 000');
    expect(textOf(list)).not.toContain('Contractor 010');

    // Next: the same message shows page 2; a decision there keeps the list on page 2.
    // The page turn is acked at once; the list is updated when the bot has recorded it.
    const turned = fx.slack.waitFor('update', (m) => m.ts === list.ts && textOf(m).includes('page 2 of 10'));
    await fx.click('marcus', list, `${ACTION.reviewPage}:next`);
    await turned;
    const page2 = reviewList('marcus');
    expect(textOf(page2)).toContain('page 2 of 10');
    expect(textOf(page2)).toContain('Contractor 010');
    const item = (await fx.h.store.reviewerItems(campaign!.id, USERS.marcus.directoryId, { offset: 10, limit: 1 }))[0]!
      .item;
    await clickItem('marcus', page2, ACTION.reviewKeep, item, 1);
    await fx.settle();
    expect(textOf(reviewList('marcus'))).toContain('1 decided · 99 to go · page 2 of 10');
    expect(fx.dms('marcus').filter((m) => m.text.startsWith('Access review'))).toHaveLength(1);

    // Keep the rest asks first (Slack's confirmation dialog), then keeps every undecided item on every page.
    const keepRest = JSON.stringify(reviewList('marcus').blocks);
    expect(keepRest).toContain('"confirm":{"title":{"type":"plain_text","text":"Keep the rest?"}');
    expect(keepRest).toContain('Keep all 99 items still undecided in your list, on every page?');
    await fx.click('marcus', reviewList('marcus'), ACTION.reviewKeepRest);
    await waitTold(fx, 'marcus', 'Kept 99 items.');
    await fx.settle();
    expect(await fx.h.store.reviewerProgress(campaign!.id, USERS.marcus.directoryId)).toEqual([
      { reviewerId: USERS.marcus.directoryId, assigned: 100, pending: 0, decided: 100 },
    ]);
    expect(textOf(reviewList('marcus'))).toContain('100 decided · 0 to go');
    expect(hasAction(reviewList('marcus'), ACTION.reviewKeepRest)).toBe(false);
  });
});
