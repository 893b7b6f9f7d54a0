/* global document, window, setTimeout, clearTimeout */
/**
 * Block Kit to DOM, for the sandbox page: what the bot sends Slack, drawn the way Slack draws it.
 *
 * Everything from a payload becomes a text node or a checked attribute, never markup: the bot's
 * messages carry what people typed. Links get an href only for http(s) and mailto URLs.
 *
 * renderBlocks(blocks, ctx) -> HTMLElement, where ctx is
 *   { names: { users: {id: name}, channels: {id: name} },
 *     timezone?: 'Europe/Berlin',               // the reader's zone: <!date^…> tokens are drawn in it
 *     now?: Date,                               // "Today" and "Yesterday" are relative to it (the bot's clock)
 *     form: FormState,                         // controls register here; prefill comes from it
 *     errors?: {block_id: message},            // shown under input blocks
 *     onAction(blockId, element, input),       // a click or pick that Slack would send as block_actions
 *     onSuggest(blockId, element, query) -> Promise<{options?, option_groups?}> }
 */

// ---- DOM helpers ------------------------------------------------------------------------------

/** An element with a class and children; strings become text nodes. */
export function h(tag, className, ...children) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

function safeUrl(url) {
  return typeof url === 'string' && /^(https?:|mailto:)/i.test(url.trim()) ? url.trim() : null;
}

function link(url, label) {
  const href = safeUrl(url);
  if (!href) return h('span', 'bk-link-text', label);
  const a = h('a', 'bk-link', label);
  a.href = href;
  a.target = '_blank';
  a.rel = 'noopener noreferrer';
  return a;
}

function image(url, alt, className) {
  const src = safeUrl(url);
  if (!src || src.startsWith('mailto:')) return h('span', `${className} bk-image-missing`, alt || 'image');
  const img = h('img', className);
  img.src = src;
  img.alt = alt || '';
  img.loading = 'lazy';
  return img;
}

// ---- text -------------------------------------------------------------------------------------

/** The emoji the bot's messages use, and a few more; anything else stays :as_typed:. */
const EMOJI = {
  white_check_mark: '✅',
  heavy_check_mark: '✔️',
  x: '❌',
  no_entry: '⛔',
  no_entry_sign: '🚫',
  warning: '⚠️',
  lock: '🔒',
  unlock: '🔓',
  key: '🔑',
  hourglass: '⌛',
  hourglass_flowing_sand: '⏳',
  alarm_clock: '⏰',
  stopwatch: '⏱️',
  bell: '🔔',
  wave: '👋',
  tada: '🎉',
  rotating_light: '🚨',
  shield: '🛡️',
  memo: '📝',
  page_facing_up: '📄',
  bar_chart: '📊',
  calendar: '📅',
  date: '📅',
  eyes: '👀',
  information_source: 'ℹ️',
  question: '❓',
  exclamation: '❗',
  arrow_right: '➡️',
  hammer_and_wrench: '🛠️',
  thumbsup: '👍',
  '+1': '👍',
  thumbsdown: '👎',
  raised_hand: '✋',
  inbox_tray: '📥',
  outbox_tray: '📤',
  package: '📦',
  gear: '⚙️',
  zap: '⚡',
  fire: '🔥',
  repeat: '🔁',
  link: '🔗',
  clipboard: '📋',
  mag: '🔍',
  bust_in_silhouette: '👤',
  busts_in_silhouette: '👥',
  heavy_plus_sign: '➕',
  hourglass_done: '⌛',
  red_circle: '🔴',
  large_green_circle: '🟢',
  large_yellow_circle: '🟡',
  arrows_counterclockwise: '🔄',
};

function emojify(text) {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name) => EMOJI[name] ?? whole);
}

/** Slack escapes &, < and > in mrkdwn; once tokens are found, entities are shown as characters. */
function decode(text) {
  return text.replaceAll('&lt;', '<').replaceAll('&gt;', '>').replaceAll('&amp;', '&');
}

