import type { ArchivedLog, JobStore, LogStore, StepRecord } from '../store/port.ts';
import { type LogArchive, readArchived } from './log-archive.ts';
import type { LegacyLogFiles } from './log-files.ts';

/** Chunks per query: at most a few MiB of a running log in memory per reader. */
const CHUNKS_PER_READ = 32;

/** What a reader needs of a step's row: which step it is, and where its log is. */
export type StoredLog = Pick<StepRecord, 'idx' | 'log_compressed' | 'log_archive'>;

/** The log, as the step's row names it: where its bytes are now. */
export type LogPlace = { kind: 'chunks' } | { kind: 'archive'; archive: ArchivedLog } | { kind: 'legacy-gzip' };

export function logPlace(step: Pick<StepRecord, 'log_compressed' | 'log_archive'>): LogPlace {
  if (step.log_archive !== null) return { kind: 'archive', archive: JSON.parse(step.log_archive) as ArchivedLog };
  if (step.log_compressed === 0) return { kind: 'chunks' };
  // Compacted with nothing archived: an empty log (never read), or one a farm from before the archive gzipped on disk.
  return { kind: 'legacy-gzip' };
}

/**
 * Reads a step's log wherever it is: the chunks in the database while it is not compacted, the
 * archive once it is, and the files of a farm from before either. A log compacted while it is
 * being read is followed into the archive; every coordinator reads the same bytes.
 */
export class LogReader {
  constructor(
    private readonly logs: Pick<LogStore, 'chunks'>,
    private readonly jobs: Pick<JobStore, 'stepsOf'>,
    private readonly archive: LogArchive,
    private readonly legacy: LegacyLogFiles,
  ) {}

  /** The frames of `step`'s log from `start` to `end` (exclusive): bytes its row says are stored. */
  async *read(attemptId: number, step: StoredLog, start: number, end: number): AsyncGenerator<Buffer> {
    let position = start;
    let record: StoredLog = step;
    let refreshed = false;
    while (position < end) {
      const place = logPlace(record);
      if (place.kind === 'archive') {
        yield* readArchived(this.archive, place.archive, position, end);
        return;
      }
      if (place.kind === 'legacy-gzip') {
        yield* this.legacy.read(attemptId, step.idx, true, position, end);
        return;
      }
      const chunks = await this.logs.chunks(attemptId, step.idx, position, CHUNKS_PER_READ);
      const before = position;
      for (const chunk of chunks) {
        if (chunk.offset > position) break;
        const from = position - chunk.offset;
        const to = Math.min(chunk.data.length, end - chunk.offset);
        if (to > from) {
          yield chunk.data.subarray(from, to);
          position = chunk.offset + to;
        }
        if (position >= end) return;
      }
      if (position > before) {
        refreshed = false;
        continue;
      }
      // No chunk holds the bytes at `position`.
      if (!refreshed) {
        // Compacted since the row was read: its chunks are gone, the archive has them.
        refreshed = true;
        record = (await this.jobs.stepsOf(attemptId)).find((s) => s.idx === step.idx) ?? record;
        if (record.log_compressed === 1) continue;
      }
      // Bytes before the first chunk were written by a coordinator from before the chunks.
      const upTo = Math.min(end, chunks.find((chunk) => chunk.offset > position)?.offset ?? end);
      if (await this.legacy.hasRaw(attemptId, step.idx)) {
        yield* this.legacy.read(attemptId, step.idx, false, position, upTo);
        position = upTo;
        continue;
      }
      throw new Error(`bytes ${position}-${upTo} of the log of step ${step.idx} of attempt ${attemptId} are missing`);
    }
  }
}
