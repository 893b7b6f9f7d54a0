import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHANNELS, startTinyWorld, type TinyWorld } from './tiny-bot.js';

/**
 * The sandbox server between a page and a tiny Bolt app: everything the page can do, through the
 * page's JSON API, reaches the bot as Slack's requests would, and the bot's answers come back.
 */

let world: TinyWorld;

beforeAll(async () => {
  world = await startTinyWorld();
});

afterAll(async () => {
  await world.stop();
});

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function get(
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Json; headers: Headers; text: string }> {
  const response = await fetch(`${world.sandbox.url}${path}`, { headers });
  const text = await response.text();
  let json: Json = {};
  try {
    json = JSON.parse(text) as Json;
  } catch {
    // not JSON (a file, the page)
  }
  return { status: response.status, json, headers: response.headers, text };
}

async function post(
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Json }> {
  const response = await fetch(`${world.sandbox.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', origin: world.sandbox.url, ...headers },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as Json };
}

async function stateOf(user: string): Promise<Json> {
  return (await get(`/api/state?user=${user}`)).json;
}

function dmOf(state: Json): Json {
  return state.conversations[0];
}

describe('the page and its workspace', () => {
  it("serves the page and lists every persona with their title, and the bot's channels", async () => {
    const pageHtml = await get('/');
    expect(pageHtml.status).toBe(200);
    expect(pageHtml.headers.get('content-type')).toContain('text/html');
    expect(pageHtml.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect((await get('/block-kit.js')).headers.get('content-type')).toContain('text/javascript');
    expect((await get('/../package.json')).status).toBe(404);

    const { json } = await get('/api/workspace');
    expect(json.people.map((p: Json) => `${p.name} — ${p.title}`)).toEqual([
      'Ada Lovelace — Engineer',
      'Marcus Chen — Engineering manager',
    ]);
    expect(json.channels).toEqual(CHANNELS);
    expect(json.userNames.U0ADA).toBe('Ada Lovelace');
    expect(json.clock.now).toBe('2026-11-02T09:00:00.000Z');
  });

  it('adds the people and channels the stand-in lacks, so the bot can look them up and post there', () => {
    expect(world.standIn.workspace.user('U0MARCUS')?.email).toBe('marcus@example.com');
    expect(world.standIn.workspace.channel('C0ACCESSOPS')?.botIsMember).toBe(true);
  });

  it('refuses an unknown persona', async () => {
    expect((await get('/api/state?user=U0NOBODY')).status).toBe(400);
  });
});

describe('another site in the browser cannot drive the sandbox', () => {
  it('answers a foreign Origin with 403, on reads and on actions', async () => {
    expect((await get('/api/workspace', { origin: 'https://evil.example' })).status).toBe(403);
    const action = await post(
      '/api/command',
      { user: 'U0ADA', channel: 'D0ADA', text: '/access' },
      { origin: 'http://127.0.0.1:1' },
    );
    expect(action.status).toBe(403);
    expect(world.standIn.workspace.modalStack('U0ADA')).toEqual([]);
  });

  it('answers a cross-site fetch (Sec-Fetch-Site) with 403', async () => {
    expect((await get('/api/state?user=U0ADA', { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
  });

  it('answers a foreign Host (DNS rebinding) with 403', async () => {
    const { port } = new URL(world.sandbox.url);
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/api/workspace', headers: { host: `attacker.example:${port}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('takes actions as JSON only (no cross-site form posts)', async () => {
    const response = await fetch(`${world.sandbox.url}/api/command`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: '{}',
    });
    expect(response.status).toBe(415);
  });
});

