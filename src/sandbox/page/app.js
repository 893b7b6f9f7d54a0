/* global document, window, fetch, localStorage, EventSource, URLSearchParams, setTimeout, clearTimeout */
/**
 * The sandbox page: pick who you are, read your DMs with the bot, the bot's channels and your App
 * Home, type /access commands, click buttons, fill modals. Every action goes to the sandbox
 * server, which sends it to the bot as Slack would; every change comes back on the event stream
 * and the page redraws only what changed (an updated message is replaced where it stands).
 */
import { FormState, formFromSlackState, h, renderBlocks, renderMrkdwn } from './block-kit.js';

const $ = (id) => document.getElementById(id);

const page = {
  workspace: null,
  me: null,
  /** 'home' or a conversation id. */
  current: null,
  snapshot: null,
  /** `${channel}:${ts}` -> {node, version} for the conversation on screen. */
  drawn: new Map(),
  drawnHome: null,
  modal: null,
  /** Messages seen per conversation, for the unread marks. */
  seen: new Map(),
  dismissed: new Set(),
};

// ---- talking to the server -----------------------------------------------------------------

async function api(path, body) {
  const response = await fetch(path, body === undefined ? {} : {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(json.error ?? `HTTP ${response.status}`);
  return json;
}

function toast(text) {
  const node = $('toast');
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { node.hidden = true; }, 5000);
}

/** Runs an action; a failure is shown, never thrown into an event handler. */
async function attempt(work) {
  try {
    const answer = await work();
    if (answer && answer.ok === false && answer.error) toast(answer.problem?.summary ?? `Slack: ${answer.error}`);
    return answer;
  } catch (error) {
    toast(error.message);
    return undefined;
  } finally {
    scheduleRefresh(0);
  }
}

let refreshTimer;
let refreshing = Promise.resolve();
function scheduleRefresh(delay = 60) {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(() => {
    refreshing = refreshing.then(refresh, refresh);
  }, delay);
}

async function refresh() {
  if (!page.me) return;
  const me = page.me;
  const snapshot = await api(`/api/state?${new URLSearchParams({ user: me })}`).catch((error) => {
    toast(error.message);
    return null;
  });
  if (!snapshot || me !== page.me) return;
  page.snapshot = snapshot;
  render();
}

// ---- start ----------------------------------------------------------------------------------

async function start() {
  page.workspace = await api('/api/workspace');
  $('workspace-name').textContent = page.workspace.team.name;
  const picker = $('persona');
  for (const person of page.workspace.people) {
    const option = h('option', null, person.title ? `${person.name} — ${person.title}` : person.name);
    option.value = person.slackId;
    picker.append(option);
  }
  const wanted = new URLSearchParams(window.location.search).get('as') ?? localStorage.getItem('sandbox.persona');
  const first = page.workspace.people.find((p) => p.slackId === wanted) ?? page.workspace.people[0];
  picker.addEventListener('change', () => choosePersona(picker.value));
  $('composer').addEventListener('submit', (event) => {
    event.preventDefault();
    void sendCommand();
  });
  setUpClock();
  const stream = new EventSource('/api/events');
  stream.addEventListener('change', () => scheduleRefresh());
  stream.addEventListener('open', () => scheduleRefresh(0));
  if (first) {
    picker.value = first.slackId;
    await choosePersona(first.slackId);
  }
}

async function choosePersona(slackId) {
  page.me = slackId;
  localStorage.setItem('sandbox.persona', slackId);
  page.seen.clear();
  closeModalNode();
  await refresh();
  const dm = page.snapshot?.conversations[0]?.id;
  open(dm ?? 'home');
}

function open(target) {
  page.current = target;
  page.drawn.clear();
  page.drawnHome = null;
  $('timeline').replaceChildren();
  if (target === 'home') void attempt(() => api('/api/app-home', { user: page.me, tab: 'home' }));
  render();
  $('timeline').scrollTop = $('timeline').scrollHeight;
}

// ---- drawing --------------------------------------------------------------------------------

function names() {
  return { users: page.workspace.userNames, channels: page.workspace.channelNames };
}

function render() {
  const snap = page.snapshot;
  if (!snap) return;
  if (snap.now) $('clock-now').textContent = clockText(snap.now);
  renderNav(snap);
  const conversation = snap.conversations.find((c) => c.id === page.current);
  const isHome = page.current === 'home';
  $('title').textContent = isHome ? `${page.workspace.bot.name} · Home` : conversation?.kind === 'channel' ? `# ${conversation.name}` : page.workspace.bot.name;
  $('subtitle').textContent = isHome ? 'The app’s Home tab, as you see it'
    : conversation?.kind === 'channel' ? `Channel ${conversation.id}: everyone sees it` : 'Your direct messages with the app';
  $('composer').hidden = isHome;
  $('message-box').placeholder = conversation?.kind === 'channel' ? `Message #${conversation.name}: /access commands only` : 'Type /access request';
  if (isHome) renderHome(snap.home);
  else if (conversation) renderConversation(conversation, snap.problems.filter((p) => p.channel === conversation.id));
  renderBanner(snap.problems.filter((p) => !p.channel));
  renderModal(snap.modals);
  if (conversation) page.seen.set(conversation.id, conversation.messages.length);
}

function renderNav(snap) {
  const nav = $('nav');
  const item = (target, label, unread) => {
    const button = h('button', `nav-item${page.current === target ? ' active' : ''}${unread ? ' unread' : ''}`, label);
    button.type = 'button';
    button.dataset.target = target;
    button.addEventListener('click', () => open(target));
    return button;
  };
  const unread = (c) => c.id !== page.current && page.seen.has(c.id) && c.messages.length > page.seen.get(c.id);
  const [dm, ...channels] = snap.conversations;
  for (const c of snap.conversations) if (!page.seen.has(c.id)) page.seen.set(c.id, c.messages.length);
  nav.replaceChildren(
    h('div', 'nav-section', `${page.workspace.bot.name} (app)`),
    item('home', 'Home', false),
    item(dm.id, 'Messages', unread(dm)),
    h('div', 'nav-section', 'Channels'),
    ...channels.map((c) => item(c.id, `# ${c.name}`, unread(c))),
  );
}

function renderConversation(conversation, problems) {
  const timeline = $('timeline');
  const atBottom = timeline.scrollHeight - timeline.scrollTop - timeline.clientHeight < 40;
  const wanted = new Set();
  let previous = null;
  if (!conversation.messages.length && !problems.length) {
    timeline.replaceChildren(h('div', 'empty', conversation.kind === 'dm'
      ? 'No messages yet. Type /access request below to ask for access.'
      : 'The app has not posted here yet.'));
    page.drawn.clear();
    return;
  }
  timeline.querySelector('.empty')?.remove();
  for (const message of conversation.messages) {
    const key = `${message.channel}:${message.ts}`;
    wanted.add(key);
    let drawn = page.drawn.get(key);
    if (!drawn) {
      drawn = { node: h('article', 'message'), version: 0 };
      drawn.node.dataset.ts = message.ts;
      page.drawn.set(key, drawn);
    }
    if (drawn.version !== message.version) {
      // chat.update: the message is redrawn where it stands, like Slack does.
      drawn.node.replaceChildren(...messageContent(message));
      drawn.node.classList.toggle('ephemeral', message.ephemeral);
      if (drawn.version) flash(drawn.node);
      drawn.version = message.version;
    }
    const expectedPlace = previous ? previous.nextSibling : timeline.firstChild;
    if (expectedPlace !== drawn.node) timeline.insertBefore(drawn.node, expectedPlace);
    previous = drawn.node;
  }
  for (const [key, drawn] of page.drawn) {
    if (!wanted.has(key)) {
      drawn.node.remove();
      page.drawn.delete(key);
    }
  }
  timeline.querySelectorAll('.problem').forEach((n) => n.remove());
  for (const problem of problems) timeline.append(problemNode(problem));
  if (atBottom) timeline.scrollTop = timeline.scrollHeight;
}

function flash(node) {
  node.classList.remove('updated');
  void node.offsetWidth;
  node.classList.add('updated');
}

function messageContent(message) {
  const time = new Date(Number(message.ts.split('.')[0]) * 1000);
  const header = h('div', 'message-header',
    h('span', 'message-author', page.workspace.bot.name),
    h('span', 'app-badge', 'APP'),
    h('time', 'message-time', time.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })),
    message.version > 1 ? h('span', 'edited', '(edited)') : null,
    message.threadTs && message.threadTs !== message.ts ? h('span', 'edited', 'in a thread') : null,
  );
  const ctx = blockContext({ type: 'message', channel: message.channel, ts: message.ts }, new FormState());
  const body = message.blocks?.length ? renderBlocks(message.blocks, ctx) : h('div', 'bk-section-text', renderMrkdwn(message.text ?? '', ctx));
  const files = message.files.map((f) => {
    const a = h('a', 'file-link', `⬇ ${f.title}`);
    a.href = f.url;
    a.download = f.name;
    return h('div', 'file', h('span', 'file-icon', f.name.split('.').pop()?.toUpperCase() ?? 'FILE'),
      h('div', 'file-meta', a, h('div', 'file-size', `${f.name} · ${f.size} bytes`)));
  });
  const parts = [h('div', 'avatar', 'AB'), h('div', 'message-main', header, body, ...files)];
  if (message.ephemeral) parts.push(h('div', 'ephemeral-note', '👁 Only visible to you'));
  return parts;
}

