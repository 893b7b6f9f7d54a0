import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTinyWorld, type TinyWorld } from './tiny-bot.js';

/**
 * The sandbox page in real headless Chromium, against the tiny Bolt app: a person picks who they
 * are, types /access, fills the modal, meets the bot's inline error, submits, sees the DM, clicks
 * its button and sees the message change where it stands. Screenshots go to test-results/sandbox/.
 */

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = 'test-results/sandbox';
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`sandbox browser test skipped: ${CHROMIUM} is missing (apt-get install -y chromium)`);

let world: TinyWorld;
let browser: Browser;
let page: Page;

const shot = (name: string) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: false });

describe.skipIf(!hasChromium)(`the sandbox page in headless Chromium (${CHROMIUM})`, () => {
  beforeAll(async () => {
    await mkdir(SHOTS, { recursive: true });
    world = await startTinyWorld();
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
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.setDefaultTimeout(10_000);
  });

  afterAll(async () => {
    await browser?.close();
    await world?.stop();
  });

  it('walks a request from /access to an updated DM', async () => {
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(world.sandbox.url);

    // Pick a persona: every person in the directory, with their title.
    await expect.poll(() => page.locator('#persona option').count()).toBe(2);
    const personas = await page.locator('#persona option').allTextContents();
    expect(personas).toEqual(['Ada Lovelace — Engineer', 'Marcus Chen — Engineering manager']);
    await page.selectOption('#persona', { label: 'Marcus Chen — Engineering manager' });
    await page.selectOption('#persona', { label: 'Ada Lovelace — Engineer' });
    await expect.poll(() => page.locator('#title').textContent()).toBe('Access Bot');
    await page.getByText('No messages yet').waitFor();
    await shot('01-ada-empty-dm');

    // The message box sends /access; the bot opens its modal.
    await page.fill('#message-box', '/access');
    await page.press('#message-box', 'Enter');
    const modal = page.locator('.modal');
    await modal.waitFor();
    expect(await modal.locator('.modal-title').textContent()).toBe('Request access');
    await shot('02-modal');

    // An empty justification: the bot answers response_action: errors, shown under its input.
    await modal.locator('button[type=submit]').click();
    const error = modal.locator('.bk-error[data-block-id="why"]');
    await expect.poll(() => error.textContent()).toBe('Tell us why you need it.');
    await shot('03-inline-error');

    // An external select asks the bot for options; pick one, fill the text, submit.
    await modal.locator('.bk-external-input').fill('own');
    await modal.locator('.bk-suggestions .bk-menu-item', { hasText: 'Owner' }).click();
    const typed = 'On call this week <!channel> & <https://evil.example|the runbook>';
    await modal.locator('textarea').fill(typed);
    await modal.locator('button[type=submit]').click();
    await modal.waitFor({ state: 'detached' });

    // The DM: typed text is shown as typed, never as a mention or markup.
    const message = page.locator('article.message').first();
    await message.getByText('Access request: GitHub').waitFor();
    expect(await message.locator('.bk-quote').textContent()).toBe(typed);
    expect(await message.locator('.bk-quote a').count()).toBe(0);
    expect(await message.locator('.bk-mention').first().textContent()).toBe('@Ada Lovelace');
    await shot('04-dm-with-button');

    // The button: chat.update redraws the same message in place.
    const handle = await message.elementHandle();
    await message.getByRole('button', { name: 'Mark done' }).click();
    await expect.poll(() => handle!.textContent()).toContain('Done by @Ada Lovelace');
    expect(await page.locator('article.message').count()).toBe(1);
    expect(await handle!.evaluate((node) => node.isConnected)).toBe(true);
    expect(await message.locator('.edited').textContent()).toBe('(edited)');
    await shot('05-updated-in-place');

    // The Home tab: opening it sends app_home_opened, and the published view is drawn.
    await page.getByRole('button', { name: /Home/ }).click();
    await page.getByText('pending.').waitFor();
    await shot('06-home');

    // The time control moves the bot's clock.
    const before = await page.locator('#clock-now').textContent();
    await page.getByRole('button', { name: '+1d' }).click();
    await expect.poll(() => page.locator('#clock-now').textContent()).not.toBe(before);
    expect(world.advanced).toEqual([86_400]);

    expect(pageErrors).toEqual([]);
  });
});
