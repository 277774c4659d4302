import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Assignment,
  type AttemptTimings,
  CHECKOUT_STEP,
  FETCH_STEP,
  type ReportEntry,
  SIGN_STEP,
  type SigningSummary,
  type StepSpec,
  type SwitchyardClient,
  TOOLS_STEP,
  UPLOAD_STEP,
} from '@switchyard/protocol';
import type { Logger } from 'pino';
import { type ArtifactStepContext, startFetchArtifacts, startUploadArtifacts } from './artifact-steps.ts';
import {
  type AttemptConclusion,
  concludeInterruption,
  concludeStep,
  describeInterruption,
  describeOutcome,
  type Interruption,
} from './attempt-conclusion.ts';
import { type SelfFencing, selfFencing, startHeartbeat } from './heartbeat.ts';
import type { InProcessStep } from './in-process-step.ts';
import { prepareJobDirectory, pruneJobDirectories } from './job-directory.ts';
import { Outbox } from './outbox.ts';
import { type SignStepContext, startSignFiles } from './sign-step.ts';
import { StepLog } from './step-log.ts';
import { type RunningStep, type StepOutcome, startStep } from './step-runner.ts';
import { handOver, type StepUser } from './step-user.ts';
import { startCheckoutStep, startToolsStep, type TreeStepContext, toolStoreUrls, treeDirectory } from './tree-steps.ts';

export interface AttemptOptions {
  /** The worker's client: its own credential claims and heartbeats, nothing else. */
  client: SwitchyardClient;
  assignment: Assignment;
  /** `performance.now()` when the claim answered with this assignment: the lease starts there. */
  receivedAt: number;
  workDir: string;
  /** A regional cache to fetch artifacts through (`switchyard proxy`, upstream `artifacts`). */
  cache: string | undefined;
  /** The repository stores, shared with other workers on the machine. */
  repoStore: string;
  toolCache: { dir: string; maxBytes: number };
  killGraceMs: number;
  /** `--run-as`: the user build steps run as; undefined: the worker's own. */
  stepUser?: StepUser | undefined;
  logger: Logger;
  /** Aborted when the worker stops: the attempt is given up and reported as `worker-stopped`. */
  stopSignal: AbortSignal;
  /** Once stopping, how long the last reports may take to reach the coordinator. */
  stopReportTimeoutMs: number;
  /**
   * Give the reports still queued at the end to the caller (`heldReport`), to deliver with the
   * next claim, rather than waiting for each to be answered: a job's end and the next claim
   * then take one request. Not while the worker stops: then no claim follows.
   */
  holdLastReports?: boolean;
}

/** A lease is at least several seconds; renewing it a second after the claim granted it is early enough. */
const FIRST_HEARTBEAT_AFTER_MS = 1000;

interface PlannedStep {
  name: string;
  /** A build step's command, rather than the worker's own work (checkout, fetch, upload). */
  command?: boolean;
  start: (log: StepLog) => RunningStep;
  /** How the step's end bears on the attempt: null to go on. */
  conclude: (outcome: StepOutcome) => AttemptConclusion | null;
  /** The step's closing log line, when it is not a command's exit. */
  describe?: (outcome: StepOutcome) => string;
}

/** Reports of an attempt not delivered yet, handed to the claim loop to send with its next claim. */
export interface HeldReport {
  attemptId: number;
  /** The attempt's own credential: only it may deliver the attempt's reports. */
  attemptToken: string;
  entries: ReportEntry[];
}

/**
 * How an attempt ended: what was reported (or is held to be reported with the next claim), or
 * that the lease was lost and nothing was.
 */
export type AttemptEnd = (AttemptConclusion & { heldReport?: HeldReport }) | { leaseLost: true };

/**
 * Runs one attempt to its end: a fresh job directory, the checkout, the steps in order, the
 * heartbeats that keep the lease, and every report through one ordered outbox. Resolves once
 * the reports are delivered (or given up), so the worker claims its next job only then.
 */
export function runAttempt(options: AttemptOptions): Promise<AttemptEnd> {
  return new AttemptRunner(options).run();
}

class AttemptRunner {
  private readonly logger: Logger;
  /** The client that acts on this attempt: its reports, log and uploads carry the attempt's own credential. */
  private readonly attemptClient: SwitchyardClient;
  private readonly outbox: Outbox;
  private readonly fencing: SelfFencing;
  private interruption: Interruption | null = null;
  private current: RunningStep | null = null;
  private stepsDone = false;
  /** Set by a 409 lease-lost from any request, even once the steps are done. */
  private leaseLost = false;
  /** What the checkout and tools steps measured, reported with the attempt's end. */
  private readonly timings: AttemptTimings = {};
  /** What the signing step did, reported with the attempt's end (`signing.finished`). */
  private signing: SigningSummary | null = null;

