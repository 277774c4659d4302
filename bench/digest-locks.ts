/**
 * What a blob digest's lock costs an upload or a collection: empty sections one after another
 * (each a transaction holding `pg_advisory_xact_lock` on PostgreSQL, the in-process queue on
 * SQLite), and sections of distinct digests 8 at a time. `npx tsx bench/digest-locks.ts [--sections N]`
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openFarmStore } from '../packages/coordinator/src/store/open-store.ts';
import type { FarmStore } from '../packages/coordinator/src/store/port.ts';
import { createTestSchema } from '../packages/coordinator/src/store/test-database.ts';
import { describeMachine, percentile } from './machine.ts';
import { numberOption } from './options.ts';

const sections = numberOption('sections', 2000);
const CONCURRENT = 8;
const digest = (i: number) => createHash('sha256').update(`bench ${i}`).digest('hex');

async function measure(name: string, store: FarmStore): Promise<void> {
  const locks = store.digestLocks;
  for (let i = 0; i < 100; i += 1) await locks.withDigestLock(digest(i), async () => undefined);
  const times: number[] = [];
  for (let i = 0; i < sections; i += 1) {
    const start = performance.now();
    await locks.withDigestLock(digest(i), async () => undefined);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const start = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENT }, async () => {
      while (next < sections) {
        const i = next++;
        await locks.withDigestLock(digest(i), async () => undefined);
      }
    }),
  );
  const perSecond = sections / ((performance.now() - start) / 1000);
  console.log(
    `${name}: one at a time p50 ${percentile(times, 50).toFixed(3)} ms, p99 ${percentile(times, 99).toFixed(3)} ms; ` +
      `${CONCURRENT} digests at once ${Math.round(perSecond)} sections/s`,
  );
}

const options = { agingMs: () => 0, logger: pino({ level: 'silent' }) };
console.log(describeMachine());
const dir = mkdtempSync(join(tmpdir(), 'bench-digest-locks-'));
const sqlite = await openFarmStore(join(dir, 'farm.db'), options);
await measure('sqlite', sqlite);
await sqlite.close();
rmSync(dir, { recursive: true, force: true });
const schema = await createTestSchema();
const postgres = await openFarmStore(schema.url, options);
await measure('postgres', postgres);
await postgres.close();
await schema.drop();
