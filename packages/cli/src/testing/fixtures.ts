import type {
  Attempt,
  EventDataMap,
  EventType,
  Job,
  JobDetail,
  Push,
  Step,
  SwitchyardEvent,
  Worker,
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
    steps: [makeStep()],
    ...overrides,
  };
}

export function makeJobDetail(overrides: Partial<JobDetail> = {}): JobDetail {
  return { ...makeJob(), attempts: [makeAttempt()], ...overrides };
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
    ...overrides,
  };
}

/** An event at a local wall-clock time of 09:05:07, whatever the machine's time zone. */
export function makeEvent<T extends EventType>(type: T, data: EventDataMap[T], id = 41): SwitchyardEvent {
  return { id, type, time: new Date(2025, 0, 2, 9, 5, 7).toISOString(), data };
}