/** A plain_text or mrkdwn text object. */
export function renderText(text, ctx) {
  if (!text || typeof text.text !== 'string') return document.createTextNode('');
  if (text.type === 'mrkdwn') return renderMrkdwn(text.text, ctx);
  return document.createTextNode(text.emoji === false ? text.text : emojify(text.text));
}

/**
 * Slack's mrkdwn: ``` blocks, > quotes, *bold*, _italic_, ~strike~, `code`, <url|text> links,
 * <@U…> and <#C…> mentions shown by name, <!channel>-style and <!date^…|fallback> tokens as text.
 */
export function renderMrkdwn(text, ctx) {
  const out = document.createDocumentFragment();
  const parts = String(text).split('```');
  parts.forEach((part, i) => {
    const isCode = i % 2 === 1 && i < parts.length - 1;
    if (isCode) out.append(h('pre', 'bk-pre', decode(part.replace(/^\n/, ''))));
    else renderLines(i % 2 === 1 ? '```' + part : part, ctx, out);
  });
  return out;
}

function renderLines(text, ctx, out) {
  const lines = text.split('\n');
  let quote = null;
  let paragraph = [];
  const flush = () => {
    if (paragraph.length) out.append(h('span', 'bk-mrkdwn', renderInline(paragraph.join('\n'), ctx)));
    paragraph = [];
  };
  lines.forEach((line, i) => {
    if (line.startsWith('>')) {
      flush();
      if (!quote) {
        quote = h('blockquote', 'bk-quote');
        out.append(quote);
      } else quote.append('\n');
      quote.append(renderInline(line.slice(1), ctx));
      return;
    }
    quote = null;
    paragraph.push(line);
    if (i === lines.length - 1) flush();
  });
  flush();
}

const INLINE = /<([^<>\n]+)>|`([^`\n]+)`|\*([^*\n]+)\*|_([^_\n]+)_|~([^~\n]+)~/g;

function isWordChar(ch) {
  return ch !== undefined && /[\p{L}\p{N}]/u.test(ch);
}

function renderInline(text, ctx) {
  const out = document.createDocumentFragment();
  let last = 0;
  const regex = new RegExp(INLINE.source, 'g');
  let match;
  while ((match = regex.exec(text)) !== null) {
    const [whole, angle, code, bold, italic, strike] = match;
    const start = match.index;
    const end = start + whole.length;
    const styled = bold ?? italic ?? strike;
    // *, _ and ~ only format at word boundaries and around non-blank text, as in Slack.
    if (styled !== undefined && (isWordChar(text[start - 1]) || isWordChar(text[end]) || /^\s|\s$/.test(styled))) {
      regex.lastIndex = start + 1;
      continue;
    }
    if (start > last) out.append(emojify(decode(text.slice(last, start))));
    if (angle !== undefined) out.append(renderAngle(angle, ctx));
    else if (code !== undefined) out.append(h('code', 'bk-code', decode(code)));
    else if (bold !== undefined) out.append(h('strong', null, renderInline(bold, ctx)));
    else if (italic !== undefined) out.append(h('em', null, renderInline(italic, ctx)));
    else out.append(h('s', null, renderInline(strike, ctx)));
    last = end;
  }
  if (last < text.length) out.append(emojify(decode(text.slice(last))));
  return out;
}

function renderAngle(token, ctx) {
  const bar = token.indexOf('|');
  const target = bar === -1 ? token : token.slice(0, bar);
  const label = bar === -1 ? null : decode(token.slice(bar + 1));
  if (target.startsWith('@')) {
    const id = target.slice(1);
    return h('span', 'bk-mention', `@${ctx.names.users[id] ?? label ?? id}`);
  }
  if (target.startsWith('#')) {
    const id = target.slice(1);
    return h('span', 'bk-mention', `#${ctx.names.channels[id] ?? label ?? id}`);
  }
  if (target.startsWith('!')) {
    const [kind, ...rest] = target.slice(1).split('^');
    if (kind === 'date') {
      // Slack draws the token in the reader's own zone; the fallback is only for clients that cannot.
      const drawn = formatDateToken(rest[0], rest[1], ctx);
      const node = h('time', 'bk-date', drawn ?? label ?? '');
      const when = new Date(Number(rest[0]) * 1000);
      if (!Number.isNaN(when.getTime())) {
        node.dateTime = when.toISOString();
        node.title = when.toLocaleString('en-GB', { timeZone: zoneOf(ctx), dateStyle: 'full', timeStyle: 'long' });
      }
      return node;
    }
    if (kind === 'subteam') return h('span', 'bk-mention', label ?? '@group');
    return h('span', 'bk-mention', `@${kind}`);
  }
  return link(decode(target), label ?? decode(target));
}

