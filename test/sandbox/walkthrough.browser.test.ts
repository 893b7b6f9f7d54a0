import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Papa from 'papaparse';
import { chromium, type Browser, type BrowserContext, type Locator, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ROOT, startBotProcess } from './bot-process.js';

/**
 * The README's walkthrough through the REAL bot (`node --import tsx src/main.ts` with neither Slack
 * nor Okta configured), driven in headless Chromium as a person would, at desktop width (1280 px)
 * and on a phone (390 px): Ada requests GitHub Organization owner for 4 hours; Marcus (her manager),
 * two of security-team in #security and the CISO approve; the grant is active; the time control
 * brings the reminder, then the expiry; an admin exports the requests CSV, downloads it from the DM
 * and the test reads its rows. At every screen: nothing scrolls sideways, and every modal's
 * buttons are on screen and clickable. Then the request modal by keyboard alone. axe-core checks
 * the main screens (no serious or critical violations; each run is printed). Screenshots go to
 * test-results/sandbox/walkthrough-<width>-NN-<name>.png.
 */

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = 'test-results/sandbox';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium)
  console.warn(`walkthrough browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);
const AXE_SOURCE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

// The people of directory.example.yml the walkthrough needs (checked against the file below).
const ADA = 'Ada Lovelace — Engineer';
const MARCUS = 'Marcus Chen — Engineering manager';
const SAM = 'Sam Rivera — Security engineer';
const KIM = 'Kim Nguyen — Security analyst';
const GRACE = 'Grace Hopper — CISO';
const JORDAN = 'Jordan Lee — Security engineer';
const SECURITY_CHANNEL = 'C0SECURITY';
const CARD_TITLE = 'Access request: GitHub · Organization owner';

let browser: Browser | undefined;

/**
 * Code run in the page, as source text: the project's TypeScript has no DOM library, and these
 * few lines are the page's business, not the test's.
 */
const IN_PAGE = {
  widths: `(() => {
    const t = document.getElementById('timeline');
    return { doc: document.documentElement.scrollWidth, body: document.body.scrollWidth, view: window.innerWidth, timeline: t.scrollWidth - t.clientWidth };
  })()`,
  unreachableModalButtons: `(() => {
    const modal = document.querySelector('#modal-layer .modal');
    const problems = [];
    for (const button of modal.querySelectorAll('.modal-footer button, .modal-x')) {
      const box = button.getBoundingClientRect();
      const inside = box.left >= 0 && box.top >= 0 && box.right <= window.innerWidth && box.bottom <= window.innerHeight;
      const hit = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
      if (!inside || !(hit === button || button.contains(hit))) problems.push(button.textContent + ' at ' + Math.round(box.left) + ',' + Math.round(box.top));
    }
    return problems;
  })()`,
  hasAxe: `'axe' in window`,
  axe: `(async () => {
    const run = await window.axe.run(document, { resultTypes: ['violations'] });
    return {
      passes: run.passes.length,
      violations: run.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => String(n.target)).slice(0, 3) })),
    };
  })()`,
  focused: `(() => {
    const node = document.activeElement;
    return { id: node?.id ?? '', action: node?.dataset?.actionId ?? '', text: node?.textContent ?? '', inModal: Boolean(node?.closest('#modal-layer .modal')) };
  })()`,
};

interface Focused {
  id: string;
  action: string;
  text: string;
  inModal: boolean;
}

interface AxeSummary {
  passes: number;
  violations: { id: string; impact: string | null; help: string; nodes: string[] }[];
}

interface Directory {
  people: { email: string; name: string; manager?: string; timezone?: string }[];
  groups: Record<string, { members: string[] }>;
}

/** One person at the page, at one width: the walkthrough's steps as a person takes them. */
class Walker {
  private shots = 0;
  readonly axeReports: string[] = [];

  constructor(
    readonly page: Page,
    readonly width: number,
  ) {}

  get phone(): boolean {
    return this.width < 700;
  }

  async shot(name: string, focus?: Locator): Promise<void> {
    if (focus) await focus.scrollIntoViewIfNeeded();
    this.shots += 1;
    await this.page.screenshot({
      path: `${SHOTS}/walkthrough-${this.width}-${String(this.shots).padStart(2, '0')}-${name}.png`,
    });
  }

  /** On a phone the sidebar is a menu: open it first. */
  async sidebar(): Promise<void> {
    if (!this.phone) return;
    if ((await this.page.locator('#menu-toggle').getAttribute('aria-expanded')) === 'true') return;
    await this.page.locator('#menu-toggle').click();
    await this.page.locator('#sidebar #persona').waitFor({ state: 'visible' });
  }

  /** Picks a person in "You are", and waits until the page shows their DM with the bot. */
  async becomes(label: string): Promise<void> {
    const page = this.page;
    const slackId = await page.locator('#persona option').filter({ hasText: label }).getAttribute('value');
    expect(slackId, `no persona "${label}" in the picker`).toBeTruthy();
    await this.sidebar();
    await page.selectOption('#persona', { label });
    await page.locator(`#nav .nav-item.active[data-target="D${slackId!.slice(1)}"]`).waitFor({ state: 'attached' });
    // Choosing someone closes the menu: the conversation takes the screen.
    if (this.phone) expect(await page.locator('#menu-toggle').getAttribute('aria-expanded')).toBe('false');
    await this.expectNoSideways();
  }

  async openChannel(id: string, name: string): Promise<void> {
    await this.sidebar();
    await this.page.locator(`#nav .nav-item[data-target="${id}"]`).click();
    await this.page.locator(`#nav .nav-item.active[data-target="${id}"]`).waitFor({ state: 'attached' });
    await expect.poll(() => this.page.locator('#title').textContent()).toBe(`# ${name}`);
    await this.expectNoSideways();
  }

  async openHome(): Promise<void> {
    await this.sidebar();
    await this.page.locator('#nav .nav-item[data-target="home"]').click();
    await expect.poll(() => this.page.locator('#title').textContent()).toBe('Access Bot · Home');
  }

  async command(text: string): Promise<void> {
    await this.page.fill('#message-box', text);
    await this.page.press('#message-box', 'Enter');
  }

  message(text: string | RegExp): Locator {
    return this.page.locator('#timeline article.message').filter({ hasText: text });
  }

  get modal(): Locator {
    return this.page.locator('#modal-layer .modal');
  }

  /** Nothing on the page is wider than the screen: no sideways scrolling. */
  async expectNoSideways(): Promise<void> {
    const widths = await this.page.evaluate<{ doc: number; body: number; view: number; timeline: number }>(
      IN_PAGE.widths,
    );
    expect(widths.doc, `the page is ${widths.doc}px wide on a ${widths.view}px screen`).toBeLessThanOrEqual(
      widths.view,
    );
    expect(widths.body).toBeLessThanOrEqual(widths.view);
    expect(widths.timeline, 'the conversation scrolls sideways').toBeLessThanOrEqual(1);
  }

  /** Every button of the open modal is on screen and is what a tap at its centre reaches. */
  async expectModalButtonsReachable(): Promise<void> {
    const unreachable = await this.page.evaluate<string[]>(IN_PAGE.unreachableModalButtons);
    expect(unreachable, 'modal buttons off screen or covered').toEqual([]);
    await this.expectNoSideways();
  }

  /** axe-core on the screen as it is: no serious or critical violations. The result is printed. */
  async axe(screen: string): Promise<void> {
    const page = this.page;
    // Injected through the DevTools protocol: the page's own CSP (script-src 'self') stays as it is.
    if (!(await page.evaluate<boolean>(IN_PAGE.hasAxe))) await page.evaluate(await readFile(AXE_SOURCE, 'utf8'));
    const result = await page.evaluate<AxeSummary>(IN_PAGE.axe);
    const line = `axe ${this.width}px ${screen}: ${result.passes} rules passed; violations: ${result.violations.map((v) => `${v.id} (${v.impact}: ${v.nodes.join(' ')})`).join(', ') || 'none'}`;
    this.axeReports.push(line);
    console.log(line);
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(bad, `${screen}: serious or critical accessibility violations`).toEqual([]);
  }

  /** Slack would have refused nothing: no error where a message would be, no error banner. */
  async expectNoSlackErrors(): Promise<void> {
    expect(await this.page.locator('#timeline .problem').allTextContents()).toEqual([]);
    expect(await this.page.locator('#banner').isHidden()).toBe(true);
  }

  async advanceClock(by: string): Promise<void> {
    await this.sidebar();
    const before = await this.page.locator('#clock-now').textContent();
    await this.page.fill('#clock-input', by);
    await this.page.locator('#clock-form').getByRole('button', { name: 'Advance' }).click();
    await expect.poll(() => this.page.locator('#clock-now').textContent()).not.toBe(before);
    if (this.phone) {
      await this.page.keyboard.press('Escape');
      await expect.poll(() => this.page.locator('#menu-toggle').getAttribute('aria-expanded')).toBe('false');
    }
  }
}

