/**
 * Query parameters whose values are credentials by their name (`token`, `access_token`,
 * `api_key`, `secret`, `password`, `sig`, `signature`, …): a URL is shown with them hidden.
 */
const SECRET_PARAMETER = /token|key|secret|passw|pwd|sig|auth|credential|session/i;
const HIDDEN = '***';

/**
 * A URL as it may be shown — in an API answer, a delivery log, a log line: its
 * `user:password@` and the values of its secret-looking query parameters replaced by `***`.
 * Text that is not a URL comes back unchanged.
 */
export function redactUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return url;
  }
  let hidden = false;
  if (parsed.username !== '' || parsed.password !== '') {
    parsed.username = HIDDEN;
    parsed.password = '';
    hidden = true;
  }
  for (const name of new Set(parsed.searchParams.keys())) {
    if (SECRET_PARAMETER.test(name)) {
      parsed.searchParams.set(name, HIDDEN);
      hidden = true;
    }
  }
  // Unchanged URLs keep their own spelling; URL.toString() would normalise it.
  return hidden ? parsed.toString() : url;
}

/** Free text (an error message) with every http(s) URL in it redacted as redactUrl does. */
export function redactUrls(text: string): string {
  return text.replace(/\bhttps?:\/\/[^\s"'<>]+/g, (url) => redactUrl(url));
}

/** Whether a URL carries `user:password@`, which fetch refuses to send. */
export function hasCredentials(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.username !== '' || parsed.password !== '';
  } catch {
    return false;
  }
}
