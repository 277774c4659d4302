import { describe, expect, test } from 'vitest';
import { compileEventFilter } from './event-match.ts';
import { compileRoutingPattern, eventAttributes, routingKeyOf, routingPatternProblem } from './routing-key.ts';

const job = {
  id: 12,
  pushId: 3,
  repo: 'app',
  branch: 'release/1.0',
  builder: 'build',
  author: 'Ada Lovelace <ada@example.org>',
  pool: 'linux',
  state: 'failure',
  worker: 'w1',
};

describe('routing keys', () => {
  test('job events: <type>.<repo>.<branch>.<builder>.<result>, with dots in words escaped', () => {
    expect(routingKeyOf('job.finished', eventAttributes('job.finished', { job }))).toBe(
      'job.finished.app.release/1%2E0.build.failure',
    );
    expect(routingKeyOf('job.started', eventAttributes('job.started', { job: { ...job, state: 'running' } }))).toBe(
      'job.started.app.release/1%2E0.build._',
    );
  });

  test('push, worker and other events', () => {
    const push = { id: 3, repo: 'app', branch: 'main', author: 'Ada' };
    expect(routingKeyOf('push.created', eventAttributes('push.created', { push }))).toBe('push.created.app.main._');
    expect(
      routingKeyOf('push.completed', eventAttributes('push.completed', { push, summary: { result: 'success' } })),
    ).toBe('push.completed.app.main.success');
    const worker = { name: 'w.1', pool: 'linux' };
    expect(routingKeyOf('worker.connected', eventAttributes('worker.connected', { worker }))).toBe(
      'worker.connected.linux.w%2E1',
    );
    expect(routingKeyOf('config.reloaded', eventAttributes('config.reloaded', { builders: 1, repos: 1 }))).toBe(
      'config.reloaded',
    );
  });

  test('patterns: * is one word, # zero or more', () => {
    const key = 'job.finished.app.main.build.success';
    const matches = (pattern: string) => compileRoutingPattern(pattern)(key);
    expect(matches('job.finished.#')).toBe(true);
    expect(matches('#')).toBe(true);
    expect(matches('#.success')).toBe(true);
    expect(matches('job.*.app.#.success')).toBe(true);
    expect(matches('job.finished.*.*.*.*')).toBe(true);
    expect(matches('job.finished.app.main.build.success.#')).toBe(true);
    expect(matches('job.finished.*')).toBe(false);
    expect(matches('job.finished.*.*.*.*.*')).toBe(false);
    expect(matches('#.failure')).toBe(false);
    expect(matches('job.finished.app.main.build')).toBe(false);
    expect(routingPatternProblem('job..finished')).toMatch(/empty word/);
    expect(routingPatternProblem('job.#')).toBeNull();
  });
});

describe('event filters', () => {
  const event = (type: string, data: unknown) => {
    const attributes = eventAttributes(type, data);
    return { type, attributes, routingKey: routingKeyOf(type, attributes) };
  };
  const finished = event('job.finished', { job });

  test('match the author in full, by name or by e-mail, in any case', () => {
    for (const author of ['Ada Lovelace <ada@example.org>', 'ada lovelace', 'ADA@example.org']) {
      expect(compileEventFilter({ author })(finished)).toBe(true);
    }
    expect(compileEventFilter({ author: 'ada' })(finished)).toBe(false);
  });

  test('need every field given, and leave out events without it', () => {
    expect(compileEventFilter({ types: ['job.finished'], result: 'failure', builder: 'build' })(finished)).toBe(true);
    expect(compileEventFilter({ result: 'success' })(finished)).toBe(false);
    const connected = event('worker.connected', { worker: { name: 'w1', pool: 'linux' } });
    expect(compileEventFilter({ repo: 'app' })(connected)).toBe(false);
    expect(compileEventFilter({ routingKey: 'worker.#' })(connected)).toBe(true);
  });
});
