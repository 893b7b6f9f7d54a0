/* global document */
/**
 * Keyboard focus for the sandbox page's dialogs, as Slack's clients keep it: a modal takes focus
 * on its first control, Tab stays inside it, and when it closes focus goes back where it was. A
 * redrawn modal (the bot updated it) keeps focus on the control that had it.
 */

const FOCUSABLE =
  'input:not([disabled]):not([type=hidden]), select:not([disabled]), textarea:not([disabled]), button:not([disabled]), a[href], [tabindex]:not([tabindex="-1"])';

/** The controls a person can Tab to inside `root`, in order. */
export function focusables(root) {
  return [...root.querySelectorAll(FOCUSABLE)].filter(
    (node) => !node.closest('[hidden]') && node.getClientRects().length > 0,
  );
}

/** Focuses the first control of `preferred` (the modal's body), else of `root`. */
export function focusFirst(root, preferred) {
  const target = (preferred && focusables(preferred)[0]) ?? focusables(root)[0];
  target?.focus();
  return target;
}

/** Keeps Tab and Shift+Tab inside `root`: from the last control to the first, and back. */
export function trapTab(event, root) {
  if (event.key !== 'Tab') return;
  const items = focusables(root);
  if (items.length === 0) {
    event.preventDefault();
    return;
  }
  const first = items[0];
  const last = items[items.length - 1];
  const inside = root.contains(document.activeElement);
  if (event.shiftKey && (document.activeElement === first || !inside)) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
    event.preventDefault();
    first.focus();
  }
}

/** Where focus is in a Block Kit view: its block and action ids, to find the same control after a redraw. */
export function focusKey(root) {
  const active = document.activeElement;
  if (!active || !root.contains(active)) return null;
  const blockId = active.dataset?.blockId;
  const actionId = active.dataset?.actionId;
  return blockId !== undefined || actionId !== undefined
    ? { blockId: blockId ?? '', actionId: actionId ?? '', value: active.value }
    : null;
}

/** Focuses the control with the same block and action ids (for radio buttons, the same value), if there is one. */
export function restoreFocus(root, key) {
  if (!key) return false;
  const candidates = [...root.querySelectorAll('[data-action-id]')].filter(
    (n) => (n.dataset.blockId ?? '') === key.blockId && n.dataset.actionId === key.actionId,
  );
  const target =
    candidates.find((n) => n.type !== 'radio' && n.type !== 'checkbox') ??
    candidates.find((n) => n.value === key.value) ??
    candidates[0];
  if (!target) return false;
  target.focus();
  return true;
}