describe('the request lifecycle of the tiny bot, through the page API', () => {
  let viewId: string;

  it("a typed /access becomes a signed slash command, and the modal the bot opens is on the person's stack", async () => {
    const answer = await post('/api/command', { user: 'U0ADA', channel: 'D0ADA', text: '/access' });
    expect(answer.json).toEqual({ ok: true });
    await world.standIn.waitFor('view', (e) => e.action === 'opened' && e.view.userId === 'U0ADA');
    const state = await stateOf('U0ADA');
    expect(state.modals).toHaveLength(1);
    expect(state.modals[0].callback_id).toBe('tiny_request');
    expect(state.modals[0].private_metadata).toBe('req-meta-1');
    viewId = state.modals[0].id;
    expect((await stateOf('U0MARCUS')).modals).toEqual([]);
  });

  it('an external select gets its options from the bot (block_suggestion)', async () => {
    const answer = await post('/api/suggest', {
      user: 'U0ADA',
      container: { type: 'view', viewId },
      blockId: 'role',
      actionId: 'role_pick',
      value: 'own',
    });
    expect(answer.json.options).toEqual([{ text: { type: 'plain_text', text: 'Owner' }, value: 'owner' }]);
  });

  it('an empty justification comes back as an inline error under its block, and the modal stays open', async () => {
    const answer = await post('/api/view/submit', {
      user: 'U0ADA',
      viewId,
      form: { why: { why_text: { value: '' } } },
    });
    expect(answer.json).toEqual({ ok: true, errors: { why: 'Tell us why you need it.' } });
    expect((await stateOf('U0ADA')).modals.map((m: Json) => m.id)).toEqual([viewId]);
  });

  it('a filled form closes the modal and the bot DMs a message with a button', async () => {
    const cursor = world.standIn.cursor();
    const answer = await post('/api/view/submit', {
      user: 'U0ADA',
      viewId,
      form: {
        app: { app_pick: { selected: 'aws' } },
        role: { role_pick: { selected: 'owner' } },
        why: { why_text: { value: 'On call <!channel> & more' } },
      },
    });
    expect(answer.json).toEqual({ ok: true, closed: true });
    const message = await world.standIn.waitFor('message', (m) => m.channel === 'D0ADA', { after: cursor });
    expect(message.text).toBe('Request for AWS');
    const state = await stateOf('U0ADA');
    expect(state.modals).toEqual([]);
    const [posted] = dmOf(state).messages;
    expect(posted.blocks[1].text.text).toBe('*AWS* (owner) for <@U0ADA>\n>On call &lt;!channel&gt; &amp; more');
    expect(posted.version).toBe(1);
  });

  it('a click on the button reaches the bot as block_actions, and the message is updated in place', async () => {
    const before = dmOf(await stateOf('U0ADA')).messages[0];
    const cursor = world.standIn.cursor();
    const answer = await post('/api/action', {
      user: 'U0ADA',
      container: { type: 'message', channel: 'D0ADA', ts: before.ts },
      blockId: 'decide',
      actionId: 'done_button',
    });
    expect(answer.json).toEqual({ ok: true });
    await world.standIn.waitFor('update', (m) => m.ts === before.ts, { after: cursor });
    const messages = dmOf(await stateOf('U0ADA')).messages;
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatchObject({ ts: before.ts, version: 2, text: 'Done' });
  });

  it('a click on an element the message no longer has is refused, not guessed', async () => {
    const { ts } = dmOf(await stateOf('U0ADA')).messages[0];
    const answer = await post('/api/action', {
      user: 'U0ADA',
      container: { type: 'message', channel: 'D0ADA', ts },
      blockId: 'decide',
      actionId: 'done_button',
    });
    expect(answer.status).toBe(404);
  });

  it("nobody acts in another person's DM", async () => {
    const { ts } = dmOf(await stateOf('U0ADA')).messages[0];
    const answer = await post('/api/action', {
      user: 'U0MARCUS',
      container: { type: 'message', channel: 'D0ADA', ts },
      blockId: 'decide',
      actionId: 'done_button',
    });
    expect(answer.status).toBe(400);
  });

  it('a command the app did not declare never reaches it', async () => {
    const answer = await post('/api/command', { user: 'U0ADA', channel: 'D0ADA', text: '/giphy cats' });
    expect(answer).toEqual({
      status: 400,
      json: {
        error:
          '/giphy is not a valid command. In Slack, all messages that start with the "/" character are interpreted as commands.',
      },
    });
  });

  it('clears a modal an earlier session of the person left open, telling the app it was closed', async () => {
    const cursor = world.standIn.cursor();
    await post('/api/command', { user: 'U0MARCUS', channel: 'D0MARCUS', text: '/access' });
    const opened = await world.standIn.waitFor('view', (e) => e.action === 'opened' && e.view.userId === 'U0MARCUS', {
      after: cursor,
    });
    expect((await stateOf('U0MARCUS')).modals).toHaveLength(1);
    expect((await post('/api/view/clear', { user: 'U0MARCUS' })).json).toEqual({ ok: true, closed: 1 });
    expect((await stateOf('U0MARCUS')).modals).toEqual([]);
    expect(world.closed).toContain(opened.view.id);
    expect((await post('/api/view/clear', { user: 'U0MARCUS' })).json).toEqual({ ok: true, closed: 0 });
  });

  it('closing a modal with notify_on_close sends view_closed', async () => {
    const cursor = world.standIn.cursor();
    await post('/api/command', { user: 'U0MARCUS', channel: 'D0MARCUS', text: '/access' });
    const opened = await world.standIn.waitFor('view', (e) => e.action === 'opened' && e.view.userId === 'U0MARCUS', {
      after: cursor,
    });
    const answer = await post('/api/view/close', { user: 'U0MARCUS', viewId: opened.view.id });
    expect(answer.json).toEqual({ ok: true });
    expect(world.closed).toContain(opened.view.id);
    expect((await stateOf('U0MARCUS')).modals).toEqual([]);
  });
});