  constructor(private readonly options: AttemptOptions) {
    const { assignment } = options;
    this.logger = options.logger.child({ jobId: assignment.job.id, attemptId: assignment.attemptId });
    this.attemptClient = options.client.withToken(assignment.attemptToken);
    const attemptClient = this.attemptClient;
    this.outbox = new Outbox({
      logger: this.logger,
      onLeaseLost: () => this.interrupt({ kind: 'lease-lost' }),
      sendBatch: async (entries, signal) => {
        const { cancel } = await attemptClient.report(assignment.attemptId, { entries }, signal);
        if (cancel) this.interrupt({ kind: 'cancelled' });
      },
    });
    this.fencing = selfFencing(assignment.leaseSeconds, options.killGraceMs);
  }

  async run(): Promise<AttemptEnd> {
    const { assignment, stopSignal, workDir } = this.options;
    const { job } = assignment;
    this.logger.info(
      { builder: job.builder, repo: job.repo.name, branch: job.branch, revision: job.revision },
      `attempt ${assignment.attemptNumber} started`,
    );
    const heartbeat = startHeartbeat({
      client: this.options.client,
      attemptId: assignment.attemptId,
      waitSeconds: assignment.heartbeatSeconds,
      fenceAfterMs: this.fencing.afterMs,
      leaseGrantedAt: this.options.receivedAt,
      firstAfterMs: FIRST_HEARTBEAT_AFTER_MS,
      logger: this.logger,
      onCancel: () => this.interrupt({ kind: 'cancelled' }),
      onLeaseLost: () => this.interrupt({ kind: 'lease-lost' }),
      onLostContact: (silentMs, coordinatorAway) => this.interrupt({ kind: 'lost-contact', silentMs, coordinatorAway }),
    });
    const onStop = () => this.interrupt({ kind: 'worker-stopped' });
    stopSignal.addEventListener('abort', onStop, { once: true });
    if (stopSignal.aborted) onStop();

    let jobDir: string | null = null;
    let conclusion: AttemptConclusion | null;
    try {
      jobDir = await prepareJobDirectory(workDir, job.id, assignment.attemptNumber);
      conclusion = await this.runSteps(jobDir);
    } catch (error) {
      // Our own failure (a full disk, say): infrastructure. What the job itself keeps from starting
      // ends its step instead, as invalid-job (see concludeStep).
      this.logger.error({ err: error }, 'attempt failed in the worker');
      conclusion = { result: 'exception', reason: 'worker-error', message: (error as Error).message };
    }
    this.stepsDone = true;
    if (conclusion) this.outbox.enqueue(this.attemptFinishedMessage(conclusion));
    const held = this.options.holdLastReports && !stopSignal.aborted ? await this.outbox.handOff() : [];
    if (held.length === 0) await this.deliverReports();
    heartbeat.stop();
    stopSignal.removeEventListener('abort', onStop);
    if (jobDir) await this.pruneOtherJobDirectories(jobDir);

    if (!conclusion || this.leaseLost) {
      this.logger.warn('attempt abandoned: the lease was lost');
      return { leaseLost: true };
    }
    this.logger.info(conclusion, `attempt finished: ${conclusion.result}`);
    return held.length > 0
      ? {
          ...conclusion,
          heldReport: { attemptId: assignment.attemptId, attemptToken: assignment.attemptToken, entries: held },
        }
      : conclusion;
  }

  /** Null when there is nothing to report: the lease was lost. */
  private async runSteps(jobDir: string): Promise<AttemptConclusion | null> {
    const srcDir = this.sourceDirectory(jobDir);
    if (!this.options.assignment.job.checkout) await mkdir(srcDir, { recursive: true });
    let handedOver = false;
    for (const [index, planned] of this.plannedSteps(jobDir, srcDir).entries()) {
      const interruptedBefore = this.interruptedConclusion();
      if (interruptedBefore !== undefined) return interruptedBefore;
      const { stepUser } = this.options;
      if (planned.command && stepUser && !handedOver) {
        // What the worker wrote as root (the checkout, fetched artifacts) becomes the step user's to build in.
        await handOver(srcDir, stepUser);
        if (!srcDir.startsWith(`${jobDir}/`)) await handOver(jobDir, stepUser);
        handedOver = true;
      }
      const outcome = await this.runStep(index, planned);
      const interruptedDuring = this.interruptedConclusion();
      if (interruptedDuring !== undefined) return interruptedDuring;
      const conclusion = planned.conclude(outcome);
      if (conclusion) return conclusion;
    }
    return { result: 'success' };
  }

