/**
 * The store contract suite's harness: every contract test file runs its cases on SQLite and on
 * PostgreSQL, against one database per file (a temporary SQLite file; a PostgreSQL schema made
 * for the file and dropped after it), emptied before each case, with a clock the case moves.
 * A PostgreSQL that can't be reached fails the suite: the cases are never skipped.
 */
import { type Kysely, sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeEach, describe } from 'vitest';
import type { Farm } from '../../config/farm-config.ts';
import { parseConfig } from '../../config/load-config.ts';
import type { DialectName } from '../dialect.ts';
import { openDatabase } from '../open-database.ts';
import { openFarmStore } from '../open-store.ts';
import type { FarmStore } from '../port.ts';
import type { Database } from '../schema.ts';
import { createEmptyDatabase, DIALECTS } from '../test-database.ts';

/** 5 January 2026, 12:00 UTC: far from the wall clock, so a verb that reads the wall clock shows. */
export const START = Date.UTC(2026, 0, 5, 12);
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;

export const iso = (ms: number): string => new Date(ms).toISOString();

/** Children before parents, so that deleting in this order breaks no foreign key. */
const TABLES_CHILDREN_FIRST = Object.keys({
  delivery_attempts: true,
  deliveries: true,
  subscriptions: true,
  tool_names: true,
  tools: true,
  artifacts: true,
  blobs: true,
  log_chunks: true,
  steps: true,
  attempts: true,
  jobs: true,
  pushes: true,
  workers: true,
  events: true,
  outbox_cursors: true,
  sessions: true,
  farm_keys: true,
  replicas: true,
  singletons: true,
  farm_settings: true,
} satisfies Record<keyof Database, true>);

/**
 * The farm most cases use. On `app`: `build` on every branch, `test` after it (two attempts),
 * and on main only, `talos` on its own pool, coalescing up to three jobs. `site` builds `docs`.
 */
export const FARM_YAML = `
repos:
  - { name: app, url: /srv/app.git }
  - { name: docs, url: /srv/docs.git }
server: { max_attempts: 3 }
scheduling: { aging_minutes: 10 }
branches:
  - { match: release, priority: 1 }
builders:
  - name: build
    repo: app
    pool: linux
    artifacts: [{ path: dist/app.tar, name: app.tar }]
    steps: [{ name: compile, run: make }, { name: package, run: make dist }]
  - name: test
    repo: app
    pool: linux
    after: build
    max_attempts: 2
    fetch: [{ from: build, artifact: app.tar }]
    steps: [{ name: check, run: make check }]
  - name: talos
    repo: app
    pool: perf
    branches: [main]
    coalesce: latest
    coalesce_limit: 3
    steps: [{ name: perf, run: ./talos }]
  - name: site
    repo: docs
    pool: linux
    tags: { os: debian }
    steps: [{ name: render, run: make html }]
`;

export function farmFrom(yaml: string): Farm {
  return parseConfig('contract-farm.yml', yaml);
}

/** The store's clock: it moves only when a case moves it. */
export class TestClock {
  now = START;
  readonly read = (): number => this.now;

  advance(ms: number): void {
    this.now += ms;
  }

  /** The clock's time (plus `offsetMs`) as the workers report times. */
  iso(offsetMs = 0): string {
    return new Date(this.now + offsetMs).toISOString();
  }

  reset(): void {
    this.now = START;
  }
}

/** What one contract case works with. The farm may be replaced by a case; it is restored for the next. */
export interface ContractContext {
  readonly dialect: DialectName;
  readonly store: FarmStore;
  readonly clock: TestClock;
  farm: Farm;
  /** Opens another store on the same database, as a second coordinator would; closed after the file. */
  openAnother(): Promise<FarmStore>;
}

/** Declares `body`'s cases once per database, each case on an empty farm at START. */
export function describeStoreContract(title: string, body: (t: ContractContext) => void): void {
  describe.each(DIALECTS)(`${title} (%s)`, (dialect) => {
    const database = new ContractDatabase(dialect);
    // Opened by the first case rather than in beforeAll: vitest skips the cases of a failed
    // beforeAll, and a database that can't be reached must fail them.
    beforeEach(() => database.reset());
    afterAll(() => database.close());
    body(database);
  });
}

const DEFAULT_FARM = farmFrom(FARM_YAML);

interface OpenedContractDatabase {
  store: FarmStore;
  /** A connection of its own, which empties the tables between cases under the store's feet. */
  admin: Kysely<Database>;
  target: string;
  /** PostgreSQL's tables with identity columns, whose counters start again for each case. */
  identities: string[];
}

class ContractDatabase implements ContractContext {
  readonly clock = new TestClock();
  farm = DEFAULT_FARM;
  private opened: OpenedContractDatabase | null = null;
  private opening: Promise<OpenedContractDatabase> | null = null;
  private readonly others: FarmStore[] = [];
  private cleanup: () => Promise<void> = async () => {};

  constructor(readonly dialect: DialectName) {}

  get store(): FarmStore {
    if (!this.opened) throw new Error(`the ${this.dialect} contract database did not open`);
    return this.opened.store;
  }

  private async open(): Promise<OpenedContractDatabase> {
    const { target, remove } = await createEmptyDatabase(this.dialect);
    this.cleanup = remove;
    const store = await this.openStore(target);
    const { db: admin } = await openDatabase(target);
    const identities =
      this.dialect === 'postgres'
        ? (
            await sql<{ table_name: string }>`select table_name from information_schema.columns
              where table_schema = current_schema() and is_identity = 'YES'`.execute(admin)
          ).rows.map((row) => row.table_name)
        : [];
    return { store, admin, target, identities };
  }

  async openAnother(): Promise<FarmStore> {
    if (!this.opened) throw new Error(`the ${this.dialect} contract database did not open`);
    const store = await this.openStore(this.opened.target);
    this.others.push(store);
    return store;
  }

  async reset(): Promise<void> {
    this.clock.reset();
    this.farm = DEFAULT_FARM;
    this.opening ??= this.open();
    this.opened = await this.opening;
    const { admin, identities } = this.opened;
    await admin.transaction().execute(async (trx) => {
      for (const table of TABLES_CHILDREN_FIRST) await sql`delete from ${sql.table(table)}`.execute(trx);
      // Ids start again from 1 in every case.
      if (this.dialect === 'sqlite') await sql`delete from sqlite_sequence`.execute(trx);
      else
        for (const table of identities) await sql`alter table ${sql.table(table)} alter column id restart`.execute(trx);
    });
  }

  async close(): Promise<void> {
    for (const store of this.others.splice(0)) await store.close();
    await this.opened?.store.close();
    await this.opened?.admin.destroy();
    this.opened = null;
    await this.cleanup();
  }

  private openStore(target: string): Promise<FarmStore> {
    return openFarmStore(target, {
      agingMs: () => this.farm.scheduling.agingMs,
      logger: pino({ level: 'silent' }),
      clock: this.clock.read,
    });
  }
}
