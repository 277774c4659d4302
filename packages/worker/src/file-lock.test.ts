import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
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

test('a holder on this host that is alive but silent (stopped) keeps its lock however long it is quiet', async () => {
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
  // Alive but silent (stopped, or its event loop blocked): on this host that is not death.
  child.kill('SIGSTOP');
  const waiting = acquireLock(path, { purpose: 'next', staleMs: 300 });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  expect(JSON.parse(readFileSync(join(path, 'owner.json'), 'utf8'))).toMatchObject({ pid: child.pid });
  child.kill('SIGCONT');
  child.stdin.write('release\n');
  expect(await nextLine()).toContain('released');
  const next = await waiting;
  expect(next.brokeStaleLock).toBeNull();
  await next.release();
  expect(existsSync(path)).toBe(false);
});

test('a lock naming a live pid that belongs to a later process (the number was reused) is broken', async () => {
  const path = join(dir, 'lock');
  mkdirSync(path);
  writeFileSync(
    join(path, 'owner.json'),
    JSON.stringify({
      pid: process.pid,
      host: hostname(),
      boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
      started: '1',
      purpose: 'fetch by an earlier process',
      since: new Date().toISOString(),
    }),
  );
  const held = await acquireLock(path, { purpose: 'next' });
  expect(held.brokeStaleLock).toMatchObject({ purpose: 'fetch by an earlier process' });
  await held.release();
});
