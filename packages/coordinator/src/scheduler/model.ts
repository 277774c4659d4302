/**
 * What the scheduler sees and decides. Plain data, no I/O: the live coordinator builds a
 * snapshot from its database and the simulator from its virtual farm, and both get the same
 * decisions from the same code.
 */

/** Which machines a builder's jobs should go to when there is a choice. */
export type SpeedPreference = 'fast' | 'slow' | 'any';
export const SPEED_PREFERENCES = ['fast', 'slow', 'any'] as const satisfies readonly SpeedPreference[];

export interface SchedulableJob {
  id: number;
  builder: string;
  repo: string;
  branch: string;
  pool: string;
  /** Lower is more important. */
  priority: number;
  /** When it became pending (ms): the FIFO order and the start of its aging. */
  pendingSince: number;
  requiredTags: Readonly<Record<string, string>>;
  prefer: SpeedPreference;
  /**
   * How many jobs one run may stand for when older pending jobs of this builder and branch are
   * folded into it; null: never coalesced (the builder says so, or someone asked for this exact
   * revision, or it is a retrigger).
   */
  coalesceLimit: number | null;
  /**
   * Beyond the part of the queue the caller looked at: there only so that a coalesced run can be
   * the newest of its builder and branch, never picked on its own.
   */
  coalesceTargetOnly?: boolean;
}

/** A builder and branch a worker recently succeeded on, so its caches hold them. */
export interface WarmCache {
  repo: string;
  builder: string;
  branch: string;
  /** When that run finished (ms); more recent is warmer. */
  at: number;
}

export interface SchedulableWorker {
  name: string;
  pool: string;
  tags: Readonly<Record<string, string>>;
  warm: readonly WarmCache[];
  /**
   * Learned duration relative to each builder's median, exponentially weighted: 0.7 means this
   * worker takes 70 % of the typical time. null until it has finished something.
   */
  speed: number | null;
  /** Benched after exceptions until this time (ms); null when healthy. */
  benchedUntil: number | null;
  /** When it started waiting for work (ms): among equals, the longest idle goes first. */
  idleSince: number;
}

export interface SchedulingPolicy {
  /** Order by priority before submission time; false is plain FIFO. */
  priorities: boolean;
  /** Waiting this long (ms) improves a job's priority by one level; 0 turns aging off. */
  agingMs: number;
  /**
   * How far (in priority levels) behind the most urgent runnable job a worker may take a job it
   * fits better (warm caches, speed). 0: strict order.
   */
  fitBand: number;
  /** Pair jobs and workers by warm caches and learned speed; false: a random idle worker. */
  affinity: boolean;
  coalescing: boolean;
  /** Keep benched workers out of the match. */
  health: boolean;
  /** [0, 1) source for the random choices when affinity is off; seeded in the simulator. */
  random: () => number;
}

export interface Snapshot {
  now: number;
  /** Pending jobs, any order. */
  pending: readonly SchedulableJob[];
  /** Workers waiting for work right now. */
  idle: readonly SchedulableWorker[];
  policy: SchedulingPolicy;
}

export interface Decision {
  /** The job to run: the newest of its coalesced group, or the job itself. */
  jobId: number;
  worker: string;
  /** Older pending jobs this run stands for: they end `coalesced` into `jobId`. */
  coalesced: number[];
  /** Why this worker got this job, for people reading the job. */
  why: string;
}
