import type { Scope, Session } from '@switchyard/protocol/browser';
import { queryOptions, useQuery } from '@tanstack/react-query';
import { api, setCsrfToken } from './api.ts';

/** The browser's session, as the coordinator sees it; its CSRF token goes on every later request. */
export const sessionQuery = queryOptions({
  queryKey: ['session'],
  queryFn: async (): Promise<Session> => {
    const session = await api().session();
    setCsrfToken(session.csrfToken);
    return session;
  },
  staleTime: Number.POSITIVE_INFINITY,
  // No event changes it: the event stream's catch-up need not read it again.
  meta: { independentOfEvents: true },
});

export function useSession() {
  return useQuery(sessionQuery);
}

/** Whether the session may do what a scope allows (the server checks again: this only shapes the page). */
export function allows(session: Session | undefined, scope: Scope): boolean {
  return session !== undefined && (session.scopes.includes(scope) || session.scopes.includes('admin'));
}

/** Whether the page must ask for a token before showing anything: reads need one and there is none. */
export function needsSignIn(session: Session | undefined): boolean {
  return session?.auth === true && !session.publicRead && !session.signedIn;
}
