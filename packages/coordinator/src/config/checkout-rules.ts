import { posix } from 'node:path';
import { type FarmConfig, TOOLS_STEP } from '@switchyard/protocol';
import type { ConfigProblem } from './config-error.ts';

/**
 * What a schema can't say about a builder's checkout: `sparse`, `depth` and `tools` need one,
 * `sparse` and `depth` need git, and a tools manifest is a path inside the repository.
 */
export function checkoutProblems(config: FarmConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const repos = new Map(config.repos.map((repo) => [repo.name, repo]));
  config.builders.forEach((builder, i) => {
    const at = `builders[${i}]`;
    const vcs = repos.get(builder.repo)?.vcs ?? 'git';
    for (const key of ['sparse', 'depth', 'tools'] as const) {
      if (builder[key] !== undefined && builder.checkout === false) {
        problems.push({ path: `${at}.${key}`, message: 'needs a checkout; remove it or `checkout: false`' });
      }
    }
    for (const key of ['sparse', 'depth'] as const) {
      if (builder[key] !== undefined && vcs === 'hg') {
        problems.push({
          path: `${at}.${key}`,
          message: `is for git repositories only; repo "${builder.repo}" is Mercurial`,
        });
      }
    }
    builder.sparse?.forEach((path, j) => {
      if (!insideRepository(path)) {
        problems.push({
          path: `${at}.sparse[${j}]`,
          message: `expected a directory inside the repository, got "${path}"`,
        });
      }
    });
    if (builder.tools !== undefined && !insideRepository(builder.tools)) {
      problems.push({ path: `${at}.tools`, message: `expected a file inside the repository, got "${builder.tools}"` });
    }
    if (
      builder.tools !== undefined &&
      builder.sparse !== undefined &&
      insideRepository(builder.tools) &&
      !inSparseCone(builder.tools, builder.sparse)
    ) {
      problems.push({
        path: `${at}.tools`,
        message: `"${builder.tools}" is outside the sparse checkout (${builder.sparse.join(', ')}): the worker would not find it`,
      });
    }
    if (builder.tools !== undefined && builder.steps.some((step) => step.name === TOOLS_STEP)) {
      problems.push({
        path: `${at}.steps`,
        message: `"${TOOLS_STEP}" is the name of the step that fetches \`tools:\``,
      });
    }
  });
  return problems;
}

function insideRepository(path: string): boolean {
  if (posix.isAbsolute(path)) return false;
  const normal = posix.normalize(path);
  return normal !== '.' && normal !== '..' && !normal.startsWith('../');
}

/**
 * Whether a cone-mode sparse checkout of `directories` holds `file`: it holds the files at the
 * top, everything below each directory, and the files directly in the directories above one.
 */
function inSparseCone(file: string, directories: string[]): boolean {
  const parent = posix.dirname(posix.normalize(file));
  return (
    parent === '.' ||
    directories.some((path) => {
      const directory = posix.normalize(path).replace(/\/+$/, '');
      return parent === directory || parent.startsWith(`${directory}/`) || directory.startsWith(`${parent}/`);
    })
  );
}
