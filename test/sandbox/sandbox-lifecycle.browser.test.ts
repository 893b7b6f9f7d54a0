import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import Papa from 'papaparse';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ROOT, startBotProcess, type BotProcess } from './bot-process.js';

/**
 * The walkthrough through the REAL bot: `node --import tsx src/main.ts` with neither Slack
 * nor Okta configured (the sandbox), driven in headless Chromium as a person would. Ada requests
 * GitHub Organization owner for 4 hours; Marcus (her manager), two of security-team in #security
 * and the CISO approve; the grant is active; the time control brings the reminder, then the
 * expiry; an admin exports the requests CSV, downloads it from the DM and the test reads its rows.
 * Screenshots of the key screens go to test-results/sandbox/lifecycle-NN-<name>.png.
 */

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = 'test-results/sandbox';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`sandbox lifecycle browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

// The people of directory.example.yml the walkthrough needs (checked against the file below).
const ADA = 'Ada Lovelace — Engineer';
const MARCUS = 'Marcus Chen — Engineering manager';
const SAM = 'Sam Rivera — Security engineer';
const KIM = 'Kim Nguyen — Security analyst';
const GRACE = 'Grace Hopper — CISO';
const JORDAN = 'Jordan Lee — Security engineer';
const SECURITY_CHANNEL = 'C0SECURITY';
const CARD_TITLE = 'Access request: GitHub · Organization owner';

let bot: BotProcess | undefined;
let browser: Browser | undefined;
let page: Page;

/** test-results/sandbox/lifecycle-NN-<name>.png, with `focus` scrolled into view. */
async function shot(name: string, focus?: Locator): Promise<void> {
  if (focus) await focus.scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${SHOTS}/lifecycle-${name}.png` });
}

/**
 * Picks a person in "You are", as a person would, and waits until the page shows that person's
 * DM with the bot (the nav marks their own DM active), so nothing of the previous persona is
 * clicked by mistake.
 */
async function becomes(label: string): Promise<void> {
  const slackId = await page.locator('#persona option').filter({ hasText: label }).getAttribute('value');
  expect(slackId, `no persona "${label}" in the picker`).toBeTruthy();
  const dm = await page.evaluate(async (user) => {
    const response = await fetch(`/api/state?user=${encodeURIComponent(user)}`);
    const state = (await response.json()) as { conversations: { id: string; kind: string }[] };
    return state.conversations.find((c) => c.kind === 'dm')?.id;
  }, slackId!);
  expect(dm, `no DM for ${label}`).toBeTruthy();
  await page.selectOption('#persona', { label });
  await page.locator(`#nav .nav-item.active[data-target="${dm}"]`).waitFor();
}

async function openChannel(id: string, name: string): Promise<void> {
  await page.locator(`#nav .nav-item[data-target="${id}"]`).click();
  await page.locator(`#nav .nav-item.active[data-target="${id}"]`).waitFor();
  await expect.poll(() => page.locator('#title').textContent()).toBe(`# ${name}`);
}

/** A message in the conversation on screen, by text it contains. */
function message(text: string | RegExp): Locator {
  return page.locator('#timeline article.message').filter({ hasText: text });
}

/** Slack would have refused nothing: no error where a message would be, no error banner. */
async function expectNoSlackErrors(): Promise<void> {
  expect(await page.locator('#timeline .problem').allTextContents()).toEqual([]);
  expect(await page.locator('#banner').isHidden()).toBe(true);
}

async function advanceClock(by: string): Promise<void> {
  const before = await page.locator('#clock-now').textContent();
  await page.fill('#clock-input', by);
  await page.locator('#clock-form').getByRole('button', { name: 'Advance' }).click();
  await expect.poll(() => page.locator('#clock-now').textContent()).not.toBe(before);
}

interface Directory {
  people: { email: string; name: string; manager?: string }[];
  groups: Record<string, { members: string[] }>;
}

