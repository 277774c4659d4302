import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

/**
 * `text` as `biome format` writes the file at `path` (relative to `root`), so that a generated
 * page passes `npm run lint` and the check mode compares like with like.
 */
export function formatMarkdown(root: string, path: string, text: string): string {
  const biome = createRequire(`${root}/package.json`).resolve('@biomejs/biome/bin/biome');
  const result = spawnSync(process.execPath, [biome, 'format', `--stdin-file-path=${path}`], {
    cwd: root,
    input: text,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0) {
    throw new Error(`biome format ${path} failed (exit ${result.status}): ${result.stderr || result.error?.message}`);
  }
  return result.stdout;
}
