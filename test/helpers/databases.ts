import type { DialectName } from '../../packages/coordinator/src/store/dialect.ts';
import { createTestSchema, DIALECTS, type TestSchema } from '../../packages/coordinator/src/store/test-database.ts';

/** The databases a coordinator runs on; the core end-to-end suites run on each. */
export const DATABASES = DIALECTS;
export type DatabaseKind = DialectName;

/**
 * Fresh databases of one kind for a test file's coordinators: on PostgreSQL an empty schema of
 * its own in the `test` database each (an unreachable server fails the test rather than
 * skipping it); on SQLite the file in each coordinator's --data directory.
 */
export class TestDatabases {
  private readonly schemas: TestSchema[] = [];

  constructor(readonly kind: DatabaseKind) {}

  /** For `switchyard server --database`; undefined: the SQLite file in --data. */
  async fresh(): Promise<string | undefined> {
    if (this.kind === 'sqlite') return undefined;
    const schema = await createTestSchema();
    this.schemas.push(schema);
    return schema.url;
  }

  async dropAll(): Promise<void> {
    for (const schema of this.schemas.splice(0)) await schema.drop();
  }
}
