import type { Attempt, Job, Push, Step, Worker } from './api.ts';

/**
 * The event catalogue. Every state change the coordinator commits appends one or more of these
 * in the same transaction, with an id that increases by commit order.
 */
export interface EventDataMap {
  'push.created': { push: Push };
  'job.waiting': { job: Job };
  'job.pending': { job: Job };
  'job.started': { job: Job; attempt: number; worker: string };
  'job.finished': { job: Job };
  'step.started': { job: Job; attempt: number; step: Step };
  'step.finished': { job: Job; attempt: number; step: Step };
  'attempt.finished': { job: Job; attempt: Omit<Attempt, 'steps'> };
  'worker.connected': { worker: Worker };
  'worker.disconnected': { worker: Worker; reason: string };
  'config.reloaded': { builders: number; repos: number };
}

export type EventType = keyof EventDataMap;

export const EVENT_TYPES = [
  'push.created',
  'job.waiting',
  'job.pending',
  'job.started',
  'job.finished',
  'step.started',
  'step.finished',
  'attempt.finished',
  'worker.connected',
  'worker.disconnected',
  'config.reloaded',
] as const satisfies readonly EventType[];

export interface SwitchyardEvent<T extends EventType = EventType> {
  id: number;
  type: T;
  time: string;
  data: EventDataMap[T];
}

/** What an event may be filtered on; absent fields match everything. */
export interface EventFilter {
  types?: string[];
  repo?: string;
  branch?: string;
  builder?: string;
  job?: number;
  push?: number;
}