function zoneOf(ctx) {
  return ctx.timezone || undefined;
}

/** Calendar day of a date in a zone, as YYYY-MM-DD, for "Today" / "Yesterday" / "Tomorrow". */
function dayIn(date, timeZone) {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(date);
}

function ordinal(n) {
  const rest = n % 100;
  if (rest >= 11 && rest <= 13) return `${n}th`;
  return `${n}${{ 1: 'st', 2: 'nd', 3: 'rd' }[n % 10] ?? 'th'}`;
}

/**
 * Slack's `<!date^unix^format|fallback>` drawn as Slack draws it, in the reader's zone: {date_num},
 * {date}, {date_short}, {date_long}, their _pretty forms (Today, Yesterday, Tomorrow), {time},
 * {time_secs} and {ago}. Null when the token is malformed (then the fallback is shown).
 */
export function formatDateToken(unix, format, ctx) {
  const date = new Date(Number(unix) * 1000);
  if (Number.isNaN(date.getTime()) || typeof format !== 'string') return null;
  const timeZone = zoneOf(ctx);
  const parts = (options) =>
    Object.fromEntries(
      new Intl.DateTimeFormat('en-US', { timeZone, ...options }).formatToParts(date).map((p) => [p.type, p.value]),
    );
  const d = parts({ year: 'numeric', month: 'long', day: 'numeric', weekday: 'long' });
  const short = parts({ year: 'numeric', month: 'short', day: 'numeric' });
  const now = ctx.now instanceof Date ? ctx.now : new Date();
  const pretty = (fallback) => {
    const day = dayIn(date, timeZone);
    if (day === dayIn(now, timeZone)) return 'Today';
    if (day === dayIn(new Date(now.getTime() - 86_400_000), timeZone)) return 'Yesterday';
    if (day === dayIn(new Date(now.getTime() + 86_400_000), timeZone)) return 'Tomorrow';
    return fallback;
  };
  const longDate = `${d.month} ${ordinal(Number(d.day))}, ${d.year}`;
  const shortDate = `${short.month} ${short.day}, ${short.year}`;
  const fullDate = `${d.weekday}, ${longDate}`;
  const time = new Intl.DateTimeFormat('en-US', { timeZone, hour: 'numeric', minute: '2-digit' }).format(date);
  const timeSecs = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hour: 'numeric',
    minute: '2-digit',
    second: '2-digit',
  }).format(date);
  const ago = () => {
    const seconds = Math.round((now.getTime() - date.getTime()) / 1000);
    const abs = Math.abs(seconds);
    const [n, unit] =
      abs < 60
        ? [abs, 'second']
        : abs < 3600
          ? [Math.round(abs / 60), 'minute']
          : abs < 86_400
            ? [Math.round(abs / 3600), 'hour']
            : [Math.round(abs / 86_400), 'day'];
    const text = `${n} ${unit}${n === 1 ? '' : 's'}`;
    return seconds >= 0 ? `${text} ago` : `in ${text}`;
  };
  const values = {
    date_num: dayIn(date, timeZone),
    date: longDate,
    date_short: shortDate,
    date_long: fullDate,
    date_pretty: pretty(longDate),
    date_short_pretty: pretty(shortDate),
    date_long_pretty: pretty(fullDate),
    time,
    time_secs: timeSecs,
  };
  return format.replace(/\{(\w+)\}/g, (whole, name) => (name === 'ago' ? ago() : (values[name] ?? whole)));
}

