import { readFileSync, statSync } from 'node:fs';

const root = new URL('../../../', import.meta.url);

/**
 * Whether packages/cli/dist holds a complete build newer than every source it was made from:
 * build-stamp.json (tsup.config.ts) names them and when the build started, and is written last.
 */
export function buildIsCurrent() {
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(new URL('../dist/build-stamp.json', import.meta.url), 'utf8'));
  } catch {
    return false;
  }
  return stamp.sources.every((source) => {
    try {
      return statSync(new URL(source, root)).mtimeMs < stamp.startedAt;
    } catch {
      return false;
    }
  });
}