describe("what Slack does with the bot's answer to a submission", () => {
  async function openModal(user: string): Promise<string> {
    const cursor = world.standIn.cursor();
    await post('/api/command', { user, channel: `D${user.slice(1)}`, text: '/access' });
    return (
      await world.standIn.waitFor('view', (e) => e.action === 'opened' && e.view.userId === user, { after: cursor })
    ).view.id;
  }
  const submit = (user: string, viewId: string, why: string) =>
    post('/api/view/submit', { user, viewId, form: { why: { why_text: { value: why } } } });

  it('response_action update replaces the modal, keeping its id', async () => {
    const viewId = await openModal('U0MARCUS');
    expect((await submit('U0MARCUS', viewId, 'update')).json).toEqual({ ok: true });
    const [modal] = (await stateOf('U0MARCUS')).modals;
    expect(modal).toMatchObject({ id: viewId, title: { text: 'Request sent' } });
  });

  it('response_action push stacks a modal, and clear closes them all', async () => {
    const viewId = await openModal('U0MARCUS');
    expect((await submit('U0MARCUS', viewId, 'push')).json).toEqual({ ok: true });
    const stack = (await stateOf('U0MARCUS')).modals;
    expect(stack.map((m: Json) => m.title.text)).toEqual(['Request access', 'Are you sure?']);
    expect((await post('/api/view/submit', { user: 'U0MARCUS', viewId: stack[1].id, form: {} })).json).toEqual({
      ok: true,
      closed: true,
    });
    expect((await stateOf('U0MARCUS')).modals).toEqual([]);
  });

  it("a modal Slack would reject is refused and shown as Slack's error", async () => {
    const viewId = await openModal('U0MARCUS');
    expect((await submit('U0MARCUS', viewId, 'too long')).json).toEqual({ ok: false, error: 'invalid_view' });
    const { modals, problems } = await stateOf('U0MARCUS');
    expect(modals[0].title.text).toBe('Request access');
    expect(problems.at(-1)).toMatchObject({
      userId: 'U0MARCUS',
      summary: 'The app sent a modal Slack would reject: response_action update',
      details: ['must be less than 25 characters [json-pointer:/view/title/text]'],
    });
    await post('/api/view/close', { user: 'U0MARCUS', viewId });
  });

  it('only the modal on top can be submitted', async () => {
    expect((await post('/api/view/submit', { user: 'U0MARCUS', viewId: 'V0NOTOPEN', form: {} })).status).toBe(409);
  });
});