// ---- forms ----------------------------------------------------------------------------------

/**
 * The controls of one message or view. `prefill` (the page's PageForm shape:
 * {block_id: {action_id: {value | selected | selectedValues | date | id}}}) wins over the
 * element's initial_* fields, so a redrawn modal keeps what the person typed.
 */
export class FormState {
  constructor(prefill = {}) {
    this.prefill = prefill;
    this.controls = [];
  }

  initial(blockId, actionId) {
    return this.prefill[blockId]?.[actionId];
  }

  register(blockId, actionId, control) {
    this.controls.push({ blockId, actionId, ...control });
  }

  collect() {
    const form = {};
    for (const { blockId, actionId, read } of this.controls) {
      form[blockId] = { ...form[blockId], [actionId]: read() };
    }
    return form;
  }

  /** Slack checks required inputs in the client before it sends a view_submission. */
  missingRequired() {
    return this.controls.filter((c) => c.required && c.isEmpty()).map((c) => c.blockId);
  }
}

/** The page's prefill from a view's `state.values`, as Slack keeps them between updates. */
export function formFromSlackState(values) {
  const form = {};
  for (const [blockId, actions] of Object.entries(values ?? {})) {
    for (const [actionId, state] of Object.entries(actions ?? {})) {
      let input;
      if ('value' in state) input = { value: state.value ?? '' };
      else if ('selected_option' in state)
        input = { selected: state.selected_option?.value ?? null, label: state.selected_option?.text?.text };
      else if ('selected_options' in state)
        input = { selectedValues: (state.selected_options ?? []).map((o) => o.value) };
      else if ('selected_date' in state) input = { date: state.selected_date };
      else if ('selected_user' in state) input = { id: state.selected_user };
      if (input) form[blockId] = { ...form[blockId], [actionId]: input };
    }
  }
  return form;
}

// ---- blocks ---------------------------------------------------------------------------------

export function renderBlocks(blocks, ctx) {
  const root = h('div', 'bk-blocks');
  for (const block of Array.isArray(blocks) ? blocks : []) {
    try {
      root.append(renderBlock(block, ctx));
    } catch (error) {
      root.append(
        h(
          'div',
          'bk-unsupported',
          `This block could not be drawn: ${error instanceof Error ? error.message : String(error)}`,
        ),
      );
    }
  }
  return root;
}

function renderBlock(block, ctx) {
  const blockId = typeof block.block_id === 'string' ? block.block_id : '';
  switch (block.type) {
    case 'header':
      return h('div', 'bk-header', renderText(block.text, ctx));
    case 'divider':
      return h('hr', 'bk-divider');
    case 'section': {
      const section = h('div', 'bk-section');
      const body = h('div', 'bk-section-body');
      if (block.text) body.append(h('div', 'bk-section-text', renderText(block.text, ctx)));
      if (Array.isArray(block.fields)) {
        body.append(h('div', 'bk-fields', ...block.fields.map((f) => h('div', 'bk-field', renderText(f, ctx)))));
      }
      section.append(body);
      if (block.accessory)
        section.append(h('div', 'bk-accessory', renderElement(block.accessory, blockId, ctx, { dispatch: true })));
      return section;
    }
    case 'context':
      return h(
        'div',
        'bk-context',
        ...(block.elements ?? []).map((e) =>
          e.type === 'image'
            ? image(e.image_url, e.alt_text, 'bk-context-image')
            : h('span', 'bk-context-text', renderText(e, ctx)),
        ),
      );
    case 'actions':
      return h(
        'div',
        'bk-actions',
        ...(block.elements ?? []).map((e) => renderElement(e, blockId, ctx, { dispatch: true })),
      );
    case 'input':
      return renderInput(block, blockId, ctx);
    case 'image':
      return h(
        'figure',
        'bk-image-block',
        block.title ? h('figcaption', 'bk-image-title', renderText(block.title, ctx)) : null,
        image(block.image_url, block.alt_text, 'bk-image'),
      );
    case 'markdown':
      return h('div', 'bk-section-text', renderMrkdwn(String(block.text ?? ''), ctx));
    case 'rich_text':
      return h('div', 'bk-rich-text', ...(block.elements ?? []).map((e) => renderRichText(e, ctx)));
    default:
      return h('div', 'bk-unsupported', `(${String(block.type)} block: not drawn in the sandbox)`);
  }
}