describe.skipIf(!hasChromium)(`the whole lifecycle through the real bot, in headless Chromium (${CHROMIUM})`, () => {
  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    bot = await startBotProcess();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
        '--disable-sync', '--disable-quic', '--no-first-run'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 }, acceptDownloads: true });
    page = await context.newPage();
    page.setDefaultTimeout(15_000);
  }, 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
    await bot?.stop();
  }, 30_000);

  it('request, four approvals in three steps, active, reminder, expiry, and the CSV export', async () => {
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    onTestFailed(async () => {
      await page.screenshot({ path: `${SHOTS}/lifecycle-failure.png` }).catch(() => {});
      const { stderr } = bot!.output();
      console.error(`the bot's log (last lines):\n${stderr.split('\n').slice(-40).join('\n')}`);
    });

    // The walkthrough's people, as the example directory has them.
    const directory = parseYaml(await readFile(join(ROOT, 'directory.example.yml'), 'utf8')) as Directory;
    expect(directory.people.find((p) => p.email === 'ada@example.com')?.manager).toBe('marcus@example.com');
    expect(directory.groups['security-team']?.members).toEqual(expect.arrayContaining(['sam@example.com', 'kim@example.com']));
    expect(directory.groups['access-admins']?.members).toContain('jordan@example.com');
    expect(directory.people.find((p) => p.email === 'ciso@example.com')?.name).toBe('Grace Hopper');

    await page.goto(bot!.url);
    await expect.poll(() => page.locator('#persona option').count()).toBe(directory.people.length);

    // ---- 1. Ada asks ------------------------------------------------------------------------
    await becomes(ADA);
    await page.getByText('No messages yet').waitFor();
    await page.fill('#message-box', '/access request github owner');
    await page.press('#message-box', 'Enter');
    const modal = page.locator('#modal-layer .modal');
    await expect.poll(() => modal.locator('.modal-title').textContent()).toBe('Request access');
    const duration = modal.locator('select[data-action-id="access_duration"]');
    await duration.waitFor();
    // The command chose the app and the role; the form names the policy and its chain.
    expect(await modal.locator('select[data-action-id="access_app"]').inputValue()).toBe('github');
    expect(await modal.locator('select[data-action-id="access_role"]').inputValue()).toBe('owner');
    expect(await modal.locator('.bk-context').first().textContent()).toContain('github-owner-jit');
    await duration.selectOption({ label: '4 hours' });
    await modal.locator('textarea[data-action-id="access_justification"]').fill('Rotating the org webhook secret (INC-1234)');
    await shot('01-request-modal');
    await modal.getByRole('button', { name: 'Request', exact: true }).click();
    await expect.poll(() => modal.locator('.modal-title').textContent()).toBe('Request sent');
    await modal.locator('.modal-footer').getByRole('button', { name: 'Close' }).click();
    await modal.waitFor({ state: 'detached' });

    // Her DM: the request and the approvals ahead.
    const asked = message('You asked for GitHub Organization owner for 4 hours');
    await asked.waitFor();
    const askedText = (await asked.textContent()) ?? '';
    expect(askedText).toContain('Approvals ahead');
    expect(askedText).toMatch(/1\. manager \(Marcus Chen\)/);
    expect(askedText).toMatch(/2\. group security-team, 2 approvals/);
    expect(askedText).toMatch(/3\. user ciso@example\.com/);
    const requestId = /Request (req_[a-z0-9]+)/.exec(askedText)?.[1];
    expect(requestId, `no request id in "${askedText}"`).toBeTruthy();
    await expectNoSlackErrors();
    await shot('02-ada-request-sent', asked);

    // ---- 2. The approvals ---------------------------------------------------------------------
    // Marcus, her manager, in his DM.
    await becomes(MARCUS);
    const managerCard = message(CARD_TITLE).filter({ hasText: requestId! });
    await managerCard.waitFor();
    expect(await managerCard.textContent()).toContain('Step 1 of 3 · manager');
    await managerCard.getByRole('button', { name: 'Approve 4 hours' }).click();
    await managerCard.filter({ hasText: 'Approved by Marcus Chen' }).waitFor();
    expect(await managerCard.getByRole('button').count()).toBe(0);
    await expectNoSlackErrors();
    await shot('03-manager-approved', managerCard);

    // Security: one message in #security for the whole group; two of them must approve.
    await becomes(SAM);
    await openChannel(SECURITY_CHANNEL, 'security');
    const securityCard = message(CARD_TITLE).filter({ hasText: requestId! });
    await securityCard.filter({ hasText: '0 of 2 approvals' }).waitFor();
    expect(await securityCard.textContent()).toContain('Step 1 (manager) approved by Marcus Chen');
    await securityCard.getByRole('button', { name: 'Approve 4 hours' }).click();
    await securityCard.filter({ hasText: '1 of 2 approvals: Sam Rivera' }).waitFor();
    // Still open for a second member.
    expect(await securityCard.getByRole('button', { name: 'Approve 4 hours' }).count()).toBe(1);
    await expectNoSlackErrors();
    await shot('04-security-1-of-2', securityCard);

    await becomes(KIM);
    await openChannel(SECURITY_CHANNEL, 'security');
    await securityCard.filter({ hasText: '1 of 2 approvals: Sam Rivera' }).waitFor();
    await securityCard.getByRole('button', { name: 'Approve 4 hours' }).click();
    await securityCard.filter({ hasText: 'Approved by Sam Rivera and Kim Nguyen' }).waitFor();
    expect(await securityCard.textContent()).toContain('2 of 2 approvals: Sam Rivera and Kim Nguyen');
    expect(await securityCard.getByRole('button').count()).toBe(0);
    await expectNoSlackErrors();
    await shot('05-security-approved', securityCard);

    // The CISO, in her DM.
    await becomes(GRACE);
    const cisoCard = message(CARD_TITLE).filter({ hasText: requestId! });
    await cisoCard.waitFor();
    expect(await cisoCard.textContent()).toContain('Step 2 (group security-team) approved by Sam Rivera and Kim Nguyen');
    await cisoCard.getByRole('button', { name: 'Approve 4 hours' }).click();
    await cisoCard.filter({ hasText: 'Approved by Grace Hopper' }).waitFor();
    await expectNoSlackErrors();

    // ---- 3. Ada's access is active ------------------------------------------------------------
    await becomes(ADA);
    const active = message(/You now have GitHub Organization owner until \d{1,2} \w{3} \d{4}, \d{2}:\d{2}/);
    await active.waitFor();
    expect(await active.textContent()).toContain('removed automatically when it expires');
    await asked.filter({ hasText: 'Now approved.' }).waitFor();
    await expectNoSlackErrors();
    await shot('06-ada-access-active', active);

    // ---- 4. Time passes -----------------------------------------------------------------------
    // 3h10m of the 4 hours: within an hour of the end, the reminder.
    await advanceClock('190m');
    const reminder = message(/Your GitHub Organization owner access ends in/);
    await reminder.waitFor();
    expect(await reminder.getByRole('button', { name: 'Extend…' }).count()).toBe(1);
    expect(await reminder.getByRole('button', { name: "I'm done" }).count()).toBe(1);
    expect(await message('access expired').count()).toBe(0);
    await expectNoSlackErrors();
    await shot('07-reminder', reminder);

    // Another hour: past the end, the grant expires and is revoked.
    const clockBefore = await page.locator('#clock-now').textContent();
    await page.locator('#clock').getByRole('button', { name: '+1h' }).click();
    await expect.poll(() => page.locator('#clock-now').textContent()).not.toBe(clockBefore);
    const expired = message('Your GitHub Organization owner access expired at');
    await expired.waitFor();
    expect(await expired.getByRole('button', { name: 'Request again…' }).count()).toBe(1);
    await expectNoSlackErrors();
    await shot('08-access-expired', expired);
    // The reminder's Extend… pressed after the end: the bot says the access has ended.
    await reminder.getByRole('button', { name: 'Extend…' }).click();
    await modal.filter({ hasText: 'Your GitHub Organization owner access has ended; it can no longer be extended.' }).waitFor();
    await modal.locator('.modal-footer').getByRole('button', { name: 'Close' }).click();
    await modal.waitFor({ state: 'detached' });

    // ---- 5. The evidence: an admin exports the requests -------------------------------------
    await becomes(JORDAN);
    await page.fill('#message-box', '/access export');
    await page.press('#message-box', 'Enter');
    await expect.poll(() => modal.locator('.modal-title').textContent()).toBe('Export evidence');
    const kind = modal.locator('select[data-action-id="access_export_kind"]');
    await kind.waitFor(); // after the admin check, the form replaces "Checking that you are an admin…"
    await kind.selectOption('requests');
    await modal.locator('select[data-action-id="access_export_period"]').selectOption({ label: 'Last 30 days' });
    await shot('09-export-modal');
    await modal.getByRole('button', { name: 'Export', exact: true }).click();
    await expect.poll(() => modal.locator('.modal-title').textContent()).toBe('Export started');
    await modal.locator('.modal-footer').getByRole('button', { name: 'Close' }).click();
    await modal.waitFor({ state: 'detached' });

    const exported = message('Your requests export');
    const fileLink = exported.locator('.file-link');
    await fileLink.waitFor();
    const exportedText = (await exported.textContent()) ?? '';
    expect(exportedText).toContain('1 row');
    const sha256 = /SHA-256 of the file: ([0-9a-f]{64})/.exec(exportedText)?.[1];
    expect(sha256, `no SHA-256 in "${exportedText}"`).toBeTruthy();
    await expectNoSlackErrors();
    await shot('10-export-in-admin-dm', fileLink);
    const [download] = await Promise.all([page.waitForEvent('download'), fileLink.click()]);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    const bytes = await readFile(await download.path());
    // The file downloaded is the file the bot built: the hash in its message matches.
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(sha256);
    const csv = bytes.toString('utf8');

    const parsed = Papa.parse<Record<string, string>>(csv.replace(/^\uFEFF/, ''), { header: true, skipEmptyLines: true });
    expect(parsed.errors).toEqual([]);
    expect(parsed.data).toHaveLength(1);
    const row = parsed.data.find((r) => r.request_id === requestId);
    expect(row, `no row for ${requestId} in:\n${csv}`).toBeDefined();
    expect(row).toMatchObject({
      kind: 'access',
      requester_name: 'Ada Lovelace',
      requester_email: 'ada@example.com',
      requester_slack_id: 'U0ADA',
      app: 'github',
      role: 'owner',
      policy_name: 'github-owner-jit',
      justification: 'Rotating the org webhook secret (INC-1234)',
      requested_seconds: '14400',
      granted_seconds: '14400',
      status: 'revoked',
      request_status: 'approved',
      grant_status: 'revoked',
      step_1_label: 'manager',
      step_1_decided_by: 'Marcus Chen <marcus@example.com>',
      step_1_decision: 'approved',
      step_2_label: 'group security-team',
      step_2_asked: 'Sam Rivera <sam@example.com>; Jordan Lee <jordan@example.com>; Kim Nguyen <kim@example.com>',
      step_2_decided_by: 'Sam Rivera <sam@example.com>; Kim Nguyen <kim@example.com>',
      step_2_decision: 'approved',
      step_3_label: 'user ciso@example.com',
      step_3_decided_by: 'Grace Hopper <ciso@example.com>',
      step_3_decision: 'approved',
      provisioning_method: 'okta_group',
      provisioning_target: 'github-owners',
      revocation_reason: 'expired',
      revoked_by: 'system:sweep',
    });
    // Four hours from provisioning; revoked by the sweep once the clock passed the end.
    expect(Date.parse(row!.expires_at!) - Date.parse(row!.provisioned_at!)).toBe(4 * 3600 * 1000);
    expect(Date.parse(row!.revoked_at!)).toBeGreaterThanOrEqual(Date.parse(row!.expires_at!));

    expect(pageErrors).toEqual([]);
  }, 120_000);
});