function problemNode(problem) {
  return h('div', 'problem',
    h('div', 'problem-summary', `⚠️ ${problem.summary}`),
    ...problem.details.map((d) => h('div', 'problem-detail', d)));
}

function renderBanner(problems) {
  const banner = $('banner');
  const shown = problems.filter((p) => !page.dismissed.has(p.id)).slice(-3);
  banner.hidden = shown.length === 0;
  const close = h('button', 'banner-close', 'Dismiss');
  close.type = 'button';
  close.addEventListener('click', () => {
    for (const p of shown) page.dismissed.add(p.id);
    render();
  });
  banner.replaceChildren(...shown.map(problemNode), close);
}

function renderHome(home) {
  const timeline = $('timeline');
  const key = home ? `${home.id}:${home.hash}` : 'none';
  if (page.drawnHome === key) return;
  page.drawnHome = key;
  page.drawn.clear();
  if (!home) {
    timeline.replaceChildren(h('div', 'empty', 'The app has not published a Home tab for you yet.'));
    return;
  }
  const ctx = blockContext({ type: 'view', viewId: home.id }, new FormState(formFromSlackState(home.state?.values)));
  timeline.replaceChildren(h('div', 'home', renderBlocks(home.blocks, ctx)));
}

/** What the Block Kit renderer calls back into: actions and suggestions, tied to where they are. */
function blockContext(container, form, errors) {
  return {
    names: names(),
    form,
    errors,
    onAction: (blockId, element, input) => attempt(() => api('/api/action', {
      user: page.me, container, blockId, actionId: element.action_id, input,
      ...(container.type === 'view' ? { form: form.collect() } : {}),
    })),
    onSuggest: async (blockId, element, value) => (await attempt(() => api('/api/suggest', {
      user: page.me, container, blockId, actionId: element.action_id, value,
      ...(container.type === 'view' ? { form: form.collect() } : {}),
    }))) ?? { options: [] },
  };
}

