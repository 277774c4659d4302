import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogFiles } from './log-files.ts';

describe('LogFiles', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'switchyard-logs-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('rewrites a batch a crash left half-committed instead of doubling it', async () => {
    const before = new LogFiles(dir);
    await before.writeAt(1, 0, 0, Buffer.from('AAAA'));
    await before.closeAll();
    // A crash after writing batch 1 but before committing it: the file has bytes the
    // database doesn't count.
    appendFileSync(before.rawPath(1, 0), 'BB');
    const after = new LogFiles(dir);
    await after.writeAt(1, 0, 4, Buffer.from('BBBB'));
    await after.writeAt(1, 0, 8, Buffer.from('CCCC'));
    await after.closeAll();
    expect(readFileSync(after.rawPath(1, 0), 'utf8')).toBe('AAAABBBBCCCC');
  });
});
