import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startToolServer, type TestToolServer } from '../../../worker/src/testing/tool-server.ts';
import { runCli, startCli } from '../testing/run-cli.ts';

describe('switchyard tools', () => {
  let dir: string;
  let server: TestToolServer;
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'tools-cli-'));
    server = await startToolServer();
  });
  afterEach(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('downloads a tool once when three fetch processes share one cache', async () => {
    const tool = randomBytes(256 * 1024);
    writeFileSync(join(dir, 'toolchain.bin'), tool);
    const manifest = join(dir, 'manifest.tt');
    expect((await runCli(['tools', 'add', '-m', manifest, join(dir, 'toolchain.bin')])).code).toBe(0);
    server.add(tool);
    // The download is held until the other two fetchers are seen waiting for it, so all three overlap.
    let release = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    server.answer = async () => {
      await released;
      return false;
    };
    const fetches = ['a', 'b', 'c'].map((name) =>
      startCli([
        'tools',
        'fetch',
        '-m',
        manifest,
        '--dest',
        join(dir, name),
        '--cache-dir',
        join(dir, 'cache'),
        '--url',
        server.url,
      ]),
    );
    const waiting = () => fetches.filter((run) => run.stdout().includes('waiting for another fetch of it')).length;
    while (waiting() < 2 || server.gets() < 1) {
      const exited = fetches.find((run) => run.child.exitCode !== null);
      if (exited) throw new Error(`a fetch ended early:\n${exited.stdout()}\n${exited.stderr()}`);
      await delay(50);
    }
    release();
    expect(await Promise.all(fetches.map((run) => run.exited))).toEqual([0, 0, 0]);
    expect(server.gets()).toBe(1);
    for (const name of ['a', 'b', 'c']) expect(readFileSync(join(dir, name, 'toolchain.bin'))).toEqual(tool);
    const sources = fetches.map((run) => (run.stdout().includes('toolchain.bin: downloaded') ? 'download' : 'cache'));
    expect(sources.sort()).toEqual(['cache', 'cache', 'download']);
  });

  it('validates a directory against its manifest, exiting 1 when a file is missing or differs', async () => {
    writeFileSync(join(dir, 'a.bin'), 'a');
    writeFileSync(join(dir, 'b.bin'), 'b');
    const manifest = join(dir, 'manifest.tt');
    await runCli(['tools', 'add', '-m', manifest, '--visibility', 'public', join(dir, 'a.bin'), join(dir, 'b.bin')]);
    const valid = await runCli(['tools', 'validate', '-m', manifest, '--dir', dir]);
    expect(valid).toMatchObject({ code: 0 });
    expect(valid.stdout).toContain(`${manifest}: all 2 valid`);
    writeFileSync(join(dir, 'b.bin'), 'c');
    const invalid = await runCli(['tools', 'validate', '-m', manifest, '--dir', dir]);
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toMatch(/^ok +a\.bin$/m);
    expect(invalid.stdout).toMatch(/^wrong-digest +b\.bin$/m);
  });

  it('refuses bad input with one clear line', async () => {
    const manifest = join(dir, 'manifest.tt');
    writeFileSync(manifest, JSON.stringify([{ filename: 'x', size: 1, algorithm: 'sha512', digest: 'nope' }]));
    const bad = await runCli(['tools', 'fetch', '-m', manifest, '--url', server.url, '--cache-dir', join(dir, 'c')]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      `error: ${manifest}: [0].digest: expected 128 lower-case hex digits (a sha512), got "nope"\n`,
    );

    writeFileSync(join(dir, 'tool.bin'), 'v1');
    await runCli(['tools', 'add', '-m', manifest.replace('.tt', '2.tt'), join(dir, 'tool.bin')]);
    writeFileSync(join(dir, 'tool.bin'), 'v2');
    const conflict = await runCli(['tools', 'add', '-m', manifest.replace('.tt', '2.tt'), join(dir, 'tool.bin')]);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('the manifest already lists a different file named "tool.bin"');

    const missing = await runCli([
      'tools',
      'fetch',
      '-m',
      manifest.replace('.tt', '2.tt'),
      '--dest',
      join(dir, 'out'),
      '--cache-dir',
      join(dir, 'c'),
      '--url',
      server.url,
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(
      /^error: could not fetch a tool: tool\.bin: http:\/\/127\.0\.0\.1:\d+\/tools\/sha512\/[0-9a-f]{128}: HTTP 404/,
    );

    const size = await runCli(['tools', 'fetch', '--max-cache-size', 'lots']);
    expect(size.code).toBe(1);
    expect(size.stderr).toContain('"lots" is not a size');
  });
});
