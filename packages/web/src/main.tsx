import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { RouterProvider } from '@tanstack/react-router';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { logSearch, pushesSearch } from './app/search-params.ts';
import { sessionQuery } from './app/session.ts';
import { logIndexQuery } from './log/log-index-query.ts';
import { pushesFilter, pushesQuery } from './pushes/pushes-page.tsx';
import { router } from './router.tsx';
import './styles.css';

// The event stream keeps what is shown current, so nothing refetches on focus or on a timer.
const queryClient = new QueryClient({
  defaultOptions: { queries: { refetchOnWindowFocus: false, staleTime: 30_000, retry: 1 } },
});

// The first view's data is asked for now, while React and the router start, rather than once
// they have drawn the page.
void queryClient.prefetchQuery(sessionQuery);
const { pathname, search } = router.state.location;
const logOf = /^\/jobs\/(\d+)\/log$/.exec(pathname);
if (pathname === '/') void queryClient.prefetchQuery(pushesQuery(pushesFilter(pushesSearch(search))));
else if (logOf) void queryClient.prefetchQuery(logIndexQuery(Number(logOf[1]), logSearch(search).attempt));

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <QueryClientProvider client={queryClient}>
      <RouterProvider router={router} />
    </QueryClientProvider>
  </StrictMode>,
);
