/**
 * Bolt's App and HTTP receiver, loaded without what the bot's mode does not use (issue 20: the idle
 * bot's memory).
 *
 * `@slack/bolt`'s entry loads every receiver: Express (for the ExpressReceiver, which the bot never
 * uses), Socket Mode (its client loads undici whole, which also loads Node's own fetch: about 17 MB
 * of the idle bot's resident memory) and `@slack/oauth` (jsonwebtoken, semver: the OAuth installer,
 * which the bot never uses: it runs with one bot token). So:
 * - App and HTTPReceiver come from their own modules in Bolt's dist (the package has no `exports`
 *   map, so these paths are public to Node and typed by Bolt's own .d.ts files): no Express.
 * - Bolt's App module still requires both receivers at its top, and they require Socket Mode and
 *   OAuth at theirs, though each uses them only in its constructor (`new SocketModeClient`, and
 *   `new InstallProvider` when OAuth options are given). Before App loads, each of the two is
 *   deferred to its first use (adapters/load-on-first-use.ts: an entry in Node's CJS module cache
 *   whose exports load the real package on first use and hand on what it exports). A
 *   Socket Mode start therefore loads Socket Mode when it builds its receiver, exactly as before;
 *   an HTTP start (and the sandbox) never loads it. test/slack/bolt-loading.test.ts checks both.
 * Nothing in node_modules is changed, and a process that loaded the real packages first keeps them.
 */
import { createRequire } from 'node:module';
import type * as Bolt from '@slack/bolt';
import { loadOnFirstUse } from '../load-on-first-use.js';

// Resolved from Bolt's own dist folder, where its receivers resolve them.
const requireInBolt = createRequire(createRequire(import.meta.url).resolve('@slack/bolt/dist/App.js'));

// The receivers only read properties of what they required (`socket_mode_1.SocketModeClient`).
loadOnFirstUse(requireInBolt, '@slack/socket-mode');
loadOnFirstUse(requireInBolt, '@slack/oauth');

const appModule = requireInBolt('./App.js') as { default: typeof Bolt.App; LogLevel: typeof Bolt.LogLevel };
const httpReceiverModule = requireInBolt('./receivers/HTTPReceiver.js') as { default: typeof Bolt.HTTPReceiver };

export const App = appModule.default;
export type App = Bolt.App;
export const HTTPReceiver = httpReceiverModule.default;
export type HTTPReceiver = Bolt.HTTPReceiver;
export const LogLevel = appModule.LogLevel;
export type LogLevel = Bolt.LogLevel;
