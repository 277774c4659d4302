import Type, { type TSchema } from 'typebox';
import { Attempt, Job, JobStateSchema, Push, Step, Worker } from './api.ts';
import { Artifact } from './artifacts.ts';
import type { EventType } from './event-types.ts';
import { SigningSummary } from './signing.ts';

export * from './event-types.ts';

const Count = Type.Integer({ minimum: 0 });

/** A file a finished job uploaded, with where to fetch it. */
export const ArtifactLink = Type.Object({
  name: Type.String(),
  size: Count,
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  contentType: Type.String(),
  url: Type.String({ description: 'where its bytes are, relative to the coordinator: /api/v1/blobs/sha256/<hex>' }),
});

/** How a push went, once every one of its jobs is final. */
export const PushSummary = Type.Object({
  result: JobStateSchema,
  jobs: Count,
  counts: Type.Record(Type.String(), Count, { description: 'jobs by final state' }),
  durationMs: Count,
  finishedAt: Type.String({ format: 'date-time' }),
  notSucceeded: Type.Array(
    Type.Object({
      id: Type.Integer({ minimum: 1 }),
      builder: Type.String(),
      state: JobStateSchema,
      reason: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
});

export type ArtifactLink = Type.Static<typeof ArtifactLink>;
export type PushSummary = Type.Static<typeof PushSummary>;

const AttemptView = Type.Omit(Attempt, ['steps'], { description: 'the attempt, without its steps' });
const AttemptNumber = Type.Integer({ minimum: 1, description: 'the attempt number, from 1' });

/**
 * The event catalogue: the schema of each type's `data`. Every state change the coordinator
 * commits appends one or more events in the same transaction, with an id that increases by
 * commit order. A new type is added here, with its description and schema version, and its name
 * in EVENT_TYPES (event-types.ts).
 */
export const EVENT_DATA = {
  'push.created': Type.Object({ push: Push }),
  'push.completed': Type.Object({ push: Push, summary: PushSummary }),
  'job.waiting': Type.Object({ job: Job }),
  'job.pending': Type.Object({ job: Job }),
  'job.started': Type.Object({
    job: Job,
    attempt: Type.Integer({ minimum: 1, description: 'the attempt number, from 1' }),
    worker: Type.String({ description: 'the worker that claimed it' }),
  }),
  'job.finished': Type.Object({
    job: Job,
    result: JobStateSchema,
    attempt: Type.Integer({ minimum: 0, description: 'attempts used' }),
    artifacts: Type.Array(ArtifactLink, { description: 'what its attempts uploaded' }),
  }),
  'step.started': Type.Object({ job: Job, attempt: AttemptNumber, step: Step }),
  'step.finished': Type.Object({ job: Job, attempt: AttemptNumber, step: Step }),
  'attempt.finished': Type.Object({ job: Job, attempt: AttemptView }),
  'worker.connected': Type.Object({ worker: Worker }),
  'worker.disconnected': Type.Object({
    worker: Worker,
    reason: Type.String({ description: 'why it was marked offline, e.g. no claim for 90 s' }),
  }),
  'worker.benched': Type.Object({
    worker: Worker,
    until: Type.String({ format: 'date-time', description: 'it gets no work until then' }),
    streak: Type.Integer({ minimum: 1, description: 'attempts in a row that ended in exception' }),
    reason: Type.String({ description: 'the last of them, e.g. attempt 2 of job 9 ended in exception (worker-lost)' }),
  }),
  'config.reloaded': Type.Object({
    builders: Type.Integer({ minimum: 0, description: 'builders in the new config' }),
    repos: Type.Integer({ minimum: 0, description: 'repos in the new config' }),
  }),
  'artifact.created': Type.Object({ job: Job, artifact: Artifact }),
  'signing.finished': Type.Object({ job: Job, attempt: AttemptNumber, signing: SigningSummary }),
  'subscription.changed': Type.Object({
    subscription: Type.Integer({ minimum: 1, description: 'the subscription id' }),
    change: Type.Union([Type.Literal('created'), Type.Literal('deleted'), Type.Literal('redelivery')], {
      description: 'redelivery: a delivery was queued again',
    }),
  }),
} satisfies { [T in EventType]: TSchema };

export type EventDataMap = { [T in EventType]: Type.Static<(typeof EVENT_DATA)[T]> };

/** What each type means and the version of its schema (bumped on an incompatible change). */
export const EVENT_DESCRIPTIONS: { [T in EventType]: { version: number; description: string } } = {
  'push.created': { version: 1, description: 'A push was recorded; `push.jobs` has its jobs and their first states.' },
  'push.completed': {
    version: 1,
    description:
      'Every job of a push is final (again, after a retrigger). `summary.result` is the worst outcome: ' +
      'failure, exception, cancelled, skipped, coalesced, then success.',
  },
  'job.waiting': { version: 1, description: 'A job was created that waits for its `after` dependencies.' },
  'job.pending': {
    version: 1,
    description: 'A job is ready to run: created ready, its dependencies succeeded, or re-queued for a retry.',
  },
  'job.started': { version: 1, description: 'A worker claimed the job: `attempt` is the attempt number.' },
  'job.finished': {
    version: 1,
    description: 'The job reached its final state `result`, with the attempts it used and its artifacts.',
  },
  'step.started': { version: 1, description: 'A step (including the implicit `checkout`) started.' },
  'step.finished': { version: 1, description: 'A step ended: its state, exit code, signal and duration.' },
  'attempt.finished': {
    version: 1,
    description: 'An attempt ended: success, failure, exception (with `reason`), or cancelled.',
  },
  'worker.connected': {
    version: 1,
    description: 'A worker claimed work for the first time, or again after being offline.',
  },
  'worker.disconnected': { version: 1, description: 'A worker was marked offline; `reason` says why.' },
  'worker.benched': {
    version: 1,
    description:
      'After attempts in a row ended in exception, the worker gets no work until `until` (10 s doubling up to 1 h).',
  },
  'config.reloaded': { version: 1, description: 'A SIGHUP reload was accepted: counts of the new config.' },
  'artifact.created': {
    version: 1,
    description:
      "A running job's attempt uploaded an artifact (or replaced an earlier attempt's of that name): name, sha256, size, blob URL.",
  },
  'signing.finished': {
    version: 1,
    description:
      "A job's signing step ended and its attempt reported: files signed, formats, signer cache hits, files never uploaded, seconds.",
  },
  'subscription.changed': {
    version: 1,
    description:
      'A webhook subscription was created or deleted through the API, or a delivery was queued again: every coordinator process delivering webhooks picks it up.',
  },
};

export interface SwitchyardEvent<T extends EventType = EventType> {
  id: number;
  type: T;
  time: string;
  /** Topic words for brokers and pattern filters; see routing-key.ts. */
  routingKey: string;
  data: EventDataMap[T];
}

/** What an event may be filtered on; absent fields match everything. */
export interface EventFilter {
  types?: string[];
  repo?: string;
  branch?: string;
  builder?: string;
  /** The outcome: a final job state, or an attempt's or step's state, or a push summary's result. */
  result?: string;
  /** The author in full (`Ada <ada@example.org>`), or only the name or the e-mail address. */
  author?: string;
  /** An AMQP-style topic pattern over the routing key: `*` one word, `#` zero or more. */
  routingKey?: string;
  job?: number;
  push?: number;
}