let controlSeq = 0;

function renderInput(block, blockId, ctx) {
  const wrap = h('div', 'bk-input');
  wrap.dataset.blockId = blockId;
  const label = h('label', 'bk-input-label', renderText(block.label, ctx));
  label.id = `bk-label-${++controlSeq}`;
  if (block.optional) label.append(h('span', 'bk-optional', ' (optional)'));
  wrap.append(label);
  const element = block.element ?? {};
  const control = renderElement(element, blockId, ctx, {
    dispatch: block.dispatch_action === true,
    input: true,
    required: !block.optional,
  });
  wrap.append(control);
  // The label names its control for screen readers and click-to-focus; a group of choices is labelled as a group.
  const field = control.matches('input, select, textarea')
    ? control
    : control.querySelector('input:not([type=radio]):not([type=checkbox]), select, textarea');
  if (field) {
    field.id = field.id || `bk-control-${controlSeq}`;
    field.removeAttribute('aria-label');
    label.htmlFor = field.id;
  } else {
    control.setAttribute('role', 'group');
    control.setAttribute('aria-labelledby', label.id);
  }
  const error = h('div', 'bk-error');
  error.id = `bk-error-${controlSeq}`;
  error.dataset.blockId = blockId;
  error.setAttribute('role', 'alert');
  if (field) field.setAttribute('aria-describedby', error.id);
  if (block.hint) wrap.append(h('div', 'bk-hint', renderText(block.hint, ctx)));
  const message = ctx.errors?.[blockId];
  if (message) error.textContent = message;
  wrap.append(error);
  return wrap;
}

function renderRichText(element, ctx) {
  const inline = (items) =>
    (items ?? []).map((e) => {
      if (e.type === 'text') {
        const node = h('span', null, e.text ?? '');
        if (e.style?.bold) node.classList.add('bk-bold');
        if (e.style?.italic) node.classList.add('bk-italic');
        if (e.style?.strike) node.classList.add('bk-strike');
        if (e.style?.code) node.classList.add('bk-code');
        return node;
      }
      if (e.type === 'link') return link(e.url, e.text ?? e.url);
      if (e.type === 'user') return h('span', 'bk-mention', `@${ctx.names.users[e.user_id] ?? e.user_id}`);
      if (e.type === 'channel') return h('span', 'bk-mention', `#${ctx.names.channels[e.channel_id] ?? e.channel_id}`);
      if (e.type === 'emoji') return EMOJI[e.name] ?? `:${e.name}:`;
      if (e.type === 'broadcast') return h('span', 'bk-mention', `@${e.range}`);
      return '';
    });
  switch (element.type) {
    case 'rich_text_quote':
      return h('blockquote', 'bk-quote', ...inline(element.elements));
    case 'rich_text_preformatted':
      return h('pre', 'bk-pre', ...inline(element.elements));
    case 'rich_text_list':
      return h(
        element.style === 'ordered' ? 'ol' : 'ul',
        'bk-list',
        ...(element.elements ?? []).map((item) => h('li', null, ...inline(item.elements))),
      );
    default:
      return h('div', 'bk-mrkdwn', ...inline(element.elements));
  }
}

