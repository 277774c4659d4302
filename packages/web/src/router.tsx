import { createRootRoute, createRoute, createRouter, lazyRouteComponent } from '@tanstack/react-router';
import { Layout } from './app/layout.tsx';
import { answersSearch, logSearch, pushesSearch } from './app/search-params.ts';
import { FarmPage } from './farm/farm-page.tsx';
import { JobPage } from './jobs/job-page.tsx';
import { PushesPage } from './pushes/pushes-page.tsx';

const root = createRootRoute({ component: Layout });
const pushes = createRoute({
  getParentRoute: () => root,
  path: '/',
  validateSearch: pushesSearch,
  component: PushesPage,
});
const job = createRoute({ getParentRoute: () => root, path: '/jobs/$jobId', component: JobPage });
// The log viewer (ANSI) and the charts (uPlot) load when first opened, not with the pushes page.
const log = createRoute({
  getParentRoute: () => root,
  path: '/jobs/$jobId/log',
  validateSearch: logSearch,
  component: lazyRouteComponent(() => import('./log/log-page.tsx'), 'LogPage'),
});
const farm = createRoute({ getParentRoute: () => root, path: '/farm', component: FarmPage });
const answers = createRoute({
  getParentRoute: () => root,
  path: '/answers',
  validateSearch: answersSearch,
  component: lazyRouteComponent(() => import('./answers/answers-page.tsx'), 'AnswersPage'),
});

export const router = createRouter({
  routeTree: root.addChildren([pushes, job, log, farm, answers]),
  // Filters are read as typed; a view's own scroll position is its business.
  scrollRestoration: false,
});

declare module '@tanstack/react-router' {
  interface Register {
    router: typeof router;
  }
}