async function newPage(width: number): Promise<{ context: BrowserContext; page: Page }> {
  const phone = width < 700;
  const context = await browser!.newContext({
    viewport: { width, height: phone ? 844 : 860 },
    acceptDownloads: true,
    ...(phone ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : {}),
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  return { context, page };
}

async function walkthrough(width: number): Promise<void> {
  const bot = await startBotProcess();
  const { context, page } = await newPage(width);
  const w = new Walker(page, width);
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));
  onTestFailed(async () => {
    await page.screenshot({ path: `${SHOTS}/walkthrough-${width}-failure.png` }).catch(() => {});
    const { stderr } = bot.output();
    console.error(`the bot's log (last lines):\n${stderr.split('\n').slice(-40).join('\n')}`);
  });
  try {
    // The walkthrough's people, as the example directory has them.
    const directory = parseYaml(await readFile(join(ROOT, 'directory.example.yml'), 'utf8')) as Directory;
    expect(directory.people[0]?.email).toBe('ada@example.com');
    expect(directory.people.find((p) => p.email === 'ada@example.com')?.manager).toBe('marcus@example.com');
    expect(directory.groups['security-team']?.members).toEqual(
      expect.arrayContaining(['sam@example.com', 'kim@example.com']),
    );
    expect(directory.groups['access-admins']?.members).toContain('jordan@example.com');
    expect(directory.people.find((p) => p.email === 'ciso@example.com')).toMatchObject({
      name: 'Grace Hopper',
      timezone: 'America/New_York',
    });

    // The README says what the page shows: every text this walk relies on is in its walkthrough, word for word.
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
    const walk = readme.slice(readme.indexOf('### A walkthrough'), readme.indexOf('### The page')).replace(/\s+/g, ' ');
    for (const said of [
      '*Ada Lovelace — Engineer*',
      '`/access request github owner`',
      'Needs your manager, then 2 people from Security team, then Grace Hopper (CISO); up to 4 hours.',
      '*Cancel request*',
      '*Marcus Chen — Engineering manager*',
      '*Approve 4 hours*',
      '*Approve for less…*',
      '*Deny…*',
      '"Approved by Marcus Chen"',
      '`#security`',
      '"0 of 2 approvals"',
      '*Kim Nguyen*',
      '*Grace Hopper — CISO*',
      'New York',
      '("ends in 1 hour")',
      '*Extend…*',
      "*I'm done*",
      '*Request again…*',
      '*Jordan Lee*',
      '`/access export`',
      'SHA-256',
      '<http://127.0.0.1:3000/healthz>',
      '`tables`',
      '`91d`',
      '`jobs` and `slack_messages` are smaller',
      '*Dave Stone*',
      'below 700 px',
    ])
      expect(walk, `the README's walkthrough does not say ${said}`).toContain(said);

    await page.goto(bot.url);
    await expect.poll(() => page.locator('#persona option').count()).toBe(directory.people.length);
    // The page opens as the walkthrough's first person, in her DM.
    expect(await page.locator('#persona').inputValue()).toBe('U0ADA');
    await page.getByText('No messages yet').waitFor();
    await w.expectNoSideways();
    await w.axe("Ada's empty DM");
    await w.shot('ada-first-load');

    // ---- 1. Ada asks ------------------------------------------------------------------------
    await w.command('/access request github owner');
    const modal = w.modal;
    await expect.poll(() => modal.locator('.modal-title').textContent()).toBe('Request access');
    const duration = modal.locator('select[data-action-id="access_duration"]');
    await duration.waitFor();
    // The command chose the app and the role; the form says who approves, in words, and the policy below.
    expect(await modal.locator('select[data-action-id="access_app"]').inputValue()).toBe('github');
    expect(await modal.locator('select[data-action-id="access_role"]').inputValue()).toBe('owner');
    expect(await modal.locator('.modal-body').textContent()).toContain(
      'Needs your manager, then 2 people from Security team, then Grace Hopper (CISO); up to 4 hours.',
    );
    expect(await modal.locator('.bk-context').first().textContent()).toContain('github-owner-jit');
    // Durations shortest first, the default marked where it stands.
    expect(await duration.locator('option').allTextContents()).toEqual([
      'Select an item',
      '15 minutes',
      '1 hour (default)',
      '4 hours',
    ]);
    // Focus starts in the form, on its first control.
    expect((await page.evaluate<Focused>(IN_PAGE.focused)).action).toBe('access_app');
    await w.expectModalButtonsReachable();
    await w.axe('the request modal');
    await duration.selectOption({ label: '4 hours' });
    // An empty justification: the form says it is required, on the field, and focus goes there.
    await modal.getByRole('button', { name: 'Request', exact: true }).click();
    const justification = modal.locator('textarea[data-action-id="access_justification"]');
    await expect
      .poll(() => modal.locator('.bk-input.has-error .bk-error').textContent())
      .toBe('Please fill out this required field.');
    expect((await page.evaluate<Focused>(IN_PAGE.focused)).action).toBe('access_justification');
    await w.shot('request-modal-required');
    await justification.fill('Rotating the org webhook secret (INC-1234)');
    // Typing clears the error, as in Slack.
    expect(await modal.locator('.bk-input.has-error').count()).toBe(0);
    await w.shot('request-modal');
    await modal.getByRole('button', { name: 'Request', exact: true }).click();
    // Submitted: the form closes (no "Request sent" view to close again), focus goes back to the message box.
    await modal.waitFor({ state: 'detached' });
    expect((await page.evaluate<Focused>(IN_PAGE.focused)).id).toBe('message-box');

    // Her DM: the request, who approves in people's words, and Cancel.
    const asked = w.message('You asked for GitHub Organization owner for 4 hours');
    await asked.waitFor();
    const askedText = (await asked.textContent()) ?? '';
    expect(askedText).toContain('Who approves');
    expect(askedText).toContain('1. Your manager, Marcus Chen ← now');
    expect(askedText).toMatch(/2\. 2 people from Security team, in #security/);
    expect(askedText).toContain('3. Grace Hopper (CISO)');
    expect(askedText).toMatch(
      /If nobody decides by \w{3} \d{1,2}, \d{4} at \d{1,2}:\d{2} [AP]M, the request expires\./,
    );
    expect(await asked.getByRole('button', { name: 'Cancel request' }).count()).toBe(1);
    const requestId = /Request (req_[a-z0-9]+)/.exec(askedText)?.[1];
    expect(requestId, `no request id in "${askedText}"`).toBeTruthy();
    await w.expectNoSlackErrors();
    await w.expectNoSideways();
    await w.axe("Ada's DM with her request");
    await w.shot('ada-request-sent', asked);

    // ---- 2. Her manager approves ---------------------------------------------------------------
    // The picker says who has something new.
    await w.sidebar();
    await expect.poll(() => page.locator('#persona-new').textContent()).toContain('Marcus Chen (1)');
    await w.becomes(MARCUS);
    const managerCard = w.message(CARD_TITLE).filter({ hasText: requestId! });
    await managerCard.waitFor();
    expect(await managerCard.textContent()).toContain('Step 1 of 3 · manager, Marcus Chen');
    expect(await managerCard.textContent()).toContain('Rotating the org webhook secret (INC-1234)');
    await managerCard.getByRole('button', { name: 'Approve 4 hours' }).click();
    await managerCard.filter({ hasText: 'Approved by Marcus Chen' }).waitFor();
    expect(await managerCard.getByRole('button').count()).toBe(0);
    await w.expectNoSlackErrors();
    await w.axe("Marcus's DM with an approval");
    await w.shot('manager-approved', managerCard);

    // ---- 3. Security approves in the channel: one message for the group; two of them must approve --
    await w.becomes(SAM);
    await w.openChannel(SECURITY_CHANNEL, 'security');
    const securityCard = w.message(CARD_TITLE).filter({ hasText: requestId! });
    await securityCard.filter({ hasText: '0 of 2 approvals' }).waitFor();
    expect(await securityCard.textContent()).toContain('Step 1, manager: approved by Marcus Chen');
    await securityCard.getByRole('button', { name: 'Approve 4 hours' }).click();
    await securityCard.filter({ hasText: '1 of 2 approvals: Sam Rivera' }).waitFor();
    // Still open for a second member.
    expect(await securityCard.getByRole('button', { name: 'Approve 4 hours' }).count()).toBe(1);
    await w.expectNoSlackErrors();
    await w.axe('#security with a quorum in progress');
    await w.shot('security-1-of-2', securityCard);

    await w.becomes(KIM);
    await w.openChannel(SECURITY_CHANNEL, 'security');
    await securityCard.filter({ hasText: '1 of 2 approvals: Sam Rivera' }).waitFor();
    await securityCard.getByRole('button', { name: 'Approve 4 hours' }).click();
    await securityCard.filter({ hasText: 'Approved by Sam Rivera and Kim Nguyen' }).waitFor();
    expect(await securityCard.getByRole('button').count()).toBe(0);
    await w.expectNoSlackErrors();
    await w.shot('security-approved', securityCard);

    // ---- 4. The CISO approves, in her own zone ---------------------------------------------------
    await w.becomes(GRACE);
    const cisoCard = w.message(CARD_TITLE).filter({ hasText: requestId! });
    await cisoCard.waitFor();
    expect(await cisoCard.textContent()).toContain(
      'Step 2, 2 people from Security team: approved by Sam Rivera and Kim Nguyen',
    );
    // Grace works in New York: the page draws her times there, and its clock says so.
    expect(await page.locator('#clock-zone').textContent()).toContain('America/New_York');
    const asked_at = await cisoCard.locator('time.bk-date').first().getAttribute('datetime');
    const newYork = new Date(asked_at!).toLocaleTimeString('en-US', {
      timeZone: 'America/New_York',
      hour: 'numeric',
      minute: '2-digit',
    });
    expect(await cisoCard.locator('time.bk-date').first().textContent()).toContain(newYork);
    await cisoCard.getByRole('button', { name: 'Approve 4 hours' }).click();
    await cisoCard.filter({ hasText: 'Approved by Grace Hopper' }).waitFor();
    await w.expectNoSlackErrors();
    await w.shot('ciso-approved', cisoCard);

    // ---- Ada's access is active; her request message says so, without Cancel or the deadline ---
    await w.becomes(ADA);
    const active = w.message(/You now have GitHub Organization owner until/);
    await active.waitFor();
    expect(await active.textContent()).toContain(
      'It is removed automatically when it ends. You will get a reminder 1 hour before.',
    );
    await asked.filter({ hasText: 'Active until' }).waitFor();
    expect(await asked.getByRole('button', { name: 'Cancel request' }).count()).toBe(0);
    expect(await asked.textContent()).not.toContain('the request expires');
    // Two DMs for the whole chain: the request (updated in place) and the news that it is active.
    expect(await page.locator('#timeline article.message').count()).toBe(2);
    await w.expectNoSlackErrors();
    await w.shot('ada-access-active', active);

    // ---- 5. Time passes ------------------------------------------------------------------------
    await w.advanceClock('3h');
    const reminderFirst = w.message(/Your GitHub Organization owner access ends in 1 hour/);
    await reminderFirst.waitFor();
    // The same message, whatever it says later (it is updated in place).
    const reminder = page.locator(
      `#timeline article.message[data-ts="${await reminderFirst.getAttribute('data-ts')}"]`,
    );
    expect(await reminder.getByRole('button', { name: 'Extend…' }).count()).toBe(1);
    expect(await reminder.getByRole('button', { name: "I'm done" }).count()).toBe(1);
    await w.expectNoSlackErrors();
    await w.shot('reminder', reminder);

    // Another hour: past the end, the grant expires and is revoked.
    await w.advanceClock('1h');
    const expired = w.message('Your GitHub Organization owner access expired');
    await expired.waitFor();
    expect(await expired.getByRole('button', { name: 'Request again…' }).count()).toBe(1);
    // The reminder no longer offers what cannot happen any more.
    await reminder.filter({ hasText: 'access ended' }).waitFor();
    expect(await reminder.getByRole('button').count()).toBe(0);
    await w.expectNoSlackErrors();
    await w.shot('access-expired', expired);
    // Request again… opens the form with the same role and her justification.
    await expired.getByRole('button', { name: 'Request again…' }).click();
    await modal.locator('textarea[data-action-id="access_justification"]').waitFor();
    expect(await modal.locator('textarea[data-action-id="access_justification"]').inputValue()).toBe(
      'Rotating the org webhook secret (INC-1234)',
    );
    await w.expectModalButtonsReachable();
    await modal.locator('.modal-footer').getByRole('button', { name: 'Cancel' }).click();
    await modal.waitFor({ state: 'detached' });

    // ---- 6. The evidence: an admin exports the requests ---------------------------------------
    await w.becomes(JORDAN);
    await w.command('/access export');
    await expect.poll(() => modal.locator('.modal-title').textContent()).toBe('Export evidence');
    const kind = modal.locator('select[data-action-id="access_export_kind"]');
    await kind.waitFor();
    await kind.selectOption('requests');
    await modal.locator('select[data-action-id="access_export_period"]').selectOption({ label: 'Last 30 days' });
    await w.expectModalButtonsReachable();
    await w.axe('the export form');
    await w.shot('export-modal');
    await modal.getByRole('button', { name: 'Export', exact: true }).click();
    // The form closes; the CSV arrives in the DM.
    await modal.waitFor({ state: 'detached' });

    const exported = w.message('Your requests export');
    const fileLink = exported.locator('.file-link');
    await fileLink.waitFor();
    const exportedText = (await exported.textContent()) ?? '';
    expect(exportedText).toContain('1 row');
    const sha256 = /SHA-256 of the file: ([0-9a-f]{64})/.exec(exportedText)?.[1];
    expect(sha256, `no SHA-256 in "${exportedText}"`).toBeTruthy();
    expect(exportedText).toMatch(/access-bot audit verify --expect-head [0-9a-f]{64}/);
    await w.expectNoSlackErrors();
    await w.shot('export-in-admin-dm', fileLink);
    const [download] = await Promise.all([page.waitForEvent('download'), fileLink.click()]);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    const bytes = await readFile(await download.path());
    // The file downloaded is the file the bot built: the hash in its message matches.
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(sha256);
    const parsed = Papa.parse<Record<string, string>>(bytes.toString('utf8').replace(/^\uFEFF/, ''), {
      header: true,
      skipEmptyLines: true,
    });
    expect(parsed.errors).toEqual([]);
    expect(parsed.data).toHaveLength(1);
    expect(parsed.data[0]).toMatchObject({
      request_id: requestId,
      requester_email: 'ada@example.com',
      app: 'github',
      role: 'owner',
      policy_name: 'github-owner-jit',
      justification: 'Rotating the org webhook secret (INC-1234)',
      requested_seconds: '14400',
      granted_seconds: '14400',
      status: 'revoked',
      step_1_decided_by: 'Marcus Chen <marcus@example.com>',
      step_2_decided_by: 'Sam Rivera <sam@example.com>; Kim Nguyen <kim@example.com>',
      step_3_decided_by: 'Grace Hopper <ciso@example.com>',
      revocation_reason: 'expired',
      revoked_by: 'system:sweep',
    });

    // ---- 7. Housekeeping: /healthz counts the rows; 91 days on, what only helped the bot is pruned ----
    const tables = async () => {
      const health = await page.request.get(`${bot.url}/healthz`);
      expect(health.status()).toBe(200);
      return ((await health.json()) as { tables: Record<string, number> }).tables;
    };
    const before = await tables();
    expect(before.jobs).toBeGreaterThan(0);
    expect(before.slack_messages).toBeGreaterThan(0);
    await w.advanceClock('91d');
    const after = await tables();
    expect(after.jobs).toBeLessThan(before.jobs!);
    expect(after.slack_messages).toBeLessThan(before.slack_messages!);
    expect(after.audit_events).toBeGreaterThanOrEqual(before.audit_events!);
    expect(after.requests).toBe(before.requests);

    // ---- The App Home: the admin sees who holds what; the page stays usable ---------------------
    await w.openHome();
    await page.getByText('Who holds access now').waitFor();
    await w.expectNoSideways();
    await w.axe("Jordan's App Home");
    await w.shot('admin-home');

    // ---- Another path from the README: a person who left gets one sentence, and no form ---------
    await w.becomes('Dave Stone — Engineer (left the company)');
    await w.command('/access request github owner');
    await w.message('is not active, so the bot cannot act for you').waitFor();
    expect(await modal.count()).toBe(0);

    expect(pageErrors).toEqual([]);
  } finally {
    await context.close();
    await bot.stop();
  }
}

describe.skipIf(!hasChromium)(`the README walkthrough in the sandbox, in headless Chromium (${CHROMIUM})`, () => {
  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    // Playwright starts Chromium with a fresh, empty profile of its own (it refuses --user-data-dir here).
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-quic',
        '--no-first-run',
      ],
    });
  }, 60_000);

  afterAll(async () => {
    await browser?.close().catch(() => {});
  }, 30_000);

  it('walks the walkthrough at 1280 px: request, four approvals in three steps, active, reminder, expiry, the CSV', async () => {
    await walkthrough(1280);
  }, 180_000);

  it('walks the walkthrough on a phone (390 px): the sidebar is a menu, modals are sheets, nothing scrolls sideways', async () => {
    await walkthrough(390);
  }, 180_000);

  it('fills and sends the request modal by keyboard alone: focus in, Tab kept inside, kept across updates, Esc closes', async () => {
    const bot = await startBotProcess();
    const { context, page } = await newPage(1280);
    const active = () => page.evaluate<Focused>(IN_PAGE.focused);
    onTestFailed(async () => {
      await page.screenshot({ path: `${SHOTS}/walkthrough-keyboard-failure.png` }).catch(() => {});
    });
    try {
      await page.goto(bot.url);
      await page.getByText('No messages yet').waitFor();
      // To the message box with Tab alone.
      for (let i = 0; i < 40 && (await active()).id !== 'message-box'; i++) await page.keyboard.press('Tab');
      expect((await active()).id).toBe('message-box');
      await page.keyboard.type('/access request github owner');
      await page.keyboard.press('Enter');
      const modal = page.locator('#modal-layer .modal');
      await modal.locator('select[data-action-id="access_duration"]').waitFor();
      // The modal takes focus on its first control.
      await expect.poll(async () => (await active()).action).toBe('access_app');

      // Tab walks through the modal and stays in it, both ways.
      for (let i = 0; i < 12; i++) {
        await page.keyboard.press('Tab');
        expect((await active()).inModal, `Tab ${i + 1} left the modal`).toBe(true);
      }
      for (let i = 0; i < 12; i++) {
        await page.keyboard.press('Shift+Tab');
        expect((await active()).inModal, `Shift+Tab ${i + 1} left the modal`).toBe(true);
      }

      // To the role; an arrow key changes it (the bot redraws the modal), and focus stays on the role.
      await page.locator('select[data-action-id="access_role"]').focus();
      await page.keyboard.press('ArrowDown');
      await modal.filter({ hasText: 'Automatic, up to 90 days.' }).waitFor();
      expect(await active()).toMatchObject({ action: 'access_role', inModal: true });
      await page.keyboard.press('ArrowUp');
      await modal.filter({ hasText: 'Needs your manager' }).waitFor();
      expect(await active()).toMatchObject({ action: 'access_role', inModal: true });
      expect(await modal.locator('select[data-action-id="access_role"]').inputValue()).toBe('owner');

      // The duration, then the justification, by keyboard.
      await page.keyboard.press('Tab');
      expect((await active()).action).toBe('access_duration');
      await page.keyboard.press('ArrowDown');
      expect(await modal.locator('select[data-action-id="access_duration"]').inputValue()).toBe('14400');
      await page.keyboard.press('Tab');
      expect((await active()).action).toBe('access_justification');
      await page.keyboard.type('Typed with the keyboard (INC-77)');
      // Tab to Request and press Enter: sent, closed, focus back in the message box.
      for (let i = 0; i < 6 && (await active()).text !== 'Request'; i++) await page.keyboard.press('Tab');
      await page.keyboard.press('Enter');
      await modal.waitFor({ state: 'detached' });
      expect((await active()).id).toBe('message-box');
      await page
        .locator('#timeline article.message')
        .filter({ hasText: 'You asked for GitHub Organization owner for 4 hours' })
        .waitFor();

      // Esc closes a modal, and focus goes back where it was.
      await page.keyboard.type('/access request');
      await page.keyboard.press('Enter');
      await modal.waitFor();
      await expect.poll(async () => (await active()).inModal).toBe(true);
      await page.keyboard.press('Escape');
      await modal.waitFor({ state: 'detached' });
      expect((await active()).id).toBe('message-box');
      await page.screenshot({ path: `${SHOTS}/walkthrough-keyboard-done.png` });
    } finally {
      await context.close();
      await bot.stop();
    }
  }, 120_000);
});
