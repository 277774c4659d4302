import { createHash } from 'node:crypto';
import type pg from 'pg';

/** Distinct statements named in all: each connection keeps what it prepared until it closes. */
const CAPACITY = 1000;
/** PostgreSQL's feature_not_supported, as raised by "cached plan must not change result type". */
const PLAN_RESULT_CHANGED = '0A000';

/**
 * Kysely sends every PostgreSQL statement unnamed, so the server parses and plans it each time,
 * although the coordinator sends the same few dozen texts over and over (a trivial job is about
 * forty statements). Statements with parameters go as named prepared statements instead: pg
 * parses each once per connection, then only binds and executes it, which took the database's
 * CPU per trivial job from 6.1 to 4.2 ms (docs/BENCHMARKS.md). Texts beyond the first `CAPACITY`
 * (batched inserts whose row count varies) stay unnamed, so what a session holds on the server
 * stays bounded. A statement is planned against the session's search_path, fixed for a pooled
 * connection (the `schema` of the database URL).
 *
 * A migration run by a newer replica during a rolling upgrade can change a table's columns under
 * a statement prepared here: PostgreSQL then refuses it once ("cached plan must not change result
 * type"), and the text gets a new name, so its next use is prepared afresh.
 */
export class PreparedStatements {
  private readonly names = new Map<string, string>();
  private renewals = 0;

  /** Makes `client`'s parameterised queries from text (promise form) go as named statements. */
  adopt(client: pg.PoolClient): void {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((first: unknown, ...rest: unknown[]) => {
      const values = rest[0];
      if (typeof first !== 'string' || !Array.isArray(values) || values.length === 0 || rest.length > 1) {
        return query(first, ...rest);
      }
      const name = this.nameOf(first);
      if (!name) return query(first, values);
      return (query({ name, text: first, values }) as Promise<unknown>).catch((error: unknown) => {
        if ((error as { code?: string }).code === PLAN_RESULT_CHANGED) this.renew(first, name);
        throw error;
      });
    }) as typeof client.query;
  }

  private nameOf(text: string): string | null {
    const known = this.names.get(text);
    if (known !== undefined) return known;
    if (this.names.size >= CAPACITY) return null;
    const name = `sy_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
    this.names.set(text, name);
    return name;
  }

  private renew(text: string, name: string): void {
    if (this.names.get(text) === name) this.names.set(text, `${name.slice(0, 23)}_${++this.renewals}`);
  }
}
