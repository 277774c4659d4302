import {
  type Attempt,
  type EventDataMap,
  type EventType,
  eventAttributes,
  type Job,
  type JobDetail,
  type Push,
  routingKeyOf,
  type Step,
  type SwitchyardEvent,
  type Worker,
} from '@switchyard/protocol';

/** API objects as the coordinator sends them, with sensible values; tests override what they look at. */
export function makeJob(overrides: Partial<Job> = {}): Job {
  return {
    id: 12,
    pushId: 3,
    repo: 'demo',
    branch: 'main',
    revision: 'abc1234def5678abc1234def5678abc1234def56',
    author: 'Ada Lovelace <ada@example.com>',
    builder: 'build-linux',
    pool: 'linux',
    state: 'success',
    reason: null,
    attemptCount: 1,
    maxAttempts: 3,
    dependsOn: [],
    retriggeredFrom: null,
    priority: 4,
    exact: false,
    coalescedInto: null,
    worker: 'w1',
    createdAt: '2025-01-02T09:00:00.000Z',
    pendingAt: '2025-01-02T09:00:00.000Z',
    startedAt: '2025-01-02T09:00:01.000Z',
    finishedAt: '2025-01-02T09:00:04.200Z',
    durationMs: 3200,
    ...overrides,
  };
}

export function makeStep(overrides: Partial<Step> = {}): Step {
  return {
    index: 0,
    name: 'compile',
    state: 'success',
    exitCode: 0,
    signal: null,
    startedAt: '2025-01-02T09:00:01.000Z',
    finishedAt: '2025-01-02T09:00:03.100Z',
    durationMs: 2100,
    logBytes: 512,
    ...overrides,
  };
}

export function makeAttempt(overrides: Partial<Attempt> = {}): Attempt {
  return {
    id: 40,
    number: 1,
    worker: 'w1',
    state: 'success',
    reason: null,
    message: null,
    startedAt: '2025-01-02T09:00:01.000Z',
    finishedAt: '2025-01-02T09:00:04.200Z',
    durationMs: 3200,
    leaseExpiresAt: null,
    timings: null,
    steps: [makeStep()],
    ...overrides,
  };
}

export function makeJobDetail(overrides: Partial<JobDetail> = {}): JobDetail {
  return {
    ...makeJob(),
    attempts: [makeAttempt()],
    scheduling: {
      waitingBecause: null,
      chosenBecause: "first in its pool's queue",
      queuePosition: null,
      effectivePriority: null,
    },
    ...overrides,
  };
}

export function makePush(overrides: Partial<Push> = {}): Push {
  return {
    id: 3,
    repo: 'demo',
    branch: 'main',
    revision: 'abc1234def5678abc1234def5678abc1234def56',
    author: 'Ada Lovelace <ada@example.com>',
    message: 'Parse nested blocks\n\nAnd say why.',
    files: ['src/parser.txt'],
    createdAt: '2025-01-02T09:00:00.000Z',
    jobs: [
      { id: 12, builder: 'build', state: 'pending', attemptCount: 0 },
      { id: 13, builder: 'test-unit', state: 'waiting', attemptCount: 0 },
    ],
    ...overrides,
  };
}

export function makeWorker(overrides: Partial<Worker> = {}): Worker {
  return {
    name: 'w1',
    pool: 'linux',
    tags: {},
    state: 'busy',
    currentJob: 12,
    currentAttempt: 40,
    version: '0.1.0',
    firstSeen: '2025-01-02T08:00:00.000Z',
    lastSeen: '2025-01-02T09:00:00.000Z',
    warm: [],
    speed: null,
    exceptionStreak: 0,
    benchedUntil: null,
    ...overrides,
  };
}

type FinishedFacts = 'result' | 'attempt' | 'artifacts';

/** A `job.finished` event's data may leave out what follows from its job. */
type EventDataFixture<T extends EventType> = T extends 'job.finished'
  ? Omit<EventDataMap[T], FinishedFacts> & Partial<Pick<EventDataMap[T], FinishedFacts>>
  : EventDataMap[T];

/** An event at a local wall-clock time of 09:05:07, whatever the machine's time zone. */
export function makeEvent<T extends EventType>(type: T, given: EventDataFixture<T>, id = 41): SwitchyardEvent {
  const data = (
    type === 'job.finished' ? withFinishedFacts(given as EventDataFixture<'job.finished'>) : given
  ) as EventDataMap[T];
  const routingKey = routingKeyOf(type, eventAttributes(type, data));
  return { id, type, time: new Date(2025, 0, 2, 9, 5, 7).toISOString(), routingKey, data };
}

function withFinishedFacts(given: EventDataFixture<'job.finished'>): EventDataMap['job.finished'] {
  return { result: given.job.state, attempt: given.job.attemptCount, artifacts: [], ...given };
}
