/* global document, window, fetch, localStorage, EventSource, URLSearchParams, setTimeout, clearTimeout */
/**
 * The sandbox page: pick who you are, read your DMs with the bot, the bot's channels and your App
 * Home, type /access commands, click buttons, fill modals. Every action goes to the sandbox
 * server, which sends it to the bot as Slack would; every change comes back on the event stream
 * and the page redraws only what changed (an updated message is replaced where it stands).
 * Times are drawn in the chosen person's zone, on the bot's clock. Below 700 px the sidebar folds
 * into a menu and modals become full-width sheets; modals keep keyboard focus as Slack's do.
 */
import { FormState, formFromSlackState, h, renderBlocks, renderMrkdwn } from './block-kit.js';
import { focusFirst, focusKey, restoreFocus, trapTab } from './focus.js';

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
  /** Where focus was before a modal opened: it goes back there when the last modal closes. */
  returnFocus: null,
  /** Messages seen per conversation, for the unread marks. */
  seen: new Map(),
  dismissed: new Set(),
  /** Messages in each person's DM when they last looked (the picker marks who has new ones). */
  seenByPerson: loadSeen(),
};

function loadSeen() {
  try {
    return JSON.parse(localStorage.getItem('sandbox.seen') ?? '{}') ?? {};
  } catch {
    return {};
  }
}

function saveSeen() {
  localStorage.setItem('sandbox.seen', JSON.stringify(page.seenByPerson));
}

// ---- talking to the server -----------------------------------------------------------------

async function api(path, body) {
  const response = await fetch(
    path,
    body === undefined
      ? {}
      : {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
  );
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(json.error ?? `HTTP ${response.status}`);
  return json;
}

function toast(text) {
  const node = $('toast');
  node.textContent = text;
  node.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    node.hidden = true;
  }, 5000);
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
  const [snapshot, activity] = await Promise.all([
    api(`/api/state?${new URLSearchParams({ user: me })}`).catch((error) => {
      toast(error.message);
      return null;
    }),
    api('/api/activity').catch(() => null),
  ]);
  if (!snapshot || me !== page.me) return;
  page.snapshot = snapshot;
  if (activity) renderActivity(activity);
  render();
}

/** "New for: Marcus Chen (1)": who has messages they have not looked at, to switch to them in one click. */
function renderActivity(activity) {
  const box = $('persona-new');
  const waiting = [];
  for (const person of page.workspace.people) {
    const count = activity.dms[person.slackId] ?? 0;
    if (person.slackId === page.me) {
      page.seenByPerson[person.slackId] = count;
      continue;
    }
    // Someone never looked at: what they have now counts as seen, so only news is marked.
    if (page.seenByPerson[person.slackId] === undefined) page.seenByPerson[person.slackId] = count;
    const fresh = count - page.seenByPerson[person.slackId];
    if (fresh > 0) waiting.push({ person, fresh });
  }
  saveSeen();
  box.hidden = waiting.length === 0;
  // On a phone the picker is in the menu: its button carries the news.
  $('menu-toggle').classList.toggle('has-news', waiting.length > 0);
  box.replaceChildren(
    h('span', 'persona-new-title', 'New messages for'),
    ...waiting.map(({ person, fresh }) => {
      const button = h('button', 'persona-new-item', `${person.name} (${fresh})`);
      button.type = 'button';
      button.addEventListener('click', () => {
        $('persona').value = person.slackId;
        void choosePersona(person.slackId);
      });
      return button;
    }),
  );
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
  setUpMenu();
  setUpModalKeys();
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
  closeMenu();
  const person = page.workspace.people.find((p) => p.slackId === slackId);
  $('persona-detail').textContent = person
    ? [person.title, `times in ${person.timezone}`].filter(Boolean).join(' · ')
    : '';
  // A modal left open by an earlier session of this person belongs to that session's client.
  await api('/api/view/clear', { user: slackId }).catch(() => undefined);
  await refresh();
  const dm = page.snapshot?.conversations[0]?.id;
  open(dm ?? 'home');
}

