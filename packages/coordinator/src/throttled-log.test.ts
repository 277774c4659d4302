import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ThrottledLog } from './throttled-log.ts';

describe('ThrottledLog', () => {
  let lines: Array<Record<string, unknown>>;
  let log: ThrottledLog;

  beforeEach(() => {
    vi.useFakeTimers();
    lines = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
    log = new ThrottledLog(logger, 10_000);
  });

  afterEach(() => vi.useRealTimers());

  it('logs the first of a kind at once and the rest of its interval as one line with their count', () => {
    for (let i = 0; i < 1000; i++) log.warn('closed a slow body', { client: `10.0.0.${i % 250}` });
    log.warn('refused a connection', { client: '10.0.0.9' });
    expect(lines.map((line) => line.msg)).toEqual(['closed a slow body', 'refused a connection']);

    vi.advanceTimersByTime(10_000);
    expect(lines).toHaveLength(3);
    expect(lines[2]).toMatchObject({
      msg: 'closed a slow body (999 more in the last 10 s)',
      repeated: 999,
      client: '10.0.0.249',
    });

    // A new interval starts with the next one.
    log.warn('closed a slow body', { client: '10.0.0.1' });
    expect(lines).toHaveLength(4);
  });

  it('says what is still counted when closed', () => {
    log.warn('closed a slow body', {});
    log.warn('closed a slow body', {});
    log.close();
    expect(lines.map((line) => line.repeated)).toEqual([undefined, 1]);
  });
});
