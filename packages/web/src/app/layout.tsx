import { useQueryClient } from '@tanstack/react-query';
import { Link, Outlet } from '@tanstack/react-router';
import { LiveEventsProvider, useLiveStatus } from '../live/live-events.tsx';
import { api } from './api.ts';
import { needsSignIn, useSession } from './session.ts';
import { Shortcuts } from './shortcuts.tsx';
import { SignInForm } from './sign-in.tsx';

/** The frame of every view: navigation, the live indicator, who is signed in, and the view. */
export function Layout() {
  const session = useSession();
  const blocked = needsSignIn(session.data);
  return (
    <LiveEventsProvider enabled={session.isSuccess && !blocked}>
      <header className="top">
        <Link to="/" className="brand">
          Switchyard
        </Link>
        <nav>
          <Link to="/" activeOptions={{ exact: true, includeSearch: false }}>
            Pushes
          </Link>
          <Link to="/farm">Farm</Link>
          <Link to="/answers">Answers</Link>
        </nav>
        <span className="spacer" />
        {!blocked && <LiveIndicator />}
        {!blocked && <Account />}
      </header>
      <main>
        {session.isError && <p className="problem">Cannot reach the coordinator: {String(session.error)}</p>}
        {blocked ? (
          <section className="panel narrow">
            <h1>Sign in</h1>
            <p>This farm's reads need a token.</p>
            <SignInForm />
          </section>
        ) : (
          // Views load alongside the session: on a farm whose reads are public (most), waiting
          // for it first would only add a round trip before the first row.
          <Outlet />
        )}
      </main>
      <Shortcuts />
    </LiveEventsProvider>
  );
}

function LiveIndicator() {
  const status = useLiveStatus();
  const label = status === 'live' ? 'live' : status === 'reconnecting' ? 'reconnecting…' : 'connecting…';
  return (
    <span className={`live live-${status}`} data-testid="live-status" data-status={status} title="the event stream">
      <span className="dot" aria-hidden="true" />
      {label}
    </span>
  );
}

function Account() {
  const session = useSession().data;
  const queryClient = useQueryClient();
  if (!session?.auth) return null;
  if (!session.signedIn) {
    return (
      <details className="account">
        <summary>Sign in</summary>
        <SignInForm />
      </details>
    );
  }
  const signOut = async () => {
    await api().signOut();
    await queryClient.resetQueries();
  };
  return (
    <span className="account">
      <span title={`scopes: ${session.scopes.join(', ')}`}>{session.name}</span>
      <button type="button" onClick={signOut}>
        Sign out
      </button>
    </span>
  );
}