  /**
   * Where the steps run: the worker's tree of the repository, kept between jobs so a checkout
   * writes only what changed, or an empty directory in the job's own when there is no checkout.
   */
  private sourceDirectory(jobDir: string): string {
    const { job } = this.options.assignment;
    return job.checkout ? treeDirectory(this.options.workDir, job) : join(jobDir, 'src');
  }

  /** The job's steps, after the implicit checkout when there is one: indexes follow this order. */
  private plannedSteps(jobDir: string, srcDir: string): PlannedStep[] {
    const { job } = this.options.assignment;
    const steps = job.steps.map(
      (step): PlannedStep => ({
        name: step.name,
        command: true,
        start: (log) => {
          log.header(`$ ${step.run}\n`);
          return startStep({
            file: '/bin/sh',
            args: ['-c', step.run],
            cwd: srcDir,
            env: this.stepEnvironment(step),
            timeoutSeconds: step.timeoutSeconds,
            killGraceMs: this.options.killGraceMs,
            output: log,
            user: this.options.stepUser,
          });
        },
        conclude: (outcome) => concludeStep(step.name, step.timeoutSeconds, outcome),
      }),
    );
    const artifacts = this.artifactStepContext(jobDir, srcDir);
    if (job.fetch?.length) steps.unshift(inProcess(FETCH_STEP, (log) => startFetchArtifacts(artifacts, log)));
    if (job.sign?.length) steps.push(inProcess(SIGN_STEP, (log) => startSignFiles(this.signStepContext(srcDir), log)));
    if (job.artifacts?.length) steps.push(inProcess(UPLOAD_STEP, (log) => startUploadArtifacts(artifacts, log)));
    if (!job.checkout) return steps;
    const tree = this.treeStepContext(srcDir);
    const before = [inProcess(CHECKOUT_STEP, (log) => startCheckoutStep(tree, log))];
    if (job.tools !== undefined) before.push(inProcess(TOOLS_STEP, (log) => startToolsStep(tree, log)));
    return [...before, ...steps];
  }

  private treeStepContext(srcDir: string): TreeStepContext {
    const { client, assignment, cache, repoStore, toolCache } = this.options;
    return {
      job: assignment.job,
      srcDir,
      repoStore,
      toolCache,
      toolUrls: toolStoreUrls(client.server, cache),
      token: assignment.attemptToken,
      timings: this.timings,
      leaseSeconds: assignment.leaseSeconds,
    };
  }

  private artifactStepContext(jobDir: string, srcDir: string): ArtifactStepContext {
    const { assignment, cache } = this.options;
    return {
      client: this.attemptClient,
      token: assignment.attemptToken,
      cache,
      job: assignment.job,
      jobDir,
      srcDir,
      leaseSeconds: assignment.leaseSeconds,
      onLeaseLost: () => this.interrupt({ kind: 'lease-lost' }),
    };
  }

  private signStepContext(srcDir: string): SignStepContext {
    const { assignment } = this.options;
    return {
      sign: assignment.job.sign ?? [],
      signing: assignment.signing,
      srcDir,
      patienceMs: assignment.leaseSeconds * 1000,
      onSummary: (summary) => {
        this.signing = summary;
      },
    };
  }

  /** One step, reported as started, logged, and reported as finished, all in outbox order. */
  private async runStep(index: number, planned: PlannedStep): Promise<StepOutcome> {
    const { name, start } = planned;
    const { assignment } = this.options;
    const client = this.attemptClient;
    const { attemptId } = assignment;
    const startedAt = new Date().toISOString();
    this.outbox.enqueue({
      description: `step ${index} started`,
      bytes: 0,
      send: async (signal) => {
        await client.stepStarted(attemptId, index, { name, startedAt }, signal);
      },
      entry: () => ({ kind: 'step-started', index, name, startedAt }),
      linger: true,
    });
    const log = new StepLog({
      client,
      attemptId,
      stepIndex: index,
      outbox: this.outbox,
      onCancel: () => this.interrupt({ kind: 'cancelled' }),
    });
    this.current = start(log);
    const outcome = await this.current.finished;
    this.current = null;
    log.header(`${(planned.describe ?? describeOutcome)(outcome)}\n`);
    log.end();
    const finishedAt = new Date().toISOString();
    const { exitCode, signal: exitSignal, timedOut, cancelled } = outcome;
    const finished = { exitCode, signal: exitSignal, timedOut, cancelled, finishedAt };
    this.outbox.enqueue({
      description: `step ${index} finished`,
      bytes: 0,
      send: async (signal) => {
        await client.stepFinished(attemptId, index, finished, signal);
      },
      entry: () => ({ kind: 'step-finished', index, ...finished }),
    });
    this.logger.info({ step: index, name, ...outcome }, `step ${name} ${describeOutcome(outcome)}`);
    return outcome;
  }