// ---- modals ---------------------------------------------------------------------------------

function closeModalNode() {
  page.modal = null;
  $('modal-layer').hidden = true;
  $('modal-layer').replaceChildren();
}

/**
 * Draws the top of the modal stack. A view that did not change (same id and hash) is left alone
 * so typing is never interrupted; an updated view keeps what was typed in inputs whose block and
 * action ids it still has, as Slack does.
 */
function renderModal(stack) {
  const top = stack.at(-1);
  if (!top) return closeModalNode();
  if (page.modal && page.modal.id === top.id && page.modal.hash === top.hash) return;
  const prefill = formFromSlackState(top.state?.values);
  if (page.modal?.id === top.id) Object.assign(prefill, mergeForms(prefill, page.modal.form.collect()));
  const form = new FormState(prefill);
  const errorsNode = h('div', 'modal-errors');
  const ctx = blockContext({ type: 'view', viewId: top.id }, form);
  const close = h('button', 'bk-button', top.close?.text ?? 'Cancel');
  close.type = 'button';
  const closeX = h('button', 'modal-x', '✕');
  closeX.type = 'button';
  closeX.setAttribute('aria-label', 'Close');
  const submit = top.submit ? h('button', 'bk-button bk-primary', top.submit.text) : null;
  if (submit) submit.type = 'submit';
  const body = h('div', 'modal-body', errorsNode, renderBlocks(top.blocks, ctx));
  const dialog = h('form', 'modal',
    h('div', 'modal-header', h('h2', 'modal-title', top.title?.text ?? ''), closeX),
    body,
    h('div', 'modal-footer', close, submit));
  dialog.setAttribute('role', 'dialog');
  dialog.setAttribute('aria-modal', 'true');
  const closeTop = () => attempt(() => api('/api/view/close', { user: page.me, viewId: top.id }));
  close.addEventListener('click', closeTop);
  closeX.addEventListener('click', closeTop);
  dialog.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!submit) return;
    const missing = form.missingRequired();
    showErrors(dialog, errorsNode, Object.fromEntries(missing.map((id) => [id, 'Please fill out this required field.'])));
    if (missing.length) return;
    submit.disabled = true;
    const answer = await attempt(() => api('/api/view/submit', { user: page.me, viewId: top.id, form: form.collect() }));
    submit.disabled = false;
    if (answer?.errors) {
      showErrors(dialog, errorsNode, answer.errors);
    } else if (answer && answer.ok === false) {
      errorsNode.textContent = 'We had some trouble connecting. Try again?';
    }
  });
  page.modal = { id: top.id, hash: top.hash, form };
  $('modal-layer').replaceChildren(h('div', 'modal-backdrop'), dialog);
  $('modal-layer').hidden = false;
}