function open(target) {
  closeMenu();
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

/** The chosen person's zone: the page draws every time in it, as their Slack client would. */
function zone() {
  return (
    page.snapshot?.user?.timezone ?? page.workspace.people.find((p) => p.slackId === page.me)?.timezone ?? undefined
  );
}

/** The bot's clock now (the time control moves it). */
function botNow() {
  return page.snapshot?.now ? new Date(page.snapshot.now) : new Date();
}

function render() {
  const snap = page.snapshot;
  if (!snap) return;
  if (snap.now) showClock(snap.now);
  renderNav(snap);
  const conversation = snap.conversations.find((c) => c.id === page.current);
  const isHome = page.current === 'home';
  $('title').textContent = isHome
    ? `${page.workspace.bot.name} · Home`
    : conversation?.kind === 'channel'
      ? `# ${conversation.name}`
      : page.workspace.bot.name;
  $('subtitle').textContent = isHome
    ? 'The app’s Home tab, as you see it'
    : conversation?.kind === 'channel'
      ? `Channel ${conversation.id}: everyone sees it`
      : 'Your direct messages with the app';
  $('composer').hidden = isHome;
  $('message-box').placeholder =
    conversation?.kind === 'channel' ? `Message #${conversation.name}: /access commands only` : 'Type /access request';
  if (isHome) renderHome(snap.home);
  else if (conversation)
    renderConversation(
      conversation,
      snap.problems.filter((p) => p.channel === conversation.id),
    );
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
    timeline.replaceChildren(
      h(
        'div',
        'empty',
        conversation.kind === 'dm'
          ? 'No messages yet. Type /access request below to ask for access.'
          : 'The app has not posted here yet.',
      ),
    );
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
  // Stamped with the bot's clock when the message arrived (the time control moves it), in the reader's zone.
  const time = message.botTime ? new Date(message.botTime) : new Date(Number(message.ts.split('.')[0]) * 1000);
  const stamp = h(
    'time',
    'message-time',
    time.toLocaleTimeString('en-US', { timeZone: zone(), hour: 'numeric', minute: '2-digit' }),
  );
  stamp.dateTime = time.toISOString();
  stamp.title = time.toLocaleString('en-GB', { timeZone: zone(), dateStyle: 'full', timeStyle: 'short' });
  const header = h(
    'div',
    'message-header',
    h('span', 'message-author', page.workspace.bot.name),
    h('span', 'app-badge', 'APP'),
    stamp,
    message.version > 1 ? h('span', 'edited', '(edited)') : null,
    message.threadTs && message.threadTs !== message.ts ? h('span', 'edited', 'in a thread') : null,
  );
  const ctx = blockContext({ type: 'message', channel: message.channel, ts: message.ts }, new FormState());
  const body = message.blocks?.length
    ? renderBlocks(message.blocks, ctx)
    : h('div', 'bk-section-text', renderMrkdwn(message.text ?? '', ctx));
  const files = message.files.map((f) => {
    const a = h('a', 'file-link', `⬇ ${f.title}`);
    a.href = f.url;
    a.download = f.name;
    return h(
      'div',
      'file',
      h('span', 'file-icon', f.name.split('.').pop()?.toUpperCase() ?? 'FILE'),
      h('div', 'file-meta', a, h('div', 'file-size', `${f.name} · ${f.size} bytes`)),
    );
  });
  const parts = [h('div', 'avatar', 'AB'), h('div', 'message-main', header, body, ...files)];
  if (message.ephemeral) parts.push(h('div', 'ephemeral-note', '👁 Only visible to you'));
  return parts;
}

function problemNode(problem) {
  return h(
    'div',
    'problem',
    h('div', 'problem-summary', `⚠️ ${problem.summary}`),
    ...problem.details.map((d) => h('div', 'problem-detail', d)),
  );
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
    timezone: zone(),
    now: botNow(),
    form,
    errors,
    onAction: (blockId, element, input) =>
      attempt(() =>
        api('/api/action', {
          user: page.me,
          container,
          blockId,
          actionId: element.action_id,
          input,
          ...(container.type === 'view' ? { form: form.collect() } : {}),
        }),
      ),
    onSuggest: async (blockId, element, value) =>
      (await attempt(() =>
        api('/api/suggest', {
          user: page.me,
          container,
          blockId,
          actionId: element.action_id,
          value,
          ...(container.type === 'view' ? { form: form.collect() } : {}),
        }),
      )) ?? { options: [] },
  };
}

// ---- modals ---------------------------------------------------------------------------------

function closeModalNode() {
  const wasOpen = page.modal !== null;
  page.modal = null;
  $('modal-layer').hidden = true;
  $('modal-layer').replaceChildren();
  $('app').inert = false;
  if (!wasOpen) return;
  // Focus goes back where it was before the modal opened (the message box, or the button pressed).
  const back = page.returnFocus;
  page.returnFocus = null;
  if (back && back.isConnected && !back.closest('[inert]')) back.focus();
  else if (!$('composer').hidden) $('message-box').focus();
}

/**
 * Esc closes the top modal; Tab stays inside it. (A confirm dialog is a native <dialog>, which handles both itself.)
 */
