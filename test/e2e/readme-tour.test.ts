import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeBlocks } from '../helpers/markdown.ts';
import { killAll, runSwitchyard, SWITCHYARD_BIN, type TestProcess } from '../helpers/processes.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The README's "five-minute tour", its shell blocks in the order a reader runs them. */
const TOUR = codeBlocks(readFileSync(join(ROOT, 'README.md'), 'utf8')).filter(
  (block) => block.section === 'A five-minute tour' && block.lang === 'sh',
);

interface ShellRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** Runs a README block with /bin/sh, as a reader pastes it into a terminal. */
function shell(script: string, cwd: string, env: NodeJS.ProcessEnv): ShellRun {
  // detached: its own process group, so a block that runs until Ctrl-C can be stopped whole.
  const child = spawn('/bin/sh', ['-e', '-c', script], { cwd, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function until(condition: () => boolean, what: () => string, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the README tour, run against a real demo', { timeout: 240_000 }, () => {
  let dir: string;
  let demo: TestProcess;
  let url: string;
  let env: NodeJS.ProcessEnv;

  beforeAll(async () => {
    // The reader's checkout: the demo lives in its .switchyard/demo, as `npm start` makes it.
    dir = mkdtempSync(join(tmpdir(), 'switchyard-tour-'));
    demo = runSwitchyard(['demo', '--port', '0', '--dir', join(dir, '.switchyard', 'demo')]);
    await until(
      () => demo.output().includes('The farm keeps serving until Ctrl-C'),
      () => demo.output(),
      180_000,
    );
    const printed = /Dashboard: (http:\/\/\S+)\/\n/.exec(demo.output());
    if (!printed) throw new Error(`the demo printed no dashboard address:\n${demo.output()}`);
    url = printed[1] as string;
    // `npx switchyard` in a checkout runs its bin; this directory is not one, so an `npx` ahead on
    // PATH runs the checkout's bin the same way.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    writeFileSync(
      join(bin, 'npx'),
      `#!/bin/sh\n[ "$1" = switchyard ] || exit 127\nshift\nexec "${process.execPath}" "${SWITCHYARD_BIN}" "$@"\n`,
    );
    chmodSync(join(bin, 'npx'), 0o755);
    env = {
      ...process.env,
      PATH: `${bin}:${process.env.PATH}`,
      // The port the demo took: the reader's demo is on the default, which the commands assume.
      SWITCHYARD_SERVER: url,
      NO_COLOR: '1',
      // A reader's git has an identity; this machine's may not, and its settings must not matter.
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_AUTHOR_NAME: 'Ada Reader',
      GIT_AUTHOR_EMAIL: 'ada@example.org',
      GIT_COMMITTER_NAME: 'Ada Reader',
      GIT_COMMITTER_EMAIL: 'ada@example.org',
    };
    delete env.SWITCHYARD_TOKEN;
  });

  afterAll(async () => {
    await demo?.kill('SIGINT');
    await killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('has the blocks the test knows how to run: the commands, the watch, the push', () => {
    expect(TOUR.map((block) => block.text.split('\n')[0])).toEqual([
      'npx switchyard status',
      'npx switchyard watch --since 0',
      'cd .switchyard/demo/work',
    ]);
  });

  it('shows the dashboard at the address the demo prints last', async () => {
    const answer = await fetch(`${url}/`);
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/html/);
  });

  it('status, logs, retrigger and stats answer about the demo', async () => {
    const run = shell((TOUR[0] as { text: string }).text, dir, env);
    const code = await run.exited;
    expect(code, run.output()).toBe(0);
    expect(run.output()).toContain('demo-worker-1');
    expect(run.output()).toContain('release/1.0');
    expect(run.output()).toContain('test-integration');
  });

  it('watch replays the demo and follows until Ctrl-C', async () => {
    const run = shell((TOUR[1] as { text: string }).text, dir, env);
    try {
      await until(
        () => /push\.completed/.test(run.output()) && /job\.finished/.test(run.output()),
        () => run.output(),
      );
    } finally {
      process.kill(-(run.child.pid as number), 'SIGINT');
    }
    await run.exited;
  });

  it("a change of one's own, pushed with --wait, ends with every job a success", async () => {
    const run = shell((TOUR[2] as { text: string }).text, dir, env);
    const code = await run.exited;
    expect(code, run.output()).toBe(0);
    // The push is the reader's commit: push took the branch and revision from the work tree.
    const head = execFileSync('git', ['rev-parse', '--short=7', 'HEAD'], {
      cwd: join(dir, '.switchyard', 'demo', 'work'),
      env,
      encoding: 'utf8',
    }).trim();
    expect(run.output()).toContain(`demo/main@${head}  3 jobs`);
    expect(run.output()).toMatch(/3 jobs finished: 3 success\n$/);
  });
});
