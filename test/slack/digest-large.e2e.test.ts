/**
 * The weekly digest of a large company, posted through the Slack stand-in, which refuses a message
 * whose blocks carry more than 12,000 characters of text (`msg_blocks_too_long`), as Slack does.
 * The message holds counts and the top lines; the CSV beside it holds every list in full.
 */
import Papa from 'papaparse';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { digestBlocks } from '../../blocks/digest.js';
import { LIMITS, blockText } from '../../blocks/limits.js';
import { buildDigest } from '../../src/operations/build-digest.js';
import { seedGrants } from '../schedules/support/seed.js';
import { startSlackFixture, type SlackFixture } from './slack-fixture.js';

let fx: SlackFixture;
beforeEach(async () => {
  fx = await startSlackFixture();
});
afterEach(async () => {
  await fx.close();
});

const HOLDERS = 1_000;
const FIRST = ['Alexandra', 'Bartholomew', 'Constance', 'Demetrius', 'Evangeline', 'Fitzgerald'];
const LAST = ['Montgomery-Smythe', 'Vanderbilt', 'Oyelaran-Okafor', 'Castellanos', 'Wojciechowski', 'Abernathy'];

describe('the digest of 1,000 sensitive holders', () => {
  it("stays within Slack's total block text, and the CSV beside it lists all 1,000", async () => {
    const now = fx.h.clock.now().getTime();
    const iso = (ms: number) => new Date(ms).toISOString();
    await seedGrants(
      fx.h.store,
      Array.from({ length: HOLDERS }, (_, i) => ({
        id: `grt_h${String(i).padStart(4, '0')}`,
        holder: {
          directoryId: `u-h${i}`,
          email: `holder.${i}@example.com`,
          name: `${FIRST[i % 6]} ${LAST[(i * 7) % 6]} ${i}`,
        },
        app: i % 2 ? 'aws' : 'github',
        role: i % 2 ? 'admin' : 'owner',
        group: i % 2 ? 'aws-admins' : 'github-owners',
        activatedAt: iso(now - (1 + (i % 6)) * 86_400_000),
        expiresAt: iso(now + 3_600_000 * (1 + (i % 8))),
      })),
      { audit: true },
    );
    const webhookError = (i: number) =>
      'webhook https://billing.internal.example.com/access-hooks answered 502 Bad Gateway: <html><head>' +
      `<title>502</title></head><body>upstream billing-api-${i} timed out after 10000 ms while calling the ` +
      `ledger service; request id ${'f'.repeat(40)}</body></html>`;
    // Revocations stuck at a provider, overdue.
    await seedGrants(
      fx.h.store,
      Array.from({ length: 100 }, (_, i) => ({
        id: `grt_r${String(i).padStart(4, '0')}`,
        holder: {
          directoryId: `u-r${i}`,
          email: `leaver.${i}@example.com`,
          name: `${FIRST[i % 6]} ${LAST[i % 6]} ${i}`,
        },
        app: 'billing',
        role: 'viewer',
        group: 'billing-viewers',
        sensitive: false,
        status: 'revoking',
        activatedAt: iso(now - 3 * 86_400_000),
        expiresAt: iso(now - 86_400_000),
      })),
    );
    await fx.h.store.transaction(async (tx) => {
      for (let i = 0; i < 100; i++) {
        await tx.updateGrant(`grt_r${String(i).padStart(4, '0')}`, ['revoking'], {
          revocationReason: 'expired',
          revocationStartedAt: iso(now - 86_400_000),
          failures: 12,
          lastError: webhookError(i),
        });
      }
    });
    // A busy week besides: long provider errors, revocations, extensions, drift.
    await fx.h.store.transaction(async (tx) => {
      for (let i = 0; i < 200; i++) {
        const grantId = `grt_h${String(i).padStart(4, '0')}`;
        const at = iso(now - 3_600_000 - i * 1000);
        const system = (component: string) => ({ kind: 'system' as const, component });
        await tx.appendAudit({
          at,
          actor: system('provisioner'),
          action: 'grant.provisioningFailed',
          grantId,
          details: { attempts: 8, error: webhookError(i), permanent: false },
        });
        await tx.appendAudit({
          at,
          actor: system('provisioner'),
          action: 'grant.revocationFailed',
          grantId,
          details: { attempt: 1, error: webhookError(i), permanent: false },
        });
        // The same access extended three times: "standing access in disguise".
        for (let j = 0; j < 3; j++) {
          const details = { addedSeconds: 3600 };
          await tx.appendAudit({ at, actor: system('chain'), action: 'grant.extended', grantId, details });
        }
        const reason = i % 2 ? 'revoked' : 'offboarded';
        await tx.appendAudit({ at, actor: system('sweep'), action: 'grant.revoked', grantId, details: { reason } });
        const person = {
          directoryId: `u-d${i}`,
          email: `drifted.person.${i}@example.com`,
          name: `${FIRST[i % 6]} ${LAST[i % 6]}`,
        };
        await tx.appendAudit({
          at,
          actor: system('reconcile'),
          action: 'drift.detected',
          details: { group: `okta-group-with-a-long-name-${i % 7}`, person },
        });
      }
    });

    const built = digestBlocks(await buildDigest(fx.h.deps, fx.h.clock.now()));
    console.info(`digest built: ${blockText(built.blocks)} characters of block text in ${built.blocks.length} blocks`);
    await fx.command('priya', 'digest');
    await fx.settle();
    const message = fx.channel('C0SECURITY').find((m) => m.text.startsWith('Weekly access digest'));
    expect(message, JSON.stringify(fx.slack.workspace.calls('chat.postMessage').map((c) => c.answer))).toBeDefined();
    const chars = blockText(message!.blocks);
    const blocks = message!.blocks.length;
    console.info(
      `digest of ${HOLDERS} holders: ${chars} characters of block text in ${blocks} blocks` +
        ' (Slack refuses above about 12,000)',
    );
    expect(chars).toBeLessThanOrEqual(LIMITS.messageBlocksTextBudget);
    const shown = JSON.stringify(message!.blocks);
    expect(shown).toContain(`Sensitive access now (${HOLDERS})`);
    expect(shown).toMatch(/and [\d,]+ more in the CSV/);
    expect(shown).toContain('AWS Administrator 500');

    // The thread: every list in full, and the week's requests.
    const files = fx.slack.workspace.files().filter((f) => f.threadTs === message!.ts);
    expect(files.map((f) => f.filename).sort()).toEqual([
      expect.stringMatching(/^access-digest-week-/),
      expect.stringMatching(/^access-requests-week-/),
    ]);
    const lists = files.find((f) => f.filename.startsWith('access-digest-week-'))!;
    const csv = lists.bytes!.toString('utf8').replace(/^\uFEFF/, '');
    const rows = Papa.parse<Record<string, string>>(csv, { header: true, skipEmptyLines: true }).data;
    const holders = rows.filter((r) => r.list === 'sensitive_access_now');
    expect(holders).toHaveLength(HOLDERS);
    expect(new Set(holders.map((r) => r.person_email)).size).toBe(HOLDERS);
    expect(holders.find((r) => r.person_email === 'holder.999@example.com')).toMatchObject({
      app: 'aws',
      role: 'admin',
      approved_by: 'approved automatically',
    });
    expect(rows.filter((r) => r.list === 'granted')).toHaveLength(HOLDERS + 100);
    expect(rows.filter((r) => r.list === 'revocation_overdue')).toHaveLength(100);
    expect(rows.filter((r) => r.list === 'extended')).toHaveLength(600);
    expect(await fx.h.store.auditEventsBetween('2000-01-01', '2100-01-01', ['digest.posted'])).toHaveLength(1);
  });
});
