import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, expect, test } from 'vitest';
import { acquireLock } from './file-lock.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-lock-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('holders take turns: the second waits until the first releases', async () => {
  const path = join(dir, 'lock');
  const order: string[] = [];
  const first = await acquireLock(path, { purpose: 'first' });
  let waitedFor: string | undefined;
  const second = acquireLock(path, {
    purpose: 'second',
    onWait: (owner) => {
      waitedFor = owner?.purpose;
    },
  }).then((held) => {
    order.push('second');
    return held;
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  order.push('first released');
  await first.release();
  const held = await second;
  expect(order).toEqual(['first released', 'second']);
  expect(waitedFor).toBe('first');
  expect(held.brokeStaleLock).toBeNull();
  await held.release();
});

test('a lock whose holder was SIGKILLed is broken, and the new holder is told', async () => {
  const path = join(dir, 'lock');
  const script = `
    import { acquireLock } from ${JSON.stringify(new URL('./file-lock.ts', import.meta.url).pathname)};
    await acquireLock(${JSON.stringify(path)}, { purpose: 'doomed fetch' });
    console.log('held');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.kill('SIGKILL');
  await new Promise((resolve) => child.once('exit', resolve));
  const held = await acquireLock(path, { purpose: 'next' });
  expect(held.brokeStaleLock).toMatchObject({ pid: child.pid, purpose: 'doomed fetch' });
  await held.release();
});

test('an abort while waiting rejects and leaves the holder in place', async () => {
  const path = join(dir, 'lock');
  const first = await acquireLock(path, { purpose: 'first' });
  const controller = new AbortController();
  const waiting = acquireLock(path, { purpose: 'second', signal: controller.signal });
  controller.abort();
  await expect(waiting).rejects.toThrow();
  const third = acquireLock(path, { purpose: 'third' });
  await first.release();
  await (await third).release();
});

test('a holder whose lock was broken meanwhile does not remove the new holder’s lock when it lets go', async () => {
  const path = join(dir, 'lock');
  const script = `
    import { acquireLock } from ${JSON.stringify(new URL('./file-lock.ts', import.meta.url).pathname)};
    const held = await acquireLock(${JSON.stringify(path)}, { purpose: 'stalled fetch', staleMs: 300 });
    console.log('held');
    process.stdin.once('data', async () => {
      await held.release();
      console.log('released');
      process.exit(0);
    });
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const nextLine = () => new Promise<string>((resolve) => child.stdout.once('data', (chunk) => resolve(String(chunk))));
  expect(await nextLine()).toContain('held');
  // Alive but silent (stopped, or its event loop blocked): its lock goes stale and is broken.
  child.kill('SIGSTOP');
  const next = await acquireLock(path, { purpose: 'next', staleMs: 300 });
  expect(next.brokeStaleLock).toMatchObject({ pid: child.pid, purpose: 'stalled fetch' });
  child.kill('SIGCONT');
  child.stdin.write('release\n');
  expect(await nextLine()).toContain('released');
  expect(JSON.parse(readFileSync(join(path, 'owner.json'), 'utf8'))).toMatchObject({
    pid: process.pid,
    purpose: 'next',
  });
  await next.release();
  expect(existsSync(path)).toBe(false);
});
