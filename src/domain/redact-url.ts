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
  const hidden = url.search || url.hash ? '?(redacted)' : '';
  return `${url.origin}${url.pathname}${hidden}`;
}
