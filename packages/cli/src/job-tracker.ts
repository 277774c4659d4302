import { isFinalJobState, type JobState, type JobSummary, type SwitchyardEvent } from '@switchyard/protocol';

/**
 * Follows the states of a set of jobs through the event stream and settles once every one of them
 * is final. Events may name a job before the tracker is told to expect it (a push's events can
 * arrive before the request that created it returns), so it remembers every job it sees.
 */
export class JobTracker {
  /** Resolves when the expectations are sealed and every expected job is final. */
  readonly settled: Promise<void>;
  private readonly states = new Map<number, JobState>();
  private readonly expected: number[] = [];
  private sealed = false;
  private markSettled: () => void = () => {};

  constructor() {
    this.settled = new Promise((resolve) => {
      this.markSettled = resolve;
    });
  }

  /** Adds jobs to wait for, with the states they had when created. */
  expect(jobs: readonly JobSummary[]): void {
    for (const job of jobs) {
      this.expected.push(job.id);
      if (!this.states.has(job.id)) this.states.set(job.id, job.state);
    }
    this.checkSettled();
  }

  /** No more jobs will be expected. */
  seal(): void {
    this.sealed = true;
    this.checkSettled();
  }

  observe(event: SwitchyardEvent): void {
    if ('job' in event.data) this.states.set(event.data.job.id, event.data.job.state);
    this.checkSettled();
  }

  get isSettled(): boolean {
    return this.sealed && this.expected.every((id) => isFinalJobState(this.stateOf(id)));
  }

  /** The current state of every expected job, in the order they were expected. */
  expectedStates(): JobState[] {
    return this.expected.map((id) => this.stateOf(id));
  }

  get allSucceeded(): boolean {
    return this.expectedStates().every((state) => state === 'success');
  }

  private stateOf(id: number): JobState {
    return this.states.get(id) ?? 'pending';
  }

  private checkSettled(): void {
    if (this.isSettled) this.markSettled();
  }
}

/** The events that move a job from one state to the next. */
export const JOB_STATE_EVENT_TYPES = ['job.waiting', 'job.pending', 'job.started', 'job.finished'] as const;
