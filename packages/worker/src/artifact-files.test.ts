import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectArtifactFiles } from './artifact-files.ts';

describe('selectArtifactFiles', () => {
  const dir = mkdtempSync(join(tmpdir(), 'artifact-files-'));
  beforeAll(() => {
    for (const [path, content] of Object.entries({
      'dist/app-1.2.tar.gz': 'app',
      'dist/sdk-1.2.tar.gz': 'sdk!',
      'dist/notes.txt': 'n',
      'out/report.txt': 'report',
      'other/report.txt': 'another report',
    })) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('uploads each file a glob matches under its own name, and a path under its name or `name`', async () => {
    const selection = await selectArtifactFiles(
      [
        { path: 'dist/*.tar.gz', optional: false },
        { path: 'out/report.txt', name: 'report-linux.txt', optional: false },
        { path: 'missing/*.log', optional: true },
      ],
      dir,
    );
    expect(selection.problems).toEqual([]);
    expect(selection.skipped).toEqual(['missing/*.log']);
    expect(selection.files.map((f) => [f.name, f.path, f.size])).toEqual([
      ['app-1.2.tar.gz', 'dist/app-1.2.tar.gz', 3],
      ['sdk-1.2.tar.gz', 'dist/sdk-1.2.tar.gz', 4],
      ['report-linux.txt', 'out/report.txt', 6],
    ]);
  });

  it('names every problem: missing required files, a name for several files, two files under one name', async () => {
    const selection = await selectArtifactFiles(
      [
        { path: 'dist/app.tar.gz', optional: false },
        { path: 'build/*.zip', optional: false },
        { path: 'dist/*.tar.gz', name: 'app.tar.gz', optional: false },
        { path: '*/report.txt', optional: false },
      ],
      dir,
    );
    expect(selection.files.map((f) => f.path)).toEqual(['other/report.txt']);
    expect(selection.problems).toEqual([
      'artifact dist/app.tar.gz: no file at dist/app.tar.gz',
      'artifact build/*.zip: no file matches build/*.zip',
      'artifact dist/*.tar.gz: 2 files match (dist/app-1.2.tar.gz, dist/sdk-1.2.tar.gz), but `name: app.tar.gz` can name only one',
      'artifacts other/report.txt and out/report.txt would both be named "report.txt"',
    ]);
  });
});
