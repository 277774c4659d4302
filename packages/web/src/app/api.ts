import { CSRF_HEADER, SwitchyardClient } from '@switchyard/protocol/browser';

/**
 * The page's client: the same SwitchyardClient the CLI uses, over fetch to the coordinator
 * that served the page, with the session cookie going along by itself. Once signed in, every
 * request repeats the session's CSRF token.
 */
let client = new SwitchyardClient({ server: window.location.origin });

export function api(): SwitchyardClient {
  return client;
}

export function setCsrfToken(token: string | null): void {
  client = new SwitchyardClient({
    server: window.location.origin,
    headers: token === null ? {} : { [CSRF_HEADER]: token },
  });
}
