import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LogErrorLine, LogUpdate } from '@switchyard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { killAll, startServer, startWorker, type TestServer } from '../helpers/processes.ts';

/** A log of 30,005 lines with two failures and colour, over two steps (one of which fails). */
const CONFIG = `
repos: [{ name: demo, url: $REPO }, { name: slow, url: $REPO }]
logs:
  error_patterns: ['^FAIL ', 'custom-broken']
builders:
  - name: suite
    repo: demo
    pool: linux
    checkout: false
    steps:
      - name: warm-up
        run: seq 1 30000
      - name: tests
        run: printf 'ok one\\n\\033[31mFAIL two\\033[0m\\nok three\\ncustom-broken here\\nno newline at the end'; exit 1
  - name: live
    repo: slow
    pool: linux
    checkout: false
    steps:
      - name: talk
        run: echo first; printf 'half a line'; while [ ! -e $GO ]; do sleep 0.1; done; echo ' and the rest'; echo 'FAIL late'; exit 1
`;

describe('logs by numbered lines', () => {
  const farm = new TestFarm();
  let server: TestServer;
  let jobId: number;

  beforeAll(async () => {
    farm.writeConfig(CONFIG.replace('$GO', join(farm.dir, 'go')));
    server = await startServer({ config: farm.config, data: farm.data });
    startWorker({ server: server.url, name: 'w1', pool: 'linux', workDir: farm.workerDir('w1') });
    const revision = farm.commit('main', { 'a.txt': 'a\n' });
    const push = await server.client.createPush({ repo: 'demo', branch: 'main', revision });
    jobId = push.jobs[0]?.id as number;
    await waitForPushFinal(server.client, push.id);
  });

  afterAll(async () => {
    await killAll();
    farm.remove();
  });

  it('indexes the sections and the error lines of the configured patterns', async () => {
    const index = await server.client.logIndex(jobId);
    expect(index.complete).toBe(true);
    const [warmUp, tests] = index.sections;
    expect(warmUp).toMatchObject({ name: 'warm-up', state: 'success', exitCode: 0 });
    expect(tests).toMatchObject({ name: 'tests', state: 'failure', exitCode: 1 });
    // The worker's own lines (the command it runs, its exit) belong to each step's section.
    expect(tests?.firstLine).toBe((warmUp?.firstLine ?? 0) + (warmUp?.lineCount ?? 0));
    expect(index.lineCount).toBe((tests?.firstLine ?? 0) + (tests?.lineCount ?? 0) - 1);
    expect(index.errors.map((e) => e.text)).toEqual(['FAIL two', 'custom-broken here']);
    const lines = await server.client.logLines(jobId, { from: index.errors[0]?.line as number, to: index.lineCount });
    expect(lines.lines[0]).toBe('\x1b[31mFAIL two\x1b[0m');
    // A step's output that ends without a newline still leaves the worker's exit line its own.
    expect(lines.lines.slice(-2)).toEqual(['no newline at the end', 'exited with code 1']);
  });

  it('reads any range, and refuses one too long', async () => {
    const index = await server.client.logIndex(jobId);
    const first = index.sections[0]?.firstLine as number;
    const all = await server.client.logLines(jobId, { from: first, to: first + 4999 });
    const numbers = all.lines.filter((line) => /^\d+$/.test(line));
    expect(numbers.slice(0, 3)).toEqual(['1', '2', '3']);
    const deep = await server.client.logLines(jobId, { from: first + 29_000, to: first + 29_010 });
    expect(deep.lines.join(' ')).toMatch(/\b2900\d\b/);
    await expect(server.client.logLines(jobId, { from: 1, to: 5001 })).rejects.toMatchObject({ status: 400 });
  });

  it('finds every hit on the server', async () => {
    const hits = await server.client.searchLog(jobId, { q: '999' });
    // 999, 1999 … 29999 and 9990–9999, 19990–19999, 29990–29999 less the overlaps: count them directly.
    const expected = Array.from({ length: 30_000 }, (_, i) => String(i + 1)).filter((n) => n.includes('999')).length;
    expect(hits.lines.length).toBe(expected);
    expect(hits.truncated).toBe(false);
    // Case-insensitive unless asked, and matched on the text without its colour escapes: the
    // step's command line (which spells it out) and the line it printed.
    const index = await server.client.logIndex(jobId);
    const failing = await server.client.searchLog(jobId, { q: 'fail two' });
    expect(failing.lines).toEqual([index.sections[1]?.firstLine, index.errors[0]?.line]);
    expect((await server.client.searchLog(jobId, { q: 'fail two', case: true })).lines).toEqual([]);
  });

  it('follows a running log from its first line: each line as it is written, a growing line again as it grows', async () => {
    const revision = farm.commit('main', { 'b.txt': 'b\n' });
    const push = await server.client.createPush({ repo: 'slow', branch: 'main', revision });
    const liveJob = push.jobs[0]?.id as number;
    // Followed before the job has an attempt: the stream waits for it.
    const lines: string[] = [];
    const errors: LogErrorLine[] = [];
    const seen: string[] = [];
    let last: LogUpdate | undefined;
    for await (const update of server.client.followLog(liveJob, { from: 1 })) {
      lines.splice(update.from - 1, lines.length, ...update.lines);
      errors.splice(update.errorsFrom, errors.length, ...update.errors);
      seen.push(...update.lines);
      last = update;
      // The step waits for this file: what came before it can only have come while it ran.
      if (lines.includes('first') && lines.at(-1) === 'half a line') writeFileSync(join(farm.dir, 'go'), '');
    }
    expect(seen).toContain('half a line');
    expect(last).toMatchObject({ complete: true, attempt: 1, lineCount: lines.length });
    expect(last?.sections.map((s) => [s.name, s.state])).toEqual([['talk', 'failure']]);
    const whole = await server.client.logLines(liveJob, { from: 1, to: lines.length });
    expect(lines).toEqual(whole.lines);
    expect(lines).toContain('half a line and the rest');
    expect(errors).toEqual((await server.client.logIndex(liveJob)).errors);
    expect(errors.map((e) => e.text)).toEqual(['FAIL late']);
  });
});
