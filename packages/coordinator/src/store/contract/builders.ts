/** Small builders the store contract cases share: pushes, workers taking work, reports, refusals. */
import type { AttemptResult, ClaimRequest, CreatePushRequest, Push, StepFinishedRequest } from '@switchyard/protocol';
import { expect } from 'vitest';
import { schedulingPolicy } from '../../scheduler/live-policy.ts';
import type { StoreErrorKind } from '../errors.ts';
import { StoreError } from '../errors.ts';
import type { EventRecord, JobAssignment, LeaseTerms } from '../port.ts';
import type { ContractContext } from './harness.ts';

export const LEASE: LeaseTerms = { leaseMs: 30_000, heartbeatSeconds: 10 };

let revisions = 0;

/** A push to `app` main (unless told otherwise), with a revision never used before. */
export function push(t: ContractContext, request: Partial<CreatePushRequest> = {}): Promise<Push> {
  revisions += 1;
  const revision = revisions.toString(16).padStart(12, '0');
  return t.store.pushes.create(t.farm, {
    repo: 'app',
    branch: 'main',
    revision,
    author: 'Ann <ann@example.org>',
    ...request,
  });
}

/** The id of the push's job of `builder`. */
export function jobOf(pushed: Push, builder: string): number {
  const job = pushed.jobs.find((j) => j.builder === builder);
  if (!job) throw new Error(`push ${pushed.id} has no job of ${builder}`);
  return job.id;
}

/** A worker process asks for work, as the claim broker does: it checks in, then one matching round. */
export async function claim(
  t: ContractContext,
  worker: string,
  request: Partial<ClaimRequest> = {},
): Promise<JobAssignment | null> {
  const claimRequest: ClaimRequest = { pool: 'linux', instance: `${worker}-process`, ...request };
  await t.store.workers.checkIn(worker, claimRequest);
  const assigned = await t.store.jobs.assignWork(
    claimRequest.pool,
    [{ name: worker, idleSince: t.clock.now }],
    schedulingPolicy(t.farm),
    LEASE,
  );
  return assigned.get(worker) ?? null;
}

/** Like `claim`, for a case that needs the work to be there. */
export async function claimJob(
  t: ContractContext,
  worker: string,
  request: Partial<ClaimRequest> = {},
): Promise<JobAssignment> {
  const assignment = await claim(t, worker, request);
  if (!assignment) throw new Error(`worker ${worker} was given no work`);
  return assignment;
}

/** The attempt's worker runs it for `ms` of the clock, heartbeating every third of a lease as workers do. */
export async function keepRunning(t: ContractContext, attemptId: number, ms: number): Promise<void> {
  const every = LEASE.heartbeatSeconds * 1000;
  for (let left = ms; left > 0; left -= every) {
    t.clock.advance(Math.min(left, every));
    await t.store.jobs.heartbeat(attemptId, LEASE.leaseMs);
  }
}

/** The worker reports how its attempt ended, at the clock's time. */
export function finish(t: ContractContext, attemptId: number, result: AttemptResult, reason?: string): Promise<void> {
  return t.store.jobs.attemptFinished(attemptId, { result, reason, finishedAt: t.clock.iso() });
}

/** Claims the next job of the pool and reports `result`; returns the assignment. */
export async function runOnce(
  t: ContractContext,
  worker: string,
  result: AttemptResult,
  request: Partial<ClaimRequest> = {},
) {
  const assignment = await claimJob(t, worker, request);
  await finish(t, assignment.attemptId, result);
  return assignment;
}

export function startStep(t: ContractContext, attemptId: number, index: number, name = `step-${index}`): Promise<void> {
  return t.store.jobs.stepStarted(attemptId, index, { name, startedAt: t.clock.iso() });
}

export function stepEnded(t: ContractContext, overrides: Partial<StepFinishedRequest> = {}): StepFinishedRequest {
  return { exitCode: 0, signal: null, timedOut: false, cancelled: false, finishedAt: t.clock.iso(), ...overrides };
}

/** The events committed after `afterId`, oldest first. */
export async function eventsAfter(t: ContractContext, afterId: number): Promise<EventRecord[]> {
  return t.store.events.readAfter(afterId, 10_000);
}

export async function eventTypesAfter(t: ContractContext, afterId: number): Promise<string[]> {
  return (await eventsAfter(t, afterId)).map((event) => event.type);
}

/** The parsed data of an event. */
export function dataOf<T = Record<string, unknown>>(event: EventRecord | undefined): T {
  if (!event) throw new Error('no such event');
  return JSON.parse(event.data) as T;
}

/** Expects the store to refuse with `kind`; returns the error for a closer look. */
export async function expectRefusal(work: Promise<unknown>, kind: StoreErrorKind): Promise<StoreError> {
  const error = await work.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(StoreError);
  expect((error as StoreError).kind).toBe(kind);
  return error as StoreError;
}
