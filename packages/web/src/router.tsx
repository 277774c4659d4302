import { createRootRoute, createRoute, createRouter } from '@tanstack/react-router';
import { AnswersPage } from './answers/answers-page.tsx';
import { Layout } from './app/layout.tsx';
import { answersSearch, logSearch, pushesSearch } from './app/search-params.ts';
import { FarmPage } from './farm/farm-page.tsx';
import { JobPage } from './jobs/job-page.tsx';
import { LogPage } from './log/log-page.tsx';
import { PushesPage } from './pushes/pushes-page.tsx';

const root = createRootRoute({ component: Layout });
const pushes = createRoute({
  getParentRoute: () => root,
  path: '/',
  validateSearch: pushesSearch,
  component: PushesPage,
});
const job = createRoute({ getParentRoute: () => root, path: '/jobs/$jobId', component: JobPage });
const log = createRoute({
  getParentRoute: () => root,
  path: '/jobs/$jobId/log',
  validateSearch: logSearch,
  component: LogPage,
});
const farm = createRoute({ getParentRoute: () => root, path: '/farm', component: FarmPage });
const answers = createRoute({
  getParentRoute: () => root,
  path: '/answers',
  validateSearch: answersSearch,
  component: AnswersPage,
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
