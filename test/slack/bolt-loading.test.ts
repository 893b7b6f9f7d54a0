/**
 * What Bolt loads for each mode (src/adapters/slack/bolt.ts, issue 20): an HTTP app (production
 * HTTP mode, the sandbox) loads neither Socket Mode (nor undici with it), nor OAuth, nor Express;
 * a Socket Mode app loads Socket Mode when it builds its receiver, and gets the real client.
 * Each case runs in a fresh Node process: this one's module cache has seen other tests' imports.
 * test/slack/socket-mode.test.ts runs the bot over Socket Mode end to end.
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LOADED_FILES, ROOT, runFresh } from '../support/fresh-process.js';

const BOLT = pathToFileURL(join(ROOT, 'src', 'adapters', 'slack', 'bolt.ts')).href;

interface Loaded {
  packages: Record<string, number>;
  receiver: string;
  client?: string;
}

/** Builds an App as `options` says in a new process; answers which packages' files it loaded. */
async function buildApp(options: string): Promise<Loaded> {
  return runFresh<Loaded>(`
    ${LOADED_FILES}
    const { App, HTTPReceiver } = await import(${JSON.stringify(BOLT)});
    const app = new App({ token: 'xoxb-loading', deferInitialization: true, ${options} });
    const packages = Object.fromEntries(Object.entries(loadedFiles()).map(([name, files]) => [name, files.length]));
    const receiver = app.receiver;
    console.log(JSON.stringify({ packages, receiver: receiver.constructor.name, client: receiver.client?.constructor.name }));
  `);
}

describe('Bolt, loaded for the mode in use', () => {
  it('an HTTP app loads neither Socket Mode and undici, nor OAuth, nor Express', async () => {
    const loaded = await buildApp(`receiver: new HTTPReceiver({ signingSecret: 'secret' })`);
    expect(loaded.receiver).toBe('HTTPReceiver');
    expect(loaded.packages['@slack/bolt']).toBeGreaterThan(10);
    for (const unused of ['@slack/socket-mode', 'undici', '@slack/oauth', 'jsonwebtoken', 'express'])
      expect(loaded.packages[unused], unused).toBeUndefined();
  });

  it('a Socket Mode app loads Socket Mode as it builds its receiver, and gets the real client', async () => {
    const loaded = await buildApp(`socketMode: true, appToken: 'xapp-loading'`);
    expect(loaded.receiver).toBe('SocketModeReceiver');
    expect(loaded.client).toBe('SocketModeClient');
    expect(loaded.packages['@slack/socket-mode']).toBeGreaterThan(0);
    expect(loaded.packages['undici']).toBeGreaterThan(0);
  });
});
