import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchors, links } from '../../test/helpers/markdown.ts';

const DIR = resolve(import.meta.dirname, '../../docs/reference');
const pages = new Map(
  readdirSync(DIR)
    .filter((file) => file.endsWith('.md'))
    .map((file) => [file, readFileSync(join(DIR, file), 'utf8')]),
);

// The generated pages link to their own headings and to each other; a heading the renderer
// names differently from how GitHub makes its anchor would leave a dead link.
describe('the committed reference pages', () => {
  it.each([...pages.keys()])('%s: every link leads to a page and heading that exist', (file) => {
    const dead = links(pages.get(file) as string).filter((target) => {
      const [path, hash] = target.split('#') as [string, string | undefined];
      const page = pages.get(path === '' ? file : path);
      if (page === undefined) return true;
      return hash !== undefined && !anchors(page).has(hash);
    });
    expect(dead).toEqual([]);
  });

  it('are all listed in the index', () => {
    const listed = links(pages.get('README.md') as string);
    expect([...pages.keys()].filter((file) => file !== 'README.md').sort()).toEqual(listed.sort());
  });
});
