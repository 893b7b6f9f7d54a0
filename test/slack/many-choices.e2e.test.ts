/**
 * More choices than a static select holds (100 options): 150 applications, and an application
 * with 120 roles. Both pickers become an `external_select` whose options the bot answers by
 * search, so nothing past the 100th is unreachable.
 */
import Papa from 'papaparse';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ACTION, BLOCK } from '../../blocks/ids.js';
import type { LoadedPolicy } from '../../src/domain/policy.js';
import { examplePolicies, EXAMPLE_ROLES } from '../support/lifecycle-harness.js';
import { sendBlockSuggestion } from '../support/slack-signing.js';
import { SECRET, startSlackFixture, USERS, type SlackFixture } from './slack-fixture.js';
import { holdActive } from './slack2-helpers.js';

let fx: SlackFixture;

const APPS = 150;
function policies(): LoadedPolicy[] {
  const many = Array.from({ length: APPS }, (_, i) => ({
    app: `tool-${String(i).padStart(3, '0')}`,
    name: `Tool ${String(i).padStart(3, '0')}`,
    roles: [{ ...EXAMPLE_ROLES.member, policy: `tool-${i}-member` }],
    source: { file: `tool-${i}.yml` },
  }));
  const big = {
    app: 'bigapp',
    name: 'Big App',
    roles: Array.from({ length: 120 }, (_, i) => ({
      ...EXAMPLE_ROLES.member,
      id: `role-${String(i).padStart(3, '0')}`,
      name: `Role ${String(i).padStart(3, '0')}`,
      policy: `bigapp-${i}`,
    })),
    source: { file: 'bigapp.yml' },
  };
  return [...examplePolicies(), ...many, big];
}

beforeEach(async () => {
  fx = await startSlackFixture({ policies: policies() });
});
afterEach(async () => {
  await fx.close();
});

const elementOf = (view: Record<string, unknown>, blockId: string) =>
  ((view.blocks as { block_id?: string; element?: { type: string; options?: unknown[] } }[]) ?? []).find(
    (b) => b.block_id === blockId,
  )?.element;

async function suggest(who: keyof typeof USERS, actionId: string, blockId: string, value: string) {
  const res = await sendBlockSuggestion(fx.url, SECRET, {
    userId: USERS[who].id,
    actionId,
    blockId,
    value,
    view: fx.modal(who),
  });
  expect(res.status).toBe(200);
  return (res.json as { options: { value: string; text: { text: string } }[] }).options;
}

describe('150 applications', () => {
  it('lets an admin filter an export by the 150th application, found by search', async () => {
    await holdActive(fx, 'ada', 'tool-149', 'member');
    await holdActive(fx, 'alan', 'tool-001', 'member');
    await fx.command('priya', 'export');
    const form = await fx.waitModal('priya', (v) => v.callbackId === 'access_export');
    expect(elementOf(form, BLOCK.exportApp)?.type).toBe('external_select');

    const found = await suggest('priya', ACTION.exportApp, BLOCK.exportApp, 'tool 149');
    expect(found.map((o) => o.value)).toEqual(['tool-149']);
    expect(await suggest('priya', ACTION.exportApp, BLOCK.exportApp, '')).toHaveLength(100); // at most a select's worth

    const res = await fx.submit(
      'priya',
      {
        [BLOCK.exportKind]: { [ACTION.exportKind]: { type: 'static_select', selected_option: { value: 'requests' } } },
        [BLOCK.exportPeriod]: {
          [ACTION.exportPeriod]: { type: 'static_select', selected_option: { value: 'last_30_days' } },
        },
        [BLOCK.exportApp]: { [ACTION.exportApp]: { type: 'external_select', selected_option: { value: 'tool-149' } } },
      },
      { view: form },
    );
    expect(res.status).toBe(200);
    expect(res.json).toBeUndefined(); // the form closes; the file comes to the DM
    const file = await fx.slack.waitFor('file', (f) => f.completed);
    const csv = file.bytes!.toString('utf8').replace(/^\uFEFF/, '');
    const rows = Papa.parse<Record<string, string>>(csv, { header: true, skipEmptyLines: true }).data;
    expect(rows.map((r) => r.app)).toEqual(['tool-149']);
  });

  it("offers the request form's applications by search, the 150th included", async () => {
    await fx.command('kim', 'request');
    const view = await fx.waitModal('kim', (v) => JSON.stringify(v.definition.blocks).includes(ACTION.app));
    expect(elementOf(view, BLOCK.app)?.type).toBe('external_select');
    expect((await suggest('kim', ACTION.app, BLOCK.app, 'tool-149')).map((o) => o.value)).toEqual(['tool-149']);
  });
});

describe('an application with 120 roles', () => {
  it('searches its roles, the ones past the 100th included, and requests one', async () => {
    await fx.command('kim', 'request bigapp');
    const view = await fx.waitModal('kim', (v) => JSON.stringify(v.definition.blocks).includes(ACTION.role));
    expect(elementOf(view, BLOCK.role)?.type).toBe('external_select');
    const found = await suggest('kim', ACTION.role, BLOCK.role, 'role 11');
    expect(found.map((o) => o.value)).toEqual(Array.from({ length: 10 }, (_, i) => `role-11${i}`));

    await fx.pick('kim', ACTION.role, BLOCK.role, 'role-117');
    const withRole = await fx.waitModal('kim', (v) => JSON.stringify(v.definition.blocks).includes(ACTION.duration));
    const res = await fx.submit('kim', {}, { view: withRole });
    expect(res.status).toBe(200);
    expect(res.json).toBeUndefined(); // the form closes; the DM says what happened
    await fx.settle();
    expect(await fx.h.store.listGrants({ holderId: USERS.kim.directoryId })).toMatchObject([
      { app: 'bigapp', role: 'role-117', status: 'active' },
    ]);
  });
});
