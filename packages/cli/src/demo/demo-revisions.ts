/** One commit the demo makes and pushes: a line added to a file on a branch. */
export interface DemoRevision {
  branch: string;
  author: { name: string; email: string };
  subject: string;
  file: string;
  line: string;
}

const ADA = { name: 'Ada Lovelace', email: 'ada@example.com' };
const GRACE = { name: 'Grace Hopper', email: 'grace@example.com' };
const MARGARET = { name: 'Margaret Hamilton', email: 'margaret@example.com' };

/** Three commits on main and two on release/1.0 (branched from main after the second). */
export const DEMO_REVISIONS: readonly DemoRevision[] = [
  { branch: 'main', author: ADA, subject: 'Parse nested blocks', file: 'src/parser.txt', line: 'nested blocks' },
  { branch: 'main', author: GRACE, subject: 'Cache compiled templates', file: 'src/cache.txt', line: 'templates' },
  {
    branch: 'release/1.0',
    author: MARGARET,
    subject: 'Fix the start-up race for 1.0.1',
    file: 'CHANGES.md',
    line: '- 1.0.1: no start-up race',
  },
  { branch: 'main', author: ADA, subject: 'Speed up the scheduler loop', file: 'src/scheduler.txt', line: 'faster' },
  {
    branch: 'release/1.0',
    author: GRACE,
    subject: 'Backport the template cache',
    file: 'src/cache.txt',
    line: 'templates (backport)',
  },
];
