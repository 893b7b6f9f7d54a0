/**
 * A webhook URL as it may be shown or stored outside the policy file (audit details, exports,
 * messages, logs): scheme, host and path only. A query string or fragment may carry a token, so
 * it is replaced by a marker that says one was there; credentials in the URL never appear.
 */
export function redactUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return '(not a valid URL)';
  }
  // Nothing to hide: the URL as written (so a policy's version hash does not move).
  if (!url.search && !url.hash && !url.username && !url.password) return raw;
  const hidden = url.search || url.hash ? '?(redacted)' : '';
  return `${url.origin}${url.pathname}${hidden}`;
}

/** A provisioning method as it may be shown or stored outside the policy file (a webhook's URL redacted). */
export function redactProvision<P extends { method: string; url?: string }>(provision: P): P {
  return provision.url === undefined ? provision : { ...provision, url: redactUrl(provision.url) };
}
