/**
 * No ambient async context on the request path. On Node 20 a single `AsyncLocalStorage.run` (or
 * `enterWith`, or an enabled async hook) keeps promise hooks on for the rest of the process, and
 * every promise of every request pays for them. The operation scope is handed down instead
 * (operations/operation-scope.ts): a request, its decision and the jobs it sets off never start one.
 */
import asyncHooks, { AsyncLocalStorage } from 'node:async_hooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ACTION } from '../../blocks/ids.js';
import { hasAction, startSlackFixture, USERS, type SlackFixture } from './slack-fixture.js';

const started: string[] = [];
const originals = {
  run: AsyncLocalStorage.prototype.run,
  enterWith: AsyncLocalStorage.prototype.enterWith,
  createHook: asyncHooks.createHook,
};
let fx: SlackFixture;

beforeAll(async () => {
  fx = await startSlackFixture();
  AsyncLocalStorage.prototype.run = function (this: AsyncLocalStorage<unknown>, ...args: never[]) {
    started.push(`AsyncLocalStorage.run\n${new Error().stack}`);
    return (originals.run as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof originals.run;
  AsyncLocalStorage.prototype.enterWith = function (this: AsyncLocalStorage<unknown>, store: unknown) {
    started.push(`AsyncLocalStorage.enterWith\n${new Error().stack}`);
    return originals.enterWith.call(this, store);
  };
  asyncHooks.createHook = (callbacks) => {
    started.push(`async_hooks.createHook\n${new Error().stack}`);
    return originals.createHook(callbacks);
  };
});

afterAll(async () => {
  Object.assign(AsyncLocalStorage.prototype, { run: originals.run, enterWith: originals.enterWith });
  asyncHooks.createHook = originals.createHook;
  await fx.close();
});

it('runs a request from the form to the provisioned grant without starting an async context', async () => {
  await fx.requestViaModal('ada', 'aws', 'admin', { justification: 'Debug the billing lambda' });
  const ask = await fx.slack.waitFor('message', (m) => m.channel === fx.dm('marcus') && hasAction(m, ACTION.approve));
  await fx.click('marcus', ask, ACTION.approve);
  await fx.settle();
  const grants = await fx.h.store.listGrants({ holderId: USERS.ada.directoryId, status: ['active'] });
  expect(grants).toHaveLength(1);
  expect(started).toEqual([]);
});
