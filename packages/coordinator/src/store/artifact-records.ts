import {
  type Artifact,
  type ArtifactStats,
  blobPath,
  type FetchSpec,
  type JobInput,
  type JobSpec,
} from '@switchyard/protocol';
import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import { dialectOf } from './dialect.ts';
import { conflict, invalidInput, leaseLost, notFound } from './errors.ts';
import { iso, type JobRow, toJob } from './mappers.ts';
import type { ArtifactStore, NewArtifact, UploadTarget } from './port.ts';
import type { ArtifactsTable, BlobsTable, Database } from './schema.ts';
import type { Store } from './store.ts';
import { jobDims } from './transitions.ts';

export type ArtifactRow = Selectable<ArtifactsTable>;
export type BlobRow = Selectable<BlobsTable>;

export function toArtifact(row: ArtifactRow): Artifact {
  return {
    jobId: row.job_id,
    attempt: row.attempt,
    name: row.name,
    sha256: row.sha256,
    size: row.size,
    contentType: row.content_type,
    createdAt: iso(row.created_at),
    expiresAt: iso(row.expires_at),
    url: blobPath(row.sha256),
  };
}

/** The artifact and blob tables: who uploaded what, and which contents are stored. */
export class ArtifactRecords implements ArtifactStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly store: Store,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * The job an upload is for, refused unless one of its attempts is running now (and is the
   * one the worker names, when it names one): artifacts come from the run that made them.
   */
  async uploadTarget(jobId: number, name: string, attemptId: number | null): Promise<UploadTarget> {
    const job = await this.db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
    if (!job) throw notFound(`job ${jobId} does not exist`);
    if (attemptId !== null) {
      const attempt = await this.db.selectFrom('attempts').selectAll().where('id', '=', attemptId).executeTakeFirst();
      if (!attempt || attempt.job_id !== jobId) {
        throw invalidInput(`attempt ${attemptId} is not an attempt of job ${jobId}`);
      }
      if (attempt.state !== 'running') throw leaseLost(attempt);
      return { job, attemptNumber: attempt.number, name };
    }
    const running = await this.db
      .selectFrom('attempts')
      .select('number')
      .where('job_id', '=', jobId)
      .where('state', '=', 'running')
      .executeTakeFirst();
    if (!running) {
      throw conflict(`job ${jobId} is ${job.state}, not running; artifacts are uploaded by its running attempt`, {
        state: job.state,
      });
    }
    return { job, attemptNumber: running.number, name };
  }

  async blob(sha256: string): Promise<BlobRow | undefined> {
    return this.db.selectFrom('blobs').selectAll().where('sha256', '=', sha256).executeTakeFirst();
  }

  /**
   * Records (job, name) → blob, replacing what an earlier attempt uploaded under that name, and
   * announces it. Returns the artifact and whether the blob was stored already. The attempt is
   * checked again here: a body can take minutes, and an attempt that lost its lease meanwhile
   * must not replace what the job's next attempt uploaded.
   */
  async record(target: UploadTarget, blob: NewArtifact): Promise<{ artifact: Artifact; deduplicated: boolean }> {
    return this.store.write(async (ctx) => {
      const attempt = await ctx.trx
        .selectFrom('attempts')
        .selectAll()
        .where('job_id', '=', target.job.id)
        .where('number', '=', target.attemptNumber)
        .executeTakeFirstOrThrow();
      if (attempt.state !== 'running') throw leaseLost(attempt);
      const inserted = await ctx.trx
        .insertInto('blobs')
        .values({ sha256: blob.sha256, size: blob.size, content_type: blob.contentType, created_at: ctx.now })
        .onConflict((oc) => oc.column('sha256').doNothing())
        .returning('sha256')
        .executeTakeFirst();
      const values = {
        attempt: target.attemptNumber,
        sha256: blob.sha256,
        size: blob.size,
        content_type: blob.contentType,
        created_at: ctx.now,
        expires_at: blob.expiresAt,
      };
      const row = await ctx.trx
        .insertInto('artifacts')
        .values({ job_id: target.job.id, name: target.name, ...values })
        .onConflict((oc) => oc.columns(['job_id', 'name']).doUpdateSet(values))
        .returningAll()
        .executeTakeFirstOrThrow();
      const artifact = toArtifact(row);
      const job = await ctx.trx
        .selectFrom('jobs')
        .selectAll()
        .where('id', '=', target.job.id)
        .executeTakeFirstOrThrow();
      await ctx.emit('artifact.created', { job: toJob(job), artifact }, jobDims(job));
      return { artifact, deduplicated: inserted === undefined };
    });
  }

  /** A job's artifacts that have not expired, by name. */
  async list(jobId: number): Promise<Artifact[]> {
    const job = await this.db.selectFrom('jobs').select('id').where('id', '=', jobId).executeTakeFirst();
    if (!job) throw notFound(`job ${jobId} does not exist`);
    const rows = await this.db
      .selectFrom('artifacts')
      .selectAll()
      .where('job_id', '=', jobId)
      .where('expires_at', '>', this.clock())
      .orderBy('name')
      .execute();
    return rows.map(toArtifact);
  }

  async find(jobId: number, name: string): Promise<Artifact> {
    const artifact = (await this.list(jobId)).find((a) => a.name === name);
    if (!artifact) throw notFound(`job ${jobId} has no artifact named "${name}"`);
    return artifact;
  }

  /**
   * A job's `fetch:` entries resolved: each names a builder, and the job of that builder it
   * waited for (directly or through other jobs of its push) is the one whose artifact it gets.
   */
  async inputs(jobId: number): Promise<JobInput[]> {
    const job = await this.db.selectFrom('jobs').selectAll().where('id', '=', jobId).executeTakeFirst();
    if (!job) throw notFound(`job ${jobId} does not exist`);
    const fetches = (JSON.parse(job.spec) as Partial<JobSpec>).fetch ?? [];
    const inputs: JobInput[] = [];
    for (const entry of fetches) inputs.push(await this.resolve(job, entry));
    return inputs;
  }

  private async resolve(job: JobRow, entry: FetchSpec): Promise<JobInput> {
    const source = await this.upstreamJob(job, entry.from);
    const base = { from: entry.from, artifact: entry.artifact };
    if (!source) {
      return { ...base, job: null, found: null, problem: `job ${job.id} does not wait for a job of ${entry.from}` };
    }
    const row = await this.db
      .selectFrom('artifacts')
      .selectAll()
      .where('job_id', '=', source.id)
      .where('name', '=', entry.artifact)
      .executeTakeFirst();
    const what = `job ${source.id} (${entry.from}, ${source.state})`;
    if (!row)
      return { ...base, job: source.id, found: null, problem: `${what} uploaded no artifact "${entry.artifact}"` };
    if (row.expires_at <= this.clock()) {
      const problem = `the artifact "${entry.artifact}" of ${what} expired at ${iso(row.expires_at)}`;
      return { ...base, job: source.id, found: null, problem };
    }
    return { ...base, job: source.id, found: toArtifact(row), problem: null };
  }

  /** The nearest job of `builder` that this job depends on, through `depends_on`. */
  private async upstreamJob(job: JobRow, builder: string): Promise<{ id: number; state: string } | null> {
    const seen = new Set<number>();
    let frontier = JSON.parse(job.depends_on) as number[];
    while (frontier.length > 0) {
      const rows = await this.db
        .selectFrom('jobs')
        .select(['id', 'builder', 'state', 'depends_on'])
        .where('id', 'in', frontier)
        .execute();
      const match = rows.find((r) => r.builder === builder);
      if (match) return match;
      for (const id of frontier) seen.add(id);
      frontier = rows.flatMap((r) => JSON.parse(r.depends_on) as number[]).filter((id) => !seen.has(id));
    }
    return null;
  }

  async stats(): Promise<ArtifactStats> {
    const artifacts = await this.db
      .selectFrom('artifacts')
      .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.sum<number | null>('size').as('bytes')])
      .executeTakeFirstOrThrow();
    const blobs = await this.db
      .selectFrom('blobs')
      .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.sum<number | null>('size').as('bytes')])
      .executeTakeFirstOrThrow();
    // Blobs only tools reference (a toolchain nobody uploaded as an artifact) are no artifact's dedup.
    const artifactBlobs = await this.db
      .selectFrom('blobs')
      .where('sha256', 'in', (eb) => eb.selectFrom('artifacts').select('sha256'))
      .select((eb) => eb.fn.sum<number | null>('size').as('bytes'))
      .executeTakeFirstOrThrow();
    const logicalBytes = Number(artifacts.bytes ?? 0);
    const distinctArtifactBytes = Number(artifactBlobs.bytes ?? 0);
    return {
      artifacts: Number(artifacts.count),
      blobs: Number(blobs.count),
      logicalBytes,
      storedBytes: Number(blobs.bytes ?? 0),
      dedupRatio: distinctArtifactBytes === 0 ? 1 : logicalBytes / distinctArtifactBytes,
    };
  }

  /**
   * Deletes the artifacts past their expiry; returns how many. Every replica's collector runs
   * this: on PostgreSQL in batches taken `FOR UPDATE SKIP LOCKED`, so two collectors share the
   * rows rather than one waiting on the other's locks.
   */
  async deleteExpired(): Promise<number> {
    const now = this.clock();
    if (dialectOf(this.db) === 'sqlite') {
      const deleted = await this.db.deleteFrom('artifacts').where('expires_at', '<=', now).executeTakeFirst();
      return Number(deleted.numDeletedRows);
    }
    let total = 0;
    for (;;) {
      const deleted = await this.db
        .deleteFrom('artifacts')
        .where('id', 'in', (eb) =>
          eb
            .selectFrom('artifacts')
            .select('id')
            .where('expires_at', '<=', now)
            .limit(EXPIRY_BATCH)
            .forUpdate()
            .skipLocked(),
        )
        .executeTakeFirst();
      const count = Number(deleted.numDeletedRows);
      total += count;
      if (count < EXPIRY_BATCH) return total;
    }
  }

  /** Blobs neither an artifact nor a tool references any more. */
  async unreferencedBlobs(): Promise<string[]> {
    const rows = await this.db.selectFrom('blobs').select('sha256').where(unreferenced).execute();
    return rows.map((r) => r.sha256);
  }

  /** Forgets a blob if still nothing references it; returns its size, or null when it was kept. */
  async forgetBlob(sha256: string): Promise<number | null> {
    const row = await this.db
      .deleteFrom('blobs')
      .where('sha256', '=', sha256)
      .where(unreferenced)
      .returning('size')
      .executeTakeFirst();
    return row ? row.size : null;
  }
}

/** Expired artifacts one statement deletes on PostgreSQL. */
const EXPIRY_BATCH = 1000;

/** A blob that no artifact and no tool names: the collector may delete it. */
function unreferenced({ and, not, exists, selectFrom }: ExpressionBuilder<Database, 'blobs'>) {
  return and([
    not(exists(selectFrom('artifacts').select('id').whereRef('artifacts.sha256', '=', 'blobs.sha256'))),
    not(exists(selectFrom('tools').select('sha512').whereRef('tools.sha256', '=', 'blobs.sha256'))),
  ]);
}
