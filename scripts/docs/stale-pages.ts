import { byText } from './markdown.ts';

export interface StalePage {
  file: string;
  why: 'differs' | 'missing' | 'not generated';
}

/** The pages whose committed text is not what the generator makes, sorted by file name. */
export function stalePages(
  generated: ReadonlyMap<string, string>,
  committed: ReadonlyMap<string, string>,
): StalePage[] {
  const stale: StalePage[] = [];
  for (const [file, text] of generated) {
    const current = committed.get(file);
    if (current === undefined) stale.push({ file, why: 'missing' });
    else if (current !== text) stale.push({ file, why: 'differs' });
  }
  for (const file of committed.keys()) if (!generated.has(file)) stale.push({ file, why: 'not generated' });
  return stale.sort((a, b) => byText(a.file, b.file));
}
