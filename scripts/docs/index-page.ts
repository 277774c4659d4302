import { generatedNotice, page, table } from './markdown.ts';

export interface PageEntry {
  /** The file name inside docs/reference/. */
  file: string;
  title: string;
  /** Where its content is generated from. */
  from: string;
}

/** docs/reference/README.md: the pages, what each is generated from, and how to regenerate them. */
export function renderIndexPage(entries: readonly PageEntry[]): string {
  return page([
    generatedNotice('scripts/docs/'),
    '# Reference',
    'These pages are generated from the code, so they say what the code does. Regenerate them after changing a schema, a command, a route, an event or a metric, and commit the result:',
    '```sh\nnpm run docs            # rewrite docs/reference/\nnpm run docs -- --check # exit 1, naming the pages that differ (.ci/run does this)\n```',
    table(
      ['Page', 'Generated from'],
      entries.map((entry) => [`[${entry.title}](${entry.file})`, entry.from]),
    ),
  ]);
}
