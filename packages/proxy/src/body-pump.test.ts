import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { pumpBody, type ReadAt } from './body-pump.ts';

/** A response whose socket takes every write at once, as a fast client on loopback does. */
function eagerResponse(events: string[]) {
  const written: Buffer[] = [];
  const res = Object.assign(new EventEmitter(), {
    destroyed: false,
    write(chunk: Buffer, done: () => void) {
      written.push(Buffer.from(chunk));
      events.push('chunk');
      done();
      return true;
    },
    end() {
      events.push('end');
    },
  });
  return { res: res as unknown as ServerResponse, written };
}

/** Reads from memory, answered at once, as a read from the page cache is. */
function readsFrom(bytes: Buffer): ReadAt {
  return (buffer, length, position) => Promise.resolve(bytes.copy(buffer, 0, position, position + length));
}

describe('pumpBody', () => {
  it('sends the span asked for, in order', async () => {
    const bytes = Buffer.alloc(1_500_000, 7);
    bytes.write('first', 0);
    bytes.write('last', bytes.length - 4);
    const { res, written } = eagerResponse([]);
    await pumpBody(res, readsFrom(bytes), 0, bytes.length - 1, () => undefined);
    expect(Buffer.concat(written).equals(bytes)).toBe(true);
  });

  it('lets other connections take turns between chunks when reads and writes never wait', async () => {
    const events: string[] = [];
    const { res } = eagerResponse(events);
    setImmediate(() => events.push('another connection'));
    await pumpBody(res, readsFrom(Buffer.alloc(4 * 512 * 1024)), 0, 4 * 512 * 1024 - 1, () => undefined);
    expect(events.indexOf('another connection')).toBeGreaterThan(0);
    expect(events.indexOf('another connection')).toBeLessThan(events.indexOf('end'));
  });
});
