import type { SwitchyardEvent } from '@switchyard/protocol';
import { describe, expect, test } from 'vitest';
import { makeAttempt, makeEvent, makeJob, makePush, makeStep, makeWorker } from '../testing/fixtures.ts';
import { formatClock, formatEventLine } from './event-line.ts';
import { colorStyle, plainStyle } from './style.ts';

const line = (event: SwitchyardEvent) => formatEventLine(event, plainStyle);
const running = makeJob({ state: 'running', finishedAt: null, durationMs: null });

describe('formatEventLine', () => {
  test('starts with the local time, the event id and the type in aligned columns', () => {
    expect(line(makeEvent('job.finished', { job: makeJob() }))).toBe(
      '09:05:07  #41   job.finished          job 12 build-linux demo/main@abc1234  success (worker w1, 3.2 s)',
    );
  });

  test('push.created lists the jobs it made', () => {
    expect(line(makeEvent('push.created', { push: makePush() }))).toContain(
      'push 3 demo/main@abc1234 by Ada Lovelace  jobs 12 build pending, 13 test-unit waiting',
    );
    expect(line(makeEvent('push.created', { push: makePush({ jobs: [] }) }))).toMatch(/ no jobs$/);
  });

  test('push.completed gives the result, the counts and the time since the push', () => {
    const summary = {
      result: 'failure' as const,
      jobs: 3,
      counts: { success: 2, failure: 1 },
      durationMs: 250_000,
      finishedAt: '2025-01-02T09:05:07.000Z',
      notSucceeded: [{ id: 13, builder: 'test-unit', state: 'failure' as const, reason: null }],
    };
    expect(line(makeEvent('push.completed', { push: makePush(), summary }))).toMatch(
      /push 3 demo\/main@abc1234 {2}failure \(2 success, 1 failure; 4 m 10 s\)$/,
    );
  });

  test('job.waiting names the jobs it waits for', () => {
    const job = makeJob({ id: 13, builder: 'test-unit', state: 'waiting', dependsOn: [12] });
    expect(line(makeEvent('job.waiting', { job }))).toMatch(
      /job 13 test-unit demo\/main@abc1234 {2}waiting \(after job 12\)$/,
    );
  });

  test('job.pending names the pool', () => {
    expect(line(makeEvent('job.pending', { job: makeJob({ state: 'pending' }) }))).toMatch(/ pending \(pool linux\)$/);
  });

  test('job.started names the worker and the attempt', () => {
    const event = makeEvent('job.started', { job: running, attempt: 2, worker: 'w2' });
    expect(line(event)).toMatch(/ running \(worker w2, attempt 2\)$/);
  });

  test('job.finished gives the reason of an exception', () => {
    const job = makeJob({ state: 'exception', reason: 'worker-lost', durationMs: 250_000 });
    expect(line(makeEvent('job.finished', { job }))).toMatch(/ exception: worker-lost \(worker w1, 4 m 10 s\)$/);
  });

  test('job.finished of a job that never ran has no worker or duration', () => {
    const job = makeJob({ state: 'skipped', reason: 'dependency-failed', worker: null, durationMs: null });
    expect(line(makeEvent('job.finished', { job }))).toMatch(/ skipped: dependency-failed$/);
  });

  test('step.started and step.finished show the step, its exit code and duration', () => {
    const started = makeEvent('step.started', { job: running, attempt: 1, step: makeStep({ state: 'running' }) });
    expect(line(started)).toMatch(/ step compile started \(attempt 1\)$/);
    const failed = makeStep({ state: 'failure', exitCode: 2, durationMs: 2100 });
    expect(line(makeEvent('step.finished', { job: running, attempt: 1, step: failed }))).toMatch(
      / step compile failure \(exit 2, 2\.1 s\)$/,
    );
    const killed = makeStep({ state: 'exception', exitCode: null, signal: 'SIGKILL', durationMs: 600_000 });
    expect(line(makeEvent('step.finished', { job: running, attempt: 1, step: killed }))).toMatch(
      / step compile exception \(signal SIGKILL, 10 m 0 s\)$/,
    );
  });

  test('attempt.finished shows why an attempt ended', () => {
    const { steps: _steps, ...attempt } = makeAttempt({
      number: 1,
      worker: 'w3',
      state: 'exception',
      reason: 'worker-lost',
      durationMs: 31_000,
    });
    expect(line(makeEvent('attempt.finished', { job: running, attempt }))).toMatch(
      /job 12 build-linux demo\/main@abc1234 {2}attempt 1 exception: worker-lost \(worker w3, 31\.0 s\)$/,
    );
  });

  test('worker.connected shows the pool and tags; worker.disconnected the reason', () => {
    const worker = makeWorker({ name: 'w1', tags: { os: 'linux', gpu: 'yes' } });
    expect(line(makeEvent('worker.connected', { worker }))).toMatch(
      / worker w1 connected \(pool linux, os=linux, gpu=yes\)$/,
    );
    expect(line(makeEvent('worker.disconnected', { worker, reason: 'lease expired' }))).toMatch(
      / worker w1 disconnected: lease expired$/,
    );
  });

  test('config.reloaded counts repos and builders', () => {
    expect(line(makeEvent('config.reloaded', { repos: 1, builders: 3 }))).toMatch(
      / config reloaded: 1 repo, 3 builders$/,
    );
  });

  test('an event type from a newer server is shown as its data', () => {
    const event = { id: 7, type: 'artifact.uploaded', time: '2025-01-02T09:05:07.000Z', data: { name: 'app.tgz' } };
    expect(line(event as unknown as SwitchyardEvent)).toMatch(/#7 {4}artifact\.uploaded {5}\{"name":"app\.tgz"\}$/);
  });

  test('states are coloured when colour is on', () => {
    const colored = formatEventLine(makeEvent('job.finished', { job: makeJob({ state: 'failure' }) }), colorStyle);
    expect(colored).toContain('\u001b[31mfailure\u001b[39m');
  });
});

describe('formatClock', () => {
  test('is the local time of day with leading zeros', () => {
    expect(formatClock(new Date(2025, 5, 1, 7, 3, 9).toISOString())).toBe('07:03:09');
  });
});
