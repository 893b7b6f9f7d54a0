/* global document, fetch, EventSource */
/**
 * The sandbox's embedded webhook receiver, in the sidebar: a role provisioned by webhook calls it
 * instead of the URL in its policy (nothing leaves this machine), and each call it received is
 * listed here, newest first, with where production would have sent it. Self-contained: its own
 * element, its own event subscription; the DOM is built without innerHTML.
 */
const SHOWN = 10;

const panel = document.createElement('section');
panel.className = 'clock webhook-calls';
panel.setAttribute('aria-label', 'Webhook calls');
panel.hidden = true;
const title = document.createElement('div');
title.className = 'clock-title';
title.textContent = 'Webhook calls (kept here)';
const list = document.createElement('ol');
list.style.margin = '6px 0 0';
list.style.paddingLeft = '18px';
panel.append(title, list);
document.querySelector('.sidebar')?.append(panel);

async function refresh() {
  const response = await fetch('/api/webhooks');
  if (!response.ok) return;
  const { calls } = await response.json();
  list.replaceChildren(
    ...calls.slice(0, SHOWN).map((call) => {
      const item = document.createElement('li');
      item.textContent = `${call.action} ${call.app}/${call.role} for ${call.email}: ${call.status}`;
      item.title = `${call.at} · not sent to ${call.policyUrl} · Idempotency-Key ${call.idempotencyKey}${call.signatureValid ? '' : ' · bad signature'}`;
      return item;
    }),
  );
  panel.hidden = calls.length === 0;
}

new EventSource('/api/events').addEventListener('change', (event) => {
  try {
    if (JSON.parse(event.data).kind === 'webhook') void refresh();
  } catch {
    // not ours
  }
});
void refresh();