describe('the rest of what the page shows', () => {
  it("a slash command's ack text is an ephemeral message only its author sees", async () => {
    await post('/api/command', { user: 'U0MARCUS', channel: 'C0SECURITY', text: '/access hello' });
    const security = (await stateOf('U0MARCUS')).conversations.find((c: Json) => c.id === 'C0SECURITY');
    expect(security.messages.at(-1)).toMatchObject({ ephemeral: true, text: 'Hello *there*, <@U0MARCUS>' });
    const forAda = (await stateOf('U0ADA')).conversations.find((c: Json) => c.id === 'C0SECURITY');
    expect(forAda.messages).toEqual([]);
  });

  it("blocks Slack would reject are shown as Slack's error in the conversation", async () => {
    const cursor = world.standIn.cursor();
    await post('/api/command', { user: 'U0ADA', channel: 'D0ADA', text: '/access toolong' });
    await world.standIn.waitFor('call', (c) => c.method === 'chat.postMessage' && c.status === 200, { after: cursor });
    const problems = (await stateOf('U0ADA')).problems;
    expect(problems.at(-1)).toMatchObject({
      kind: 'rejected_call',
      channel: 'D0ADA',
      summary: 'The app sent a message Slack would reject: chat.postMessage answered invalid_blocks',
      details: ['must be less than 3001 characters [json-pointer:/blocks/0/text/text]'],
    });
    expect((await stateOf('U0MARCUS')).problems.some((p: Json) => p.channel === 'D0ADA')).toBe(false);
  });

  it('an uploaded CSV downloads as an attachment from the message that shared it', async () => {
    const cursor = world.standIn.cursor();
    await post('/api/command', { user: 'U0ADA', channel: 'D0ADA', text: '/access export' });
    const file = await world.standIn.waitFor('file', () => true, { after: cursor });
    const shared = dmOf(await stateOf('U0ADA')).messages.find((m: Json) => m.files.length > 0);
    expect(shared.files[0]).toMatchObject({ id: file.id, name: 'access-export.csv', url: `/api/files/${file.id}` });
    const download = await get(shared.files[0].url);
    expect(download.headers.get('content-disposition')).toBe(
      `attachment; filename="access-export.csv"; filename*=UTF-8''access-export.csv`,
    );
    expect(download.headers.get('content-type')).toContain('text/csv');
    expect(download.text).toBe('user,app\nada@example.com,github\n');
  });

  it("opening the Home tab sends app_home_opened, and the published view is the person's Home", async () => {
    expect((await post('/api/app-home', { user: 'U0MARCUS', tab: 'home' })).json).toEqual({ ok: true });
    await world.standIn.waitFor('home', (v) => v.userId === 'U0MARCUS');
    const { home } = await stateOf('U0MARCUS');
    expect(home.blocks[0].text.text).toBe('Hello <@U0MARCUS>: *nothing* pending.');
  });

  it("stamps each message with the bot's clock when it arrived, and gives each person's zone", async () => {
    const { json } = await get('/api/workspace');
    expect(json.people.map((p: Json) => p.timezone)).toEqual(['Europe/Berlin', 'Europe/Berlin']);
    expect(json.clock.timezone).toBe('Europe/Berlin');
    const before = (await get('/api/activity')).json.dms.U0ADA as number;
    const cursor = world.standIn.cursor();
    await post('/api/command', { user: 'U0ADA', channel: 'D0ADA', text: '/access export' });
    await world.standIn.waitFor('message', (m) => m.channel === 'D0ADA' && m.files.length > 0, { after: cursor });
    const state = await stateOf('U0ADA');
    const latest = dmOf(state).messages.at(-1);
    // The bot's clock (moved by the time control), not the wall clock.
    expect(latest.botTime).toBe(state.now);
    expect(state.user.timezone).toBe('Europe/Berlin');
    // The picker's "new messages for" counts come from here.
    expect((await get('/api/activity')).json.dms.U0ADA).toBe(before + 1);
  });

  it('the time control moves the injected clock, within bounds', async () => {
    expect((await post('/api/clock', { seconds: 3600 })).json).toEqual({ ok: true, now: '2026-11-02T10:00:00.000Z' });
    expect(world.advanced).toEqual([3600]);
    expect((await post('/api/clock', { seconds: -5 })).status).toBe(400);
    expect((await post('/api/clock', { seconds: 1.5 })).status).toBe(400);
  });

  it('streams changes as Server-Sent Events', async () => {
    const controller = new AbortController();
    const response = await fetch(`${world.sandbox.url}/api/events`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    const reader = response.body!.getReader();
    await post('/api/command', { user: 'U0ADA', channel: 'D0ADA', text: '/access hello' });
    let seen = '';
    while (!seen.includes('"kind":"ephemeral"')) {
      const { value, done } = await reader.read();
      if (done) break;
      seen += new TextDecoder().decode(value);
    }
    controller.abort();
    expect(seen).toContain('event: change\ndata: {"kind":"ephemeral","channel":"D0ADA"');
  });

  it('a bot that does not answer is reported as Slack reports it', async () => {
    const { startSandboxServer } = await import('../../src/sandbox/sandbox-http.js');
    const dead = await startSandboxServer({
      standIn: world.standIn,
      botEventsUrl: 'http://127.0.0.1:9/slack/events',
      signingSecret: 'x',
      people: [{ slackId: 'U0ADA', email: 'ada@example.com', name: 'Ada Lovelace', title: 'Engineer' }],
      channels: [],
      port: 0,
    });
    try {
      const response = await fetch(`${dead.url}/api/command`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ user: 'U0ADA', channel: 'D0ADA', text: '/access' }),
      });
      const answer = (await response.json()) as Json;
      expect(answer).toMatchObject({ ok: false, error: 'dispatch_failed' });
      expect(answer.problem.summary).toBe('/access failed with the error "dispatch_failed"');
    } finally {
      await dead.close();
    }
  });
});

describe('slash command text', () => {
  it('arrives as Slack sends it for /access (should_escape): @name of a member becomes <@U…|name>, anything else stays', async () => {
    await post('/api/command', {
      user: 'U0ADA',
      channel: 'D0ADA',
      text: '/access echo @marcus until 2026-12-24, ask @nobody or mail@example.com',
    });
    const dm = dmOf(await stateOf('U0ADA'));
    const echoed = dm.messages.map((m: Json) => m.text).find((t: string) => t.startsWith('you sent:'));
    expect(echoed).toBe('you sent: <@U0MARCUS|marcus> until 2026-12-24, ask @nobody or mail@example.com');
  });
});
