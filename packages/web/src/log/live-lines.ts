import type { LogIndex, LogUpdate } from '@switchyard/protocol/browser';

/**
 * The lines a followed log has sent: a run from its first line on, to the log's end. Each update
 * replaces what was held from its first line (a line still being written comes again as it grows).
 */
export class LiveLines {
  private first = 1;
  private held: string[] = [];

  put(from: number, lines: readonly string[]): void {
    if (this.held.length === 0 || from < this.first || from > this.first + this.held.length) {
      this.first = from;
      this.held = [...lines];
      return;
    }
    this.held.splice(from - this.first, this.held.length, ...lines);
  }

  /** Line `n` as sent, or undefined when it is before the run (read it by range). */
  line(n: number): string | undefined {
    return n >= this.first ? this.held[n - this.first] : undefined;
  }

  /** Whether every line from `n` to the log's end is held, so none of them needs reading. */
  holdsFrom(n: number): boolean {
    return this.held.length > 0 && n >= this.first;
  }
}

/** The log's index after an update of its follower: the update's counts and sections, the error lines it adds. */
export function applyLogUpdate(index: LogIndex | undefined, update: LogUpdate, jobId: number): LogIndex {
  const known = index?.attempt === update.attempt ? index.errors.slice(0, update.errorsFrom) : [];
  return {
    job: jobId,
    attempt: update.attempt,
    complete: update.complete,
    lineCount: update.lineCount,
    sections: update.sections,
    errors: [...known, ...update.errors],
    errorsTruncated: update.errorsTruncated,
  };
}