function mergeForms(base, current) {
  const merged = { ...base };
  for (const [blockId, actions] of Object.entries(current)) merged[blockId] = { ...merged[blockId], ...actions };
  return merged;
}

/** `response_action: errors`: each message under its input block; unknown blocks at the top. */
function showErrors(dialog, top, errors) {
  top.replaceChildren();
  const placed = new Set();
  for (const node of dialog.querySelectorAll('.bk-error')) {
    const message = errors[node.dataset.blockId];
    node.textContent = message ?? '';
    node.closest('.bk-input')?.classList.toggle('has-error', Boolean(message));
    if (message) placed.add(node.dataset.blockId);
  }
  for (const [blockId, message] of Object.entries(errors)) {
    if (!placed.has(blockId)) top.append(h('div', null, message));
  }
}

// ---- the message box and the clock ------------------------------------------------------------

async function sendCommand() {
  const box = $('message-box');
  const text = box.value.trim();
  if (!text) return;
  if (!text.startsWith('/')) {
    toast('The app only listens to slash commands here: try /access request');
    return;
  }
  box.value = '';
  await attempt(() => api('/api/command', { user: page.me, channel: page.current, text }));
}

function clockText(iso) {
  return new Date(iso).toLocaleString([], { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });
}

const UNITS = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** "90m", "4h", "2d", "1w" -> seconds. */
function parseDuration(text) {
  const match = /^\s*(\d+)\s*([smhdw])\s*$/i.exec(text);
  return match ? Number(match[1]) * UNITS[match[2].toLowerCase()] : null;
}

function setUpClock() {
  if (!page.workspace.clock) return;
  $('clock').hidden = false;
  $('clock-now').textContent = clockText(page.workspace.clock.now);
  const advance = async (seconds) => {
    const answer = await attempt(() => api('/api/clock', { seconds }));
    if (answer?.now) $('clock-now').textContent = clockText(answer.now);
  };
  for (const button of document.querySelectorAll('.clock-buttons button')) {
    button.addEventListener('click', () => advance(Number(button.dataset.seconds)));
  }
  $('clock-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const seconds = parseDuration($('clock-input').value);
    if (!seconds) return toast('Give a duration such as 90m, 4h or 2d');
    $('clock-input').value = '';
    void advance(seconds);
  });
}

start().catch((error) => {
  document.body.replaceChildren(h('p', 'fatal', `The sandbox could not start: ${error.message}`));
});