function setUpModalKeys() {
  $('modal-layer').addEventListener('keydown', (event) => {
    const dialog = $('modal-layer').querySelector('.modal');
    if (!dialog) return;
    if (event.key === 'Escape') {
      event.preventDefault();
      dialog.querySelector('.modal-x')?.click();
      return;
    }
    trapTab(event, dialog);
  });
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
  const layer = $('modal-layer');
  const sameView = page.modal?.id === top.id;
  // An updated view keeps focus on the control that had it; a new one starts at its first control.
  const keep = sameView ? focusKey(layer) : null;
  if (!page.modal) page.returnFocus = document.activeElement;
  const prefill = formFromSlackState(top.state?.values);
  if (sameView) Object.assign(prefill, mergeForms(prefill, page.modal.form.collect()));
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
  const title = h('h2', 'modal-title', top.title?.text ?? '');
  title.id = `modal-title-${top.id}`;
  const formNode = h(
    'form',
    'modal-form',
    h('div', 'modal-header', title, closeX),
    body,
    h('div', 'modal-footer', close, submit),
  );
  formNode.noValidate = true;
  const dialog = h('div', 'modal', formNode);
  dialog.setAttribute('role', 'dialog');
  dialog.setAttribute('aria-modal', 'true');
  dialog.setAttribute('aria-labelledby', title.id);
  // A field's error goes away once the person changes it, as in Slack.
  const clearError = (event) => {
    const wrap = event.target.closest?.('.bk-input.has-error');
    if (!wrap) return;
    wrap.classList.remove('has-error');
    const error = wrap.querySelector('.bk-error');
    if (error) error.textContent = '';
  };
  dialog.addEventListener('input', clearError);
  dialog.addEventListener('change', clearError);
  const closeTop = () => attempt(() => api('/api/view/close', { user: page.me, viewId: top.id }));
  close.addEventListener('click', closeTop);
  closeX.addEventListener('click', closeTop);
  dialog.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!submit) return;
    const missing = form.missingRequired();
    showErrors(
      dialog,
      errorsNode,
      Object.fromEntries(missing.map((id) => [id, 'Please fill out this required field.'])),
    );
    if (missing.length) return focusFirstError(dialog);
    submit.disabled = true;
    const answer = await attempt(() =>
      api('/api/view/submit', { user: page.me, viewId: top.id, form: form.collect() }),
    );
    submit.disabled = false;
    if (answer?.errors) {
      showErrors(dialog, errorsNode, answer.errors);
      focusFirstError(dialog);
    } else if (answer && answer.ok === false) {
      errorsNode.textContent = 'We had some trouble connecting. Try again?';
    }
  });
  page.modal = { id: top.id, hash: top.hash, form };
  layer.replaceChildren(h('div', 'modal-backdrop'), dialog);
  layer.hidden = false;
  // The page behind a modal cannot be reached: not by Tab, not by a screen reader.
  $('app').inert = true;
  if (!restoreFocus(dialog, keep)) focusFirst(dialog, body);
}

/** Focus on the first field with an error, so a keyboard user lands where the fix goes. */
function focusFirstError(dialog) {
  dialog.querySelector('.bk-input.has-error input, .bk-input.has-error select, .bk-input.has-error textarea')?.focus();
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

/** The bot's clock, in the chosen person's zone: "Sat 5 Dec 2026, 12:35". */
function clockText(iso) {
  return new Date(iso).toLocaleString('en-GB', {
    timeZone: zone(),
    weekday: 'short',
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

function showClock(iso) {
  $('clock-now').textContent = clockText(iso);
  $('clock-zone').textContent = zone() ? `in ${zone()}, the zone of the person you are` : '';
}

function clockError(text) {
  const node = $('clock-error');
  node.textContent = text;
  node.hidden = !text;
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
  showClock(page.workspace.clock.now);
  const advance = async (seconds) => {
    clockError('');
    const answer = await attempt(() => api('/api/clock', { seconds }));
    if (answer?.now) showClock(answer.now);
  };
  for (const button of document.querySelectorAll('.clock-buttons button')) {
    button.addEventListener('click', () => advance(Number(button.dataset.seconds)));
  }
  $('clock-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const seconds = parseDuration($('clock-input').value);
    // Said next to the input it is about, not in a toast across the page.
    if (!seconds) return clockError('Give a duration such as 90m, 4h or 2d.');
    $('clock-input').value = '';
    void advance(seconds);
  });
  $('clock-input').addEventListener('input', () => clockError(''));
}

// ---- the menu on a phone ----------------------------------------------------------------------

function setUpMenu() {
  const toggle = $('menu-toggle');
  toggle.addEventListener('click', () => (document.body.classList.contains('menu-open') ? closeMenu() : openMenu()));
  $('menu-backdrop').addEventListener('click', () => closeMenu());
  $('sidebar').addEventListener('keydown', (event) => {
    if (!document.body.classList.contains('menu-open')) return;
    if (event.key === 'Escape') {
      event.preventDefault();
      closeMenu();
      toggle.focus();
      return;
    }
    trapTab(event, $('sidebar'));
  });
}

function openMenu() {
  document.body.classList.add('menu-open');
  $('menu-toggle').setAttribute('aria-expanded', 'true');
  $('main').inert = true;
  focusFirst($('sidebar'));
}

function closeMenu() {
  if (!document.body.classList.contains('menu-open')) return;
  document.body.classList.remove('menu-open');
  $('menu-toggle').setAttribute('aria-expanded', 'false');
  $('main').inert = false;
}

start().catch((error) => {
  document.body.replaceChildren(h('p', 'fatal', `The sandbox could not start: ${error.message}`));
});