// ---- elements -------------------------------------------------------------------------------

/**
 * One interactive element. `dispatch`: a change is sent at once (actions blocks, accessories,
 * input blocks with dispatch_action); otherwise it is only read when the form is submitted.
 */
function renderElement(element, blockId, ctx, { dispatch = false, required = false } = {}) {
  const actionId = element.action_id;
  const act = async (input, revert) => {
    if (element.confirm && !(await confirmDialog(element.confirm, ctx))) {
      revert?.();
      return;
    }
    await ctx.onAction(blockId, element, input);
  };
  const prefill = ctx.form.initial(blockId, actionId);
  const register = (read, isEmpty) => ctx.form.register(blockId, actionId, { read, isEmpty, required });

  switch (element.type) {
    case 'button': {
      const button = h(
        'button',
        `bk-button${element.style ? ` bk-${element.style}` : ''}`,
        renderText(element.text, ctx),
      );
      button.type = 'button';
      button.dataset.actionId = actionId ?? '';
      button.dataset.blockId = blockId;
      button.addEventListener('click', async () => {
        const url = safeUrl(element.url);
        if (url) window.open(url, '_blank', 'noopener,noreferrer');
        button.disabled = true;
        try {
          await act({});
        } finally {
          button.disabled = false;
        }
      });
      return button;
    }
    case 'static_select':
    case 'users_select':
    case 'conversations_select':
    case 'channels_select': {
      const select = h('select', 'bk-select');
      select.dataset.actionId = actionId ?? '';
      select.dataset.blockId = blockId;
      // In an actions block there is no label: the placeholder names it ("Approve for less…"); an input's label
      // replaces it.
      select.setAttribute('aria-label', element.placeholder?.text ?? 'Select an item');
      const placeholder = h('option', null, element.placeholder?.text ?? 'Select an item');
      placeholder.value = '';
      select.append(placeholder);
      const addOption = (parent, value, label) => {
        const option = h('option', null, label);
        option.value = value;
        parent.append(option);
      };
      // A native select cannot draw an option's second line: its description follows the name.
      const optionLabel = (o) =>
        emojify(o.text?.text ?? o.value) + (o.description?.text ? ` — ${o.description.text}` : '');
      if (element.type === 'static_select') {
        for (const o of element.options ?? []) addOption(select, o.value, optionLabel(o));
        for (const group of element.option_groups ?? []) {
          const og = h('optgroup');
          og.label = group.label?.text ?? '';
          for (const o of group.options ?? []) addOption(og, o.value, optionLabel(o));
          select.append(og);
        }
      } else {
        const names = element.type === 'users_select' ? ctx.names.users : ctx.names.channels;
        for (const [id, name] of Object.entries(names)) addOption(select, id, name);
      }
      const key = element.type === 'static_select' ? 'selected' : 'id';
      const initial =
        element.initial_option?.value ??
        element.initial_user ??
        element.initial_conversation ??
        element.initial_channel ??
        '';
      select.value = prefill ? (prefill[key] ?? '') : initial;
      let previous = select.value;
      register(
        () => ({ [key]: select.value || null }),
        () => !select.value,
      );
      if (dispatch) {
        // Arrow keys change a closed select at once, one option per key press: a pick made with the
        // keyboard is sent when the person pauses, so walking through the list does not pick each option.
        let lastKey = 0;
        let timer;
        select.addEventListener('keydown', () => {
          lastKey = Date.now();
        });
        const send = async () => {
          if (!select.value || select.value === previous) return;
          const picked = select.value;
          await act({ [key]: picked }, () => {
            select.value = previous;
          });
          previous = picked;
        };
        select.addEventListener('change', () => {
          clearTimeout(timer);
          if (Date.now() - lastKey < 400) timer = setTimeout(send, 700);
          else void send();
        });
        select.addEventListener('blur', () => {
          if (timer) {
            clearTimeout(timer);
            void send();
          }
        });
      }
      return select;
    }
    case 'multi_static_select':
    case 'checkboxes':
    case 'radio_buttons': {
      const multiple = element.type !== 'radio_buttons';
      const group = h('div', `bk-choices bk-${element.type}`);
      const name = `${blockId}/${actionId}/${Math.random().toString(36).slice(2)}`;
      const initial = multiple
        ? (prefill?.selectedValues ?? (element.initial_options ?? []).map((o) => o.value))
        : [prefill ? prefill.selected : element.initial_option?.value];
      const boxes = [];
      for (const o of [...(element.options ?? []), ...(element.option_groups ?? []).flatMap((g) => g.options ?? [])]) {
        const box = h('input');
        box.type = multiple ? 'checkbox' : 'radio';
        box.dataset.actionId = actionId ?? '';
        box.dataset.blockId = blockId;
        box.name = name;
        box.value = o.value;
        box.checked = initial.includes(o.value);
        boxes.push(box);
        const label = h('label', 'bk-choice', box, h('span', null, renderText(o.text, ctx)));
        if (o.description) label.append(h('span', 'bk-choice-description', renderText(o.description, ctx)));
        group.append(label);
        if (dispatch) {
          box.addEventListener('change', () =>
            act(
              multiple
                ? { selectedValues: boxes.filter((b) => b.checked).map((b) => b.value) }
                : { selected: box.value },
            ),
          );
        }
      }
      const checked = () => boxes.filter((b) => b.checked).map((b) => b.value);
      register(
        () => (multiple ? { selectedValues: checked() } : { selected: checked()[0] ?? null }),
        () => checked().length === 0,
      );
      return group;
    }
    case 'overflow':
      return renderOverflow(element, act, ctx, blockId);
    case 'external_select':
      return renderExternalSelect(element, blockId, ctx, { act, dispatch, prefill, register });
    case 'datepicker': {
      const input = h('input', 'bk-datepicker');
      input.type = 'date';
      input.dataset.actionId = actionId ?? '';
      input.dataset.blockId = blockId;
      input.value = prefill ? (prefill.date ?? '') : (element.initial_date ?? '');
      register(
        () => ({ date: input.value || null }),
        () => !input.value,
      );
      if (dispatch) input.addEventListener('change', () => input.value && act({ date: input.value }));
      return input;
    }
    case 'plain_text_input':
    case 'email_text_input':
    case 'url_text_input':
    case 'number_input': {
      const field = element.multiline ? h('textarea', 'bk-text-input bk-multiline') : h('input', 'bk-text-input');
      if (!element.multiline)
        field.type = { email_text_input: 'email', url_text_input: 'url', number_input: 'text' }[element.type] ?? 'text';
      field.dataset.actionId = actionId ?? '';
      field.dataset.blockId = blockId;
      if (element.placeholder?.text) field.placeholder = element.placeholder.text;
      if (Number.isInteger(element.max_length)) field.maxLength = element.max_length;
      field.value = prefill ? (prefill.value ?? '') : (element.initial_value ?? '');
      register(
        () => ({ value: field.value }),
        () => field.value.trim() === '',
      );
      return field;
    }
    case 'image':
      return image(element.image_url, element.alt_text, 'bk-accessory-image');
    default:
      return h('span', 'bk-unsupported', `(${String(element.type)} element)`);
  }
}