  private attemptFinishedMessage(conclusion: AttemptConclusion) {
    const { assignment } = this.options;
    const client = this.attemptClient;
    const finishedAt = new Date().toISOString();
    const report = () => {
      const timings = Object.keys(this.timings).length > 0 ? { timings: this.timings } : {};
      const signing = this.signing ? { signing: this.signing } : {};
      return { ...conclusion, finishedAt, ...timings, ...signing };
    };
    return {
      description: 'attempt finished',
      bytes: 0,
      send: async (signal: AbortSignal) => {
        await client.attemptFinished(assignment.attemptId, report(), signal);
      },
      entry: () => ({ kind: 'attempt-finished' as const, ...report() }),
    };
  }

  /**
   * Something from outside ends the attempt early. The first interruption decides the report;
   * only a lost lease overrides an earlier one, since then nothing may be reported at all.
   */
  private interrupt(interruption: Interruption): void {
    if (interruption.kind === 'lease-lost') {
      this.leaseLost = true;
      this.outbox.close();
    }
    if (this.stepsDone) return;
    const earlier = this.interruption;
    if (earlier && (earlier.kind === 'lease-lost' || interruption.kind !== 'lease-lost')) return;
    this.interruption = interruption;
    this.logger.warn({ interruption: interruption.kind }, describeInterruption(interruption));
    this.current?.cancel(describeInterruption(interruption), this.killGraceFor(interruption));
  }

  /** The report an interruption calls for; undefined when there was none. */
  private interruptedConclusion(): AttemptConclusion | null | undefined {
    return this.interruption ? concludeInterruption(this.interruption) : undefined;
  }

  private killGraceFor(interruption: Interruption): number {
    // Another worker may be running the job already: no grace at all.
    if (interruption.kind === 'lease-lost') return 0;
    if (interruption.kind === 'lost-contact') return this.fencing.killGraceMs;
    return this.options.killGraceMs;
  }

  private stepEnvironment(step: StepSpec): NodeJS.ProcessEnv {
    const { assignment } = this.options;
    const { job } = assignment;
    // The worker's own credentials are not the job's: a build step must not be able to act as the worker.
    const { SWITCHYARD_TOKEN: _workerToken, ...inherited } = process.env;
    return {
      ...inherited,
      ...job.env,
      ...step.env,
      SWITCHYARD_JOB_ID: String(job.id),
      SWITCHYARD_REPO: job.repo.name,
      SWITCHYARD_BRANCH: job.branch,
      SWITCHYARD_REVISION: job.revision,
      SWITCHYARD_BUILDER: job.builder,
      SWITCHYARD_ATTEMPT: String(assignment.attemptNumber),
      SWITCHYARD_STEP: step.name,
      ...(this.options.stepUser && {
        HOME: this.options.stepUser.home,
        USER: this.options.stepUser.name,
        LOGNAME: this.options.stepUser.name,
      }),
      ...(assignment.signing && {
        SWITCHYARD_SIGNER: assignment.signing.url,
        SWITCHYARD_SIGNING_TOKEN: assignment.signing.token,
      }),
    };
  }

  /**
   * Waits for the outbox to deliver everything. A stopping worker waits only so long: the
   * reports are best effort then, and the coordinator's lease expiry covers what is lost.
   */
  private async deliverReports(): Promise<void> {
    const { stopSignal, stopReportTimeoutMs } = this.options;
    let timer: NodeJS.Timeout | undefined;
    let startTimer = () => {};
    const gaveUp = new Promise<void>((resolve) => {
      startTimer = () => {
        timer = setTimeout(resolve, stopReportTimeoutMs);
      };
    });
    if (stopSignal.aborted) startTimer();
    else stopSignal.addEventListener('abort', startTimer, { once: true });
    await Promise.race([this.outbox.idle(), gaveUp]);
    clearTimeout(timer);
    stopSignal.removeEventListener('abort', startTimer);
    if (this.outbox.pendingMessages > 0) {
      this.logger.warn({ undelivered: this.outbox.pendingMessages }, 'stopping; reports not delivered were dropped');
    }
    this.outbox.close();
  }

  private async pruneOtherJobDirectories(keep: string): Promise<void> {
    for (const failure of await pruneJobDirectories(this.options.workDir, keep)) {
      this.logger.warn(failure, 'could not remove an old job directory');
    }
  }
}

/** A step the worker runs itself; its log line says how it went instead of an exit code. */
function inProcess(name: string, start: (log: StepLog) => InProcessStep): PlannedStep {
  let running: InProcessStep | null = null;
  return {
    name,
    start: (log) => {
      running = start(log);
      return running;
    },
    conclude: () => running?.conclusion ?? null,
    describe: (outcome) => (outcome.cancelled ? 'stopped' : outcome.exitCode === 0 ? 'done' : 'failed'),
  };
}
