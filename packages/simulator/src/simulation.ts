import {
  type Decision,
  type EndedAttempt,
  jobAfterAttempt,
  MEDIAN_SAMPLE,
  planJobs,
  type SchedulableJob,
  type SchedulableWorker,
  type SchedulingPolicy,
  schedule,
  settleDependents,
  speedAfterSuccess,
  type WarmCache,
  workerLesson,
} from '@switchyard/coordinator/scheduler';
import type { JobState } from '@switchyard/protocol';
import { dedicatedSplit } from './dedicated-split.ts';
import { runDurationMs } from './duration.ts';
import { EventQueue } from './event-queue.ts';
import { type FarmWorker, farmWorkers } from './farm-workers.ts';
import { schedulingPolicy } from './policies.ts';
import type { PolicyName } from './policy-names.ts';
import { type Random, seededRandom } from './prng.ts';
import type { Builder, Scenario } from './scenario.ts';
import { generatePushes, HOUR_MS, type Push } from './workload.ts';

/** The one repository of a scenario: every warm cache is of it. */
const REPO = 'scenario';

/**
 * How a scenario's broken machine ends an attempt: it is lost mid-run, so the job is retried
 * and the machine benched, by the live coordinator's rules.
 */
export const SIMULATED_EXCEPTION = 'worker-lost';

/** What a run leaves behind for the metrics: every job, attempt and push, in virtual ms. */
export interface RunRecord {
  durationMs: number;
  workerCount: number;
  jobs: { branch: string; builder: string; state: JobState }[];
  /** One per attempt: when its job became pending (again), when the attempt started and ended. */
  attempts: { branch: string; builder: string; worker: string; pendingAt: number; start: number; end: number }[];
  /** `doneAt`: when the last of its jobs reached a final state (a coalesced one: with its run). */
  pushes: { branch: string; at: number; doneAt: number }[];
  /** Each worker's learned speed at the end (duration relative to the builders' medians). */
  learnedSpeeds: Record<string, number | null>;
}

interface SimJob {
  id: number;
  push: Push;
  builder: Builder;
  state: JobState;
  schedulable: SchedulableJob;
  /** Ids of the jobs of its push it waits for. */
  dependsOn: number[];
  /** When it last entered `pending`: a retried job keeps its place in the queue but waits again. */
  queuedAt: number;
  attempts: number;
  maxAttempts: number;
  /** The job's own draws (jitter, exception, failure): the same whichever policy runs it. */
  random: Random;
  finishedAt: number | null;
  /** Jobs coalesced into this one: they are done when it is. */
  folded: SimJob[];
}

interface SimWorker extends FarmWorker {
  pool: string;
  learnedSpeed: number | null;
  /** Per builder, the branch of its last successful run: that object directory is still there. */
  warm: Map<string, WarmCache>;
  idleSince: number;
  benchedUntil: number | null;
  exceptionStreak: number;
}

type SimEvent =
  | { kind: 'push'; push: Push }
  | { kind: 'attempt-end'; worker: SimWorker; job: SimJob; start: number; outcome: 'success' | 'failure' | 'exception' }
  | { kind: 'bench-over' };

/**
 * Replays a scenario's pushes against `schedule()` on a virtual clock, under one policy, until
 * every job is final (the pushes stop at `duration_hours`; the queue then drains).
 *
 * At each instant the events due are applied (pushes create jobs; a finished attempt frees its
 * worker and releases or skips the jobs after it; a bench ends), then the scheduler is asked
 * once with every pending job and every waiting worker, and its decisions start attempts.
 */
export function simulate(scenario: Scenario, policyName: PolicyName, pushes = generatePushes(scenario)): RunRecord {
  return new Simulation(scenario, policyName, pushes).run();
}

class Simulation {
  private readonly policy: SchedulingPolicy;
  private readonly agenda = new EventQueue<SimEvent>();
  private readonly workers: SimWorker[];
  private readonly idle = new Set<SimWorker>();
  private readonly pending = new Map<number, SimJob>();
  private readonly jobs: SimJob[] = [];
  private readonly pushJobs = new Map<Push, SimJob[]>();
  /**
   * Recent successful durations per builder, newest first, for the median learned speed is
   * measured against.
   */
  private readonly recentDurations = new Map<string, number[]>();
  private readonly branchPriority: Map<string, number>;
  private readonly exactBranches: Set<string>;
  private readonly attempts: RunRecord['attempts'] = [];
  private readonly durationMs: number;