function renderOverflow(element, act, ctx, blockId) {
  const wrap = h('div', 'bk-overflow');
  const toggle = h('button', 'bk-button bk-overflow-toggle', '⋯');
  toggle.type = 'button';
  toggle.dataset.actionId = element.action_id ?? '';
  toggle.dataset.blockId = blockId;
  toggle.setAttribute('aria-label', 'More actions');
  const menu = h('div', 'bk-menu');
  menu.hidden = true;
  for (const o of element.options ?? []) {
    const item = h('button', 'bk-menu-item', renderText(o.text, ctx));
    item.type = 'button';
    item.addEventListener('click', () => {
      menu.hidden = true;
      const url = safeUrl(o.url);
      if (url) window.open(url, '_blank', 'noopener,noreferrer');
      void act({ selected: o.value });
    });
    menu.append(item);
  }
  toggle.addEventListener('click', () => {
    menu.hidden = !menu.hidden;
  });
  wrap.append(toggle, menu);
  return wrap;
}

/** A text box that asks the bot for options (block_suggestion) as the person types. */
function renderExternalSelect(element, blockId, ctx, { act, dispatch, prefill, register }) {
  const wrap = h('div', 'bk-external');
  const input = h('input', 'bk-select bk-external-input');
  input.type = 'text';
  input.placeholder = element.placeholder?.text ?? 'Type to search';
  input.dataset.actionId = element.action_id ?? '';
  input.dataset.blockId = blockId;
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  const list = h('div', 'bk-menu bk-suggestions');
  list.hidden = true;
  let selected = prefill ? (prefill.selected ?? null) : (element.initial_option?.value ?? null);
  input.value =
    prefill?.label ??
    (selected && element.initial_option?.value === selected ? (element.initial_option.text?.text ?? '') : '');
  const minLength = Number.isInteger(element.min_query_length) ? element.min_query_length : 3;
  let timer;
  const ask = () => {
    clearTimeout(timer);
    if (input.value.length < minLength) {
      list.hidden = true;
      return;
    }
    timer = setTimeout(async () => {
      const answer = await ctx.onSuggest(blockId, element, input.value);
      list.replaceChildren();
      const groups = answer.option_groups ?? [{ options: answer.options ?? [] }];
      for (const group of groups) {
        if (group.label) list.append(h('div', 'bk-menu-group', renderText(group.label, ctx)));
        for (const o of group.options ?? []) {
          const item = h('button', 'bk-menu-item', renderText(o.text, ctx));
          item.type = 'button';
          item.addEventListener('mousedown', (event) => event.preventDefault());
          item.addEventListener('click', async () => {
            selected = o.value;
            input.value = o.text?.text ?? o.value;
            list.hidden = true;
            if (dispatch) await act({ selected: o.value });
          });
          list.append(item);
        }
      }
      if (!list.childElementCount) list.append(h('div', 'bk-menu-empty', 'No matches'));
      list.hidden = false;
    }, 200);
  };
  input.addEventListener('input', () => {
    selected = null;
    ask();
  });
  input.addEventListener('focus', ask);
  input.addEventListener('blur', () =>
    setTimeout(() => {
      list.hidden = true;
    }, 150),
  );
  register(
    () => ({ selected, label: input.value }),
    () => !selected,
  );
  wrap.append(input, list);
  return wrap;
}

// ---- confirm dialogs --------------------------------------------------------------------------

/** Slack's confirm object: a small dialog before the action is sent. Resolves true to go on. */
export function confirmDialog(confirm, ctx) {
  return new Promise((resolve) => {
    const dialog = h('dialog', 'bk-confirm');
    const yes = h(
      'button',
      `bk-button ${confirm.style === 'danger' ? 'bk-danger' : 'bk-primary'}`,
      renderText(confirm.confirm ?? { type: 'plain_text', text: 'Yes' }, ctx),
    );
    const no = h('button', 'bk-button', renderText(confirm.deny ?? { type: 'plain_text', text: 'Cancel' }, ctx));
    yes.type = 'button';
    no.type = 'button';
    dialog.append(
      h('h2', 'bk-confirm-title', renderText(confirm.title ?? { type: 'plain_text', text: 'Are you sure?' }, ctx)),
      h('div', 'bk-confirm-text', renderText(confirm.text ?? { type: 'plain_text', text: '' }, ctx)),
      h('div', 'bk-confirm-buttons', no, yes),
    );
    const done = (answer) => {
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    yes.addEventListener('click', () => done(true));
    no.addEventListener('click', () => done(false));
    dialog.addEventListener('cancel', () => done(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}
