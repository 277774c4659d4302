import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { runCli, startCli } from '../testing/run-cli.ts';

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'switchyard-demo-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('switchyard demo', { timeout: 150_000 }, () => {
  test('--no-keep-running runs every demo job to success, stops cleanly and exits 0', async () => {
    const { code, stdout, stderr } = await runCli([
      'demo',
      '--no-keep-running',
      '--port',
      '0',
      '--dir',
      join(dir, 'demo'),
    ]);
    expect(stderr).toBe('');
    expect(stdout).toContain('All 15 jobs are final: 15 success.');
    expect(stdout).toMatch(/job \d+ test-integration demo\/release\/1\.0@[0-9a-f]{7} {2}success/);
    expect(stdout).toMatch(/stopping the workers, then the coordinator\ndemo stopped\n$/);
    expect(code).toBe(0);
  });

  test('by default it replaces a previous demo, keeps serving, says where to look, and exits 0 on Ctrl-C', async () => {
    const demoDir = join(dir, 'demo');
    await mkdir(demoDir);
    await writeFile(join(demoDir, '.switchyard-demo'), '');
    await writeFile(join(demoDir, 'left-over.txt'), 'from the last run');

    const demo = startCli(['demo', '--port', '0', '--dir', demoDir]);
    await demo.waitFor('The farm keeps serving until Ctrl-C');
    expect(demo.stdout()).toContain('(the previous demo there was removed)');
    expect(await readdir(demoDir)).not.toContain('left-over.txt');
    expect(demo.stdout()).toMatch(/a build log +npx switchyard logs \d+ --server http:\/\/127\.0\.0\.1:\d+\n/);
    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
    expect(demo.stdout()).toMatch(/demo stopped\n$/);
  });
});