  constructor(
    private readonly scenario: Scenario,
    private readonly policyName: PolicyName,
    pushes: readonly Push[],
  ) {
    this.policy = schedulingPolicy(policyName, scenario, seededRandom(scenario.seed, 'worker-choice'));
    this.durationMs = scenario.durationHours * HOUR_MS;
    this.branchPriority = new Map(scenario.branches.map((b) => [b.name, b.priority]));
    this.exactBranches = new Set(scenario.branches.filter((b) => b.exact).map((b) => b.name));
    const machines = farmWorkers(scenario);
    const branchOf = policyName === 'dedicated' ? dedicatedSplit(scenario, machines) : null;
    this.workers = machines.map((machine) => ({
      ...machine,
      pool: this.poolName(machine.group.pool, branchOf?.get(machine.name) ?? null),
      learnedSpeed: null,
      warm: new Map(),
      idleSince: 0,
      benchedUntil: null,
      exceptionStreak: 0,
    }));
    for (const worker of this.workers) this.idle.add(worker);
    for (const push of pushes) this.agenda.add(push.at, { kind: 'push', push });
  }

  /** Under `dedicated` every branch has its own pool; the scheduler sees pool@branch. */
  private poolName(pool: string, branch: string | null): string {
    return branch === null ? pool : `${pool}@${branch}`;
  }

  run(): RunRecord {
    for (let now = this.agenda.peekTime(); now !== undefined; now = this.agenda.peekTime()) {
      while (this.agenda.peekTime() === now) {
        const { event } = this.agenda.take() as { at: number; event: SimEvent };
        if (event.kind === 'push') this.createJobs(event.push, now);
        else if (event.kind === 'attempt-end') this.endAttempt(event, now);
      }
      if (this.pending.size > 0 && this.idle.size > 0) this.assign(now);
    }
    const unfinished = this.jobs.filter((job) => job.finishedAt === null);
    if (unfinished.length > 0) {
      throw new Error(`${unfinished.length} job(s) never finished (first: ${unfinished[0]?.builder.name}); a bug`);
    }
    return {
      durationMs: this.durationMs,
      workerCount: this.workers.length,
      jobs: this.jobs.map((job) => ({ branch: job.push.branch, builder: job.builder.name, state: job.state })),
      attempts: this.attempts,
      pushes: [...this.pushJobs].map(([push, jobs]) => ({
        branch: push.branch,
        at: push.at,
        doneAt: Math.max(push.at, ...jobs.map((job) => job.finishedAt as number)),
      })),
      learnedSpeeds: Object.fromEntries(this.workers.map((w) => [w.name, w.learnedSpeed])),
    };
  }

  private createJobs(push: Push, now: number): void {
    const running = this.scenario.builders.filter((b) => b.branches === null || b.branches.has(push.branch));
    const planned = planJobs(running, {
      branch: push.branch,
      branchPriority: this.branchPriority.get(push.branch) as number,
      exact: this.exactBranches.has(push.branch),
    });
    const idByBuilder = new Map<string, number>();
    const created: SimJob[] = [];
    for (const plan of planned) {
      const { builder } = plan;
      const id = this.jobs.length + 1;
      const job: SimJob = {
        id,
        push,
        builder,
        state: plan.state,
        schedulable: {
          id,
          builder: builder.name,
          repo: REPO,
          branch: push.branch,
          pool: this.poolName(builder.pool, this.policyName === 'dedicated' ? push.branch : null),
          priority: plan.priority,
          pendingSince: now,
          requiredTags: {},
          prefer: builder.prefer,
          coalesceLimit: plan.coalesceLimit,
        },
        dependsOn: plan.dependsOn.map((name) => idByBuilder.get(name) as number),
        queuedAt: now,
        attempts: 0,
        maxAttempts: plan.maxAttempts,
        random: seededRandom(this.scenario.seed, `job:${push.id}:${builder.name}`),
        finishedAt: plan.state === 'skipped' ? now : null,
        folded: [],
      };
      idByBuilder.set(builder.name, id);
      this.jobs.push(job);
      created.push(job);
      if (plan.state === 'pending') this.makePending(job, now);
    }
    this.pushJobs.set(push, created);
  }

  private makePending(job: SimJob, now: number): void {
    job.state = 'pending';
    job.queuedAt = now;
    if (job.attempts === 0) job.schedulable = { ...job.schedulable, pendingSince: now };
    this.pending.set(job.id, job);
  }

