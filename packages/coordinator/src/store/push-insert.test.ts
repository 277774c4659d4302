import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planPush } from '../scheduler/plan-push.ts';
import { FARM_YAML, farmFrom } from './contract/harness.ts';
import { type OpenedDatabase, openDatabase } from './open-database.ts';
import { openFarmStore } from './open-store.ts';
import type { FarmStore } from './port.ts';
import { createTestSchema, type TestSchema } from './test-database.ts';
import { storedSpec } from './transitions.ts';

const farm = farmFrom(FARM_YAML);

/**
 * On PostgreSQL a push and its jobs are one statement that writes each job's spec in SQL; SQLite
 * and retriggers write it with `storedSpec`. Coordinators of 0.1.0, still running beside newer ones
 * during a rolling upgrade, hand the stored spec out as the assignment: it must be the same text.
 */
describe('a push inserted with its jobs in one statement on PostgreSQL', () => {
  let schema: TestSchema;
  let store: FarmStore;
  let opened: OpenedDatabase;

  beforeAll(async () => {
    schema = await createTestSchema();
    store = await openFarmStore(schema.url, {
      agingMs: () => farm.scheduling.agingMs,
      logger: pino({ level: 'silent' }),
    });
    opened = await openDatabase(schema.url);
  });

  afterAll(async () => {
    await store?.close();
    await opened?.db.destroy();
    await schema?.drop();
  });

  it('stores each job’s spec as storedSpec writes it, its dependencies as job ids', async () => {
    const request = { repo: 'app', branch: 'main', revision: 'a1b2c3' };
    const pushed = await store.pushes.create(farm, request);
    const plan = planPush(farm, { ...request, exact: false });
    if (plan.kind !== 'jobs') throw new Error('the farm has no repo app');
    const { rows } = await sql<{ id: number; builder: string; spec: string; depends_on: string }>`
      select id, builder, spec, depends_on from jobs where push_id = ${pushed.id} order by id`.execute(opened.db);
    expect(rows.map((row) => row.builder)).toEqual(plan.jobs.map((job) => job.builder));
    for (const [index, row] of rows.entries()) {
      expect(row.spec).toBe(storedSpec(pushed.id, plan.jobs[index] as (typeof plan.jobs)[number]));
    }
    const idOf = new Map(rows.map((row) => [row.builder, row.id]));
    expect(JSON.parse(rows.find((row) => row.builder === 'test')?.depends_on ?? '')).toEqual([idOf.get('build')]);
  });
});
