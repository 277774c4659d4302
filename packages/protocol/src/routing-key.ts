import { isFinalJobState, type JobState } from './states.ts';

/**
 * What an event is about, read from its data alone, so the database, the stream filters, the
 * webhooks and the broker all agree. Absent fields are null.
 */
export interface EventAttributes {
  repo: string | null;
  branch: string | null;
  builder: string | null;
  author: string | null;
  result: string | null;
  pool: string | null;
  worker: string | null;
  job: number | null;
  push: number | null;
}

interface JobLike {
  id: number;
  pushId: number;
  repo: string;
  branch: string;
  builder: string;
  author: string;
  pool: string;
  state: string;
  worker: string | null;
}

interface PushLike {
  id: number;
  repo: string;
  branch: string;
  author: string;
}

const NONE: EventAttributes = {
  repo: null,
  branch: null,
  builder: null,
  author: null,
  result: null,
  pool: null,
  worker: null,
  job: null,
  push: null,
};

export function eventAttributes(type: string, data: unknown): EventAttributes {
  const fields = (data ?? {}) as {
    job?: JobLike;
    push?: PushLike;
    worker?: { name: string; pool: string };
    attempt?: { state?: string };
    step?: { state?: string };
    summary?: { result?: string };
  };
  if (fields.job) {
    const job = fields.job;
    return {
      repo: job.repo,
      branch: job.branch,
      builder: job.builder,
      author: job.author,
      result: resultOf(type, fields, job),
      pool: job.pool,
      worker: job.worker,
      job: job.id,
      push: job.pushId,
    };
  }
  if (fields.push) {
    const push = fields.push;
    return {
      ...NONE,
      repo: push.repo,
      branch: push.branch,
      author: push.author,
      result: fields.summary?.result ?? null,
      push: push.id,
    };
  }
  if (fields.worker) return { ...NONE, pool: fields.worker.pool, worker: fields.worker.name };
  return NONE;
}

function resultOf(
  type: string,
  fields: { attempt?: { state?: string }; step?: { state?: string } },
  job: JobLike,
): string | null {
  if (type === 'job.finished') return isFinalJobState(job.state as JobState) ? job.state : null;
  if (type === 'attempt.finished') return fields.attempt?.state ?? null;
  if (type === 'step.finished') return fields.step?.state ?? null;
  return null;
}

/**
 * The routing key, a dot-separated topic as AMQP brokers route on:
 * - events about a job (`job.*`, `step.*`, `attempt.*`, and any other carrying a job):
 *   `<type>.<repo>.<branch>.<builder>.<result>`
 * - events about a push: `<type>.<repo>.<branch>.<result>`
 * - events about a worker: `<type>.<pool>.<worker>`
 * - anything else: `<type>`
 * `<type>` is two words (`job.finished`). An absent result is `_`. Inside a word, `.`, `*`,
 * `#` and `%` are percent-encoded (`release/1.0` → `release/1%2E0`).
 */
export function routingKeyOf(type: string, attributes: EventAttributes): string {
  if (attributes.job !== null) {
    return [
      type,
      word(attributes.repo),
      word(attributes.branch),
      word(attributes.builder),
      word(attributes.result),
    ].join('.');
  }
  if (attributes.push !== null) {
    return [type, word(attributes.repo), word(attributes.branch), word(attributes.result)].join('.');
  }
  if (attributes.worker !== null) return [type, word(attributes.pool), word(attributes.worker)].join('.');
  return type;
}

/** One routing-key word: `_` for nothing, and a real `_` kept apart from it. */
function word(value: string | null): string {
  if (value === null || value === '') return '_';
  if (value === '_') return '%5F';
  return value.replace(/[.*#%]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/**
 * A compiled topic pattern: words separated by dots, where `*` matches exactly one word and
 * `#` zero or more (RabbitMQ's topic exchange semantics). Give the key's words when they are
 * already split, as the event log does once per event for all of its readers.
 */
export function compileRoutingPattern(pattern: string): (key: string, words?: readonly string[]) => boolean {
  const parts = pattern.split('.');
  if (!parts.includes('#') && !parts.includes('*')) return (key) => key === pattern;
  return (key, words = key.split('.')) => matchWords(parts, 0, words, 0);
}

function matchWords(pattern: readonly string[], p: number, words: readonly string[], w: number): boolean {
  for (;;) {
    if (p === pattern.length) return w === words.length;
    const part = pattern[p];
    if (part === '#') {
      // Collapse runs of `#`, then try every split point.
      while (pattern[p + 1] === '#') p += 1;
      if (p + 1 === pattern.length) return true;
      for (let skip = w; skip <= words.length; skip++) {
        if (matchWords(pattern, p + 1, words, skip)) return true;
      }
      return false;
    }
    if (w === words.length) return false;
    if (part !== '*' && part !== words[w]) return false;
    p += 1;
    w += 1;
  }
}

/** Why a pattern is not one, or null: empty words are the only malformed patterns. */
export function routingPatternProblem(pattern: string): string | null {
  if (pattern.length === 0) return 'a routing-key pattern must not be empty';
  if (pattern.length > 1000) return 'a routing-key pattern has at most 1000 characters';
  if (pattern.split('.').some((part) => part === '')) return `routing-key pattern "${pattern}" has an empty word`;
  return null;
}