  private assign(now: number): void {
    const idle: SchedulableWorker[] = [...this.idle].map((worker) => ({
      name: worker.name,
      pool: worker.pool,
      tags: {},
      warm: [...worker.warm.values()],
      speed: worker.learnedSpeed,
      benchedUntil: worker.benchedUntil,
      idleSince: worker.idleSince,
    }));
    const pending = [...this.pending.values()].map((job) => job.schedulable);
    const decisions = schedule({ now, pending, idle, policy: this.policy });
    const byName = new Map([...this.idle].map((w) => [w.name, w]));
    for (const decision of decisions) this.startAttempt(decision, byName.get(decision.worker) as SimWorker, now);
  }

  private startAttempt(decision: Decision, worker: SimWorker, now: number): void {
    const job = this.pending.get(decision.jobId) as SimJob;
    this.pending.delete(job.id);
    job.state = 'running';
    job.attempts += 1;
    this.idle.delete(worker);
    for (const id of decision.coalesced) {
      const folded = this.pending.get(id) as SimJob;
      this.pending.delete(id);
      job.folded.push(folded);
      this.finish(folded, 'coalesced', now);
    }
    const [jitterDraw, exceptionDraw, exceptionPoint, failureDraw] = [
      job.random(),
      job.random(),
      job.random(),
      job.random(),
    ] as [number, number, number, number];
    const warm = worker.warm.get(job.builder.name)?.branch === job.push.branch;
    const duration = runDurationMs(job.builder, warm, worker.group.speed, this.scenario.jitter, jitterDraw);
    const exception = exceptionDraw < worker.group.exceptionRate;
    const outcome = exception ? 'exception' : failureDraw < job.builder.failureRate ? 'failure' : 'success';
    // A broken machine fails somewhere along the way: at a uniform point of the run it would have made.
    const end = now + Math.max(1, exception ? exceptionPoint * duration : duration);
    this.agenda.add(end, { kind: 'attempt-end', worker, job, start: now, outcome });
    this.attempts.push({
      branch: job.push.branch,
      builder: job.builder.name,
      worker: worker.name,
      pendingAt: job.queuedAt,
      start: now,
      end,
    });
  }

  private endAttempt(event: Extract<SimEvent, { kind: 'attempt-end' }>, now: number): void {
    const { worker, job, outcome } = event;
    worker.idleSince = now;
    this.idle.add(worker);
    const reason = outcome === 'exception' ? SIMULATED_EXCEPTION : null;
    this.learn(worker, job, { state: outcome, reason, number: job.attempts, jobId: job.id }, now - event.start, now);
    if (outcome === 'success') {
      worker.warm.set(job.builder.name, { repo: REPO, builder: job.builder.name, branch: job.push.branch, at: now });
    }
    const next = jobAfterAttempt({
      result: outcome,
      reason,
      attemptNumber: job.attempts,
      attemptCount: job.attempts,
      maxAttempts: job.maxAttempts,
    });
    if (next.kind === 'retry') this.makePending(job, now);
    else this.finish(job, next.state, now);
  }

  /** What an ended attempt teaches about its worker: its bench and its learned speed. */
  private learn(worker: SimWorker, job: SimJob, attempt: EndedAttempt, durationMs: number, now: number): void {
    const lesson = workerLesson(attempt, worker.exceptionStreak, now);
    if (lesson.kind === 'bench') {
      worker.exceptionStreak = lesson.streak;
      worker.benchedUntil = lesson.benchedUntil;
      this.agenda.add(lesson.benchedUntil, { kind: 'bench-over' });
    } else if (lesson.kind === 'healthy') {
      worker.exceptionStreak = 0;
      worker.benchedUntil = null;
      if (lesson.learnsSpeed) {
        const recent = this.recentDurations.get(job.builder.name) ?? [];
        worker.learnedSpeed = speedAfterSuccess(worker.learnedSpeed, durationMs, recent);
        // The newest MEDIAN_SAMPLE - 1 runs: with the next one, they make its sample.
        recent.unshift(durationMs);
        if (recent.length >= MEDIAN_SAMPLE) recent.pop();
        this.recentDurations.set(job.builder.name, recent);
      }
    }
  }

  private finish(job: SimJob, state: JobState, now: number): void {
    job.state = state;
    if (state !== 'coalesced') {
      job.finishedAt = now;
      for (const folded of job.folded) folded.finishedAt = now;
    }
    const pushJobs = (this.pushJobs.get(job.push) as SimJob[]).map((j) => ({
      id: j.id,
      builder: j.builder.name,
      state: j.state,
      dependsOn: j.dependsOn,
    }));
    for (const settlement of settleDependents(job.id, pushJobs)) {
      const dependent = this.jobs[settlement.jobId - 1] as SimJob;
      if (settlement.state === 'pending') {
        this.makePending(dependent, now);
      } else {
        dependent.state = 'skipped';
        dependent.finishedAt = now;
      }
    }
  }
}
