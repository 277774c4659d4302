import { type Kysely, type Migration, type MigrationProvider, sql } from 'kysely';
import { type ColumnTypes, columnTypes, type DialectName } from './dialect.ts';

/**
 * Append-only: a released migration is never edited; changes go in a new one. Column types come
 * from the dialect (see ColumnTypes), which on SQLite yields exactly the released schema.
 */
const migrations = (types: ColumnTypes): Record<string, Migration> => ({
  '0001-initial': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('pushes')
        .addColumn('id', types.integer, types.generatedId)
        .addColumn('repo', 'text', (c) => c.notNull())
        .addColumn('repo_url', 'text', (c) => c.notNull())
        .addColumn('branch', 'text', (c) => c.notNull())
        .addColumn('revision', 'text', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('message', 'text', (c) => c.notNull())
        .addColumn('files', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('pushes_by_repo_branch').on('pushes').columns(['repo', 'branch', 'id']).execute();

      await db.schema
        .createTable('jobs')
        .addColumn('id', types.integer, types.generatedId)
        .addColumn('push_id', types.integer, (c) => c.notNull().references('pushes.id'))
        .addColumn('builder', 'text', (c) => c.notNull())
        .addColumn('repo', 'text', (c) => c.notNull())
        .addColumn('branch', 'text', (c) => c.notNull())
        .addColumn('revision', 'text', (c) => c.notNull())
        .addColumn('author', 'text', (c) => c.notNull())
        .addColumn('pool', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('spec', 'text', (c) => c.notNull())
        .addColumn('required_tags', 'text', (c) => c.notNull())
        .addColumn('depends_on', 'text', (c) => c.notNull())
        .addColumn('priority', types.integer, (c) => c.notNull().defaultTo(0))
        .addColumn('attempt_count', types.integer, (c) => c.notNull().defaultTo(0))
        .addColumn('max_attempts', types.integer, (c) => c.notNull())
        .addColumn('retriggered_from', types.integer)
        .addColumn('worker', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('pending_at', 'bigint')
        .addColumn('started_at', 'bigint')
        .addColumn('finished_at', 'bigint')
        .execute();
      await db.schema.createIndex('jobs_by_push').on('jobs').columns(['push_id']).execute();
      await db.schema.createIndex('jobs_by_state').on('jobs').columns(['state', 'id']).execute();
      // The claim query: pending jobs of one pool in queue order.
      await db.schema
        .createIndex('jobs_pending_by_pool')
        .on('jobs')
        .columns(['pool', 'priority', 'id'])
        .where(sql.ref('state'), '=', 'pending')
        .execute();

      await db.schema
        .createTable('attempts')
        .addColumn('id', types.integer, types.generatedId)
        .addColumn('job_id', types.integer, (c) => c.notNull().references('jobs.id'))
        .addColumn('number', types.integer, (c) => c.notNull())
        .addColumn('worker', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('reason', 'text')
        .addColumn('message', 'text')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('lease_expires_at', 'bigint')
        .addUniqueConstraint('attempts_job_number', ['job_id', 'number'])
        .execute();
      // The lease reaper's query; only running attempts have a lease.
      await db.schema
        .createIndex('attempts_running_by_lease')
        .on('attempts')
        .columns(['lease_expires_at'])
        .where(sql.ref('state'), '=', 'running')
        .execute();

      await db.schema
        .createTable('steps')
        .addColumn('attempt_id', types.integer, (c) => c.notNull().references('attempts.id'))
        .addColumn('idx', types.integer, (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('exit_code', types.integer)
        .addColumn('signal', 'text')
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('log_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('log_seq', types.integer, (c) => c.notNull().defaultTo(0))
        .addColumn('log_compressed', types.integer, (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint('steps_pk', ['attempt_id', 'idx'])
        .execute();

      await db.schema
        .createTable('workers')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('pool', 'text', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('version', 'text')
        .addColumn('online', types.integer, (c) => c.notNull())
        .addColumn('current_attempt', types.integer)
        .addColumn('first_seen', 'bigint', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('events')
        .addColumn('id', types.integer, types.generatedId)
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('repo', 'text')
        .addColumn('branch', 'text')
        .addColumn('builder', 'text')
        .addColumn('job_id', types.integer)
        .addColumn('push_id', types.integer)
        .addColumn('data', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0002-worker-instance': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('workers').addColumn('instance', 'text').execute();
    },
  },
  '0003-artifacts': {
    async up(db: Kysely<unknown>) {
      // One row per distinct content; the file is <blob dir>/<first two hex digits>/<the rest>.
      await db.schema
        .createTable('blobs')
        .addColumn('sha256', 'text', (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('artifacts')
        .addColumn('id', types.integer, types.generatedId)
        .addColumn('job_id', types.integer, (c) => c.notNull().references('jobs.id'))
        .addColumn('attempt', types.integer, (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('sha256', 'text', (c) => c.notNull().references('blobs.sha256'))
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('artifacts_job_name', ['job_id', 'name'])
        .execute();
      // The collector's queries: what expired, and which blobs something still references.
      await db.schema.createIndex('artifacts_by_expiry').on('artifacts').columns(['expires_at']).execute();
      await db.schema.createIndex('artifacts_by_blob').on('artifacts').columns(['sha256']).execute();
    },
  },
  '0004-scheduling': {
    async up(db: Kysely<unknown>) {
      const jobColumns: [string, ColumnTypes['real'] | 'text' | ColumnTypes['integer'], boolean][] = [
        ['queue_rank', types.real, true],
        ['prefer', 'text', true],
        ['coalesce_limit', types.integer, false],
        ['coalesced_into', types.integer, false],
        ['exact', types.integer, true],
        ['claim_reason', 'text', false],
      ];
      for (const [name, type, required] of jobColumns) {
        const defaultValue = name === 'prefer' ? 'any' : 0;
        await db.schema
          .alterTable('jobs')
          .addColumn(name, type, (c) => (required ? c.notNull().defaultTo(defaultValue) : c))
          .execute();
      }
      // Existing pending jobs keep their order; the coordinator re-ranks them with its aging at start.
      await sql`update jobs set queue_rank = coalesce(pending_at, created_at)`.execute(db);
      await db.schema.dropIndex('jobs_pending_by_pool').execute();
      // The claim query: pending jobs of one pool in queue order (effective priority, then age).
      await db.schema
        .createIndex('jobs_queue')
        .on('jobs')
        .columns(['pool', 'queue_rank', 'id'])
        .where(sql.ref('state'), '=', 'pending')
        .execute();
      // Learned speed: a builder's latest successful runs, for its median.
      await db.schema
        .createIndex('jobs_succeeded_by_builder')
        .on('jobs')
        .columns(['builder', 'finished_at'])
        .where(sql.ref('state'), '=', 'success')
        .execute();
      // Coalescing: pending jobs of one builder and branch.
      await db.schema
        .createIndex('jobs_pending_by_builder')
        .on('jobs')
        .columns(['builder', 'branch', 'pending_at'])
        .where(sql.ref('state'), '=', 'pending')
        .execute();
      await db.schema
        .alterTable('workers')
        .addColumn('warm', 'text', (c) => c.notNull().defaultTo('[]'))
        .execute();
      await db.schema.alterTable('workers').addColumn('speed', types.real).execute();
      await db.schema
        .alterTable('workers')
        .addColumn('exception_streak', types.integer, (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.alterTable('workers').addColumn('benched_until', 'bigint').execute();
    },
  },
  '0005-subscriptions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('subscriptions')
        .addColumn('id', types.integer, types.generatedId)
        .addColumn('name', 'text', (c) => c.unique())
        .addColumn('source', 'text', (c) => c.notNull())
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('secret', 'text', (c) => c.notNull())
        .addColumn('filter', 'text', (c) => c.notNull())
        .addColumn('cursor', types.integer, (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('deliveries')
        .addColumn('id', types.integer, types.generatedId)
        .addColumn('subscription_id', types.integer, (c) =>
          c.notNull().references('subscriptions.id').onDelete('cascade'),
        )
        .addColumn('event_id', types.integer, (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('next_attempt_at', 'bigint')
        .addColumn('first_attempt_at', 'bigint')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('finished_at', 'bigint')
        .addColumn('redelivery_of', types.integer)
        .execute();
      // The dispatcher's query: the oldest pending delivery of a subscription.
      await db.schema
        .createIndex('deliveries_pending')
        .on('deliveries')
        .columns(['subscription_id', 'id'])
        .where(sql.ref('state'), '=', 'pending')
        .execute();
      await db.schema
        .createIndex('deliveries_by_subscription')
        .on('deliveries')
        .columns(['subscription_id', 'id'])
        .execute();
      await db.schema
        .createTable('delivery_attempts')
        .addColumn('delivery_id', types.integer, (c) => c.notNull().references('deliveries.id').onDelete('cascade'))
        .addColumn('number', types.integer, (c) => c.notNull())
        .addColumn('attempted_at', 'bigint', (c) => c.notNull())
        .addColumn('status', types.integer)
        .addColumn('error', 'text')
        .addColumn('duration_ms', types.integer, (c) => c.notNull())
        .addPrimaryKeyConstraint('delivery_attempts_pk', ['delivery_id', 'number'])
        .execute();
      await db.schema
        .createTable('outbox_cursors')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('last_event_id', types.integer, (c) => c.notNull())
        .execute();
    },
  },
  '0006-tools': {
    async up(db: Kysely<unknown>) {
      // The tool store: content addressed by sha512, its bytes in the blob of its sha256.
      await db.schema
        .createTable('tools')
        .addColumn('sha512', 'text', (c) => c.primaryKey())
        .addColumn('sha256', 'text', (c) => c.notNull().references('blobs.sha256'))
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('visibility', 'text', (c) => c.notNull())
        .addColumn('uploaded_at', 'bigint', (c) => c.notNull())
        .execute();
      // The collector's query: which blobs a tool still references.
      await db.schema.createIndex('tools_by_blob').on('tools').columns(['sha256']).execute();
      await db.schema
        .createTable('tool_names')
        .addColumn('sha512', 'text', (c) => c.notNull().references('tools.sha512').onDelete('cascade'))
        .addColumn('filename', 'text', (c) => c.notNull())
        .addColumn('uploaded_at', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('tool_names_pk', ['sha512', 'filename'])
        .execute();
      // The listing's `?filename=` filter.
      await db.schema.createIndex('tool_names_by_filename').on('tool_names').columns(['filename']).execute();
    },
  },
  '0007-attempt-timings': {
    async up(db: Kysely<unknown>) {
      // JSON: the worker's phases before the steps (lock, fetch, checkout, clean, tools).
      await db.schema.alterTable('attempts').addColumn('timings', 'text').execute();
    },
  },
  '0008-credentials': {
    async up(db: Kysely<unknown>) {
      await db.schema.alterTable('workers').addColumn('credential', 'text').execute();
      await db.schema
        .createTable('farm_keys')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('key', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  },
  '0009-sessions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('sessions')
        .addColumn('id_hash', 'text', (c) => c.primaryKey())
        .addColumn('token_name', 'text', (c) => c.notNull())
        .addColumn('token_hash', 'text', (c) => c.notNull())
        .addColumn('csrf_token', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      // A sign-in forgets the sessions that have expired.
      await db.schema.createIndex('sessions_by_expiry').on('sessions').columns(['expires_at']).execute();
    },
  },
  '0010-log-chunks': {
    async up(db: Kysely<unknown>) {
      // A running step's log, batch by batch, so that any coordinator can take the next batch and
      // any can read it (Buildbot's logchunks); compaction moves it whole into the log archive.
      await db.schema
        .createTable('log_chunks')
        .addColumn('attempt_id', types.integer, (c) => c.notNull())
        .addColumn('idx', types.integer, (c) => c.notNull())
        .addColumn('seq', types.integer, (c) => c.notNull())
        .addColumn('offset', 'bigint', (c) => c.notNull())
        .addColumn('data', types.binary, (c) => c.notNull())
        .addPrimaryKeyConstraint('log_chunks_pk', ['attempt_id', 'idx', 'seq'])
        .execute();
      await db.schema.alterTable('steps').addColumn('log_archive', 'text').execute();
      await db.schema.alterTable('steps').addColumn('log_compacting_until', 'bigint').execute();
      // Compaction's sweep: the logs not yet final.
      await db.schema
        .createIndex('steps_log_not_compacted')
        .on('steps')
        .columns(['attempt_id'])
        .where(sql.ref('log_compressed'), '=', 0)
        .execute();
    },
  },
  '0011-replicas-and-singletons': {
    async up(db: Kysely<unknown>) {
      // One row per coordinator process that ever ran against this database (replicas/).
      await db.schema
        .createTable('replicas')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('hostname', 'text', (c) => c.notNull())
        .addColumn('pid', types.integer, (c) => c.notNull())
        .addColumn('url', 'text')
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('started_at', 'bigint', (c) => c.notNull())
        .addColumn('last_seen', 'bigint', (c) => c.notNull())
        .addColumn('stopped_at', 'bigint')
        .execute();
      // Loops that must run on one replica at a time: who holds each, under which term, until when.
      await db.schema
        .createTable('singletons')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('term', types.integer, (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('acquired_at', 'bigint', (c) => c.notNull())
        .execute();
      // Settings the replicas share and compare with their config (the queue's aging).
      await db.schema
        .createTable('farm_settings')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('value', 'text', (c) => c.notNull())
        .execute();
    },
  },
});

export function migrationProvider(dialect: DialectName): MigrationProvider {
  return {
    async getMigrations() {
      return migrations(columnTypes(dialect));
    },
  };
}
