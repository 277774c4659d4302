import { LOG_CONTENT_TYPE } from '@switchyard/protocol';
import { describe, expect, it } from 'vitest';
import { authSection, bearer, expectError, FARM_YAML, inProcessCoordinator, now } from '../inject-testing.ts';

const coordinator = inProcessCoordinator(FARM_YAML + authSection(true), 'test');

/** A push, and its build claimed by `worker`: the attempt's id. */
async function runningAttempt(worker = 'w1'): Promise<number> {
  await coordinator.push();
  const assignment = await coordinator.claim(worker);
  if (!assignment) throw new Error(`${worker} was given no work`);
  return assignment.attemptId;
}

const stepStarted = (name = 'compile') => ({ name, startedAt: now() });
const stepFinished = { exitCode: 0, signal: null, timedOut: false, cancelled: false, finishedAt: now() };

describe('claims', () => {
  it('answers a claim with an assignment, or with null when there is no work', async () => {
    expect(await coordinator.claim('w1')).toBeNull();
    const push = await coordinator.push();
    const assignment = await coordinator.claim('w1');
    expect(assignment).toMatchObject({
      attemptNumber: 1,
      leaseSeconds: 30,
      heartbeatSeconds: 10,
      job: { pushId: push.id },
    });
    const workers = await coordinator.inject({ url: '/api/v1/workers' });
    expect(workers.json().workers).toMatchObject([{ name: 'w1', state: 'busy', currentJob: assignment?.job.id }]);
  });

  it('refuses a bad worker name or body: 400; a missing or wrong token: 401, 403', async () => {
    const claim = (name: string, payload: unknown, headers = bearer('worker')) =>
      coordinator.inject({ method: 'POST', url: `/api/v1/workers/${name}/claim`, headers, payload: payload as object });
    expectError(await claim('-dash', { pool: 'linux', waitSeconds: 0 }), 400, 'invalid-request');
    expectError(await claim('w1', { waitSeconds: 0 }), 400, 'invalid-request');
    expectError(await claim('w1', { pool: 'linux', waitSeconds: 500 }), 400, 'invalid-request');
    expectError(await claim('w1', { pool: 'linux' }, {}), 401, 'unauthenticated');
    expectError(await claim('w1', { pool: 'linux' }, bearer('push')), 403, 'forbidden');
  });

  it('refuses a second worker process under a name whose lease is live: 409 name-in-use', async () => {
    await runningAttempt('w1');
    const refusal = await coordinator.inject({
      method: 'POST',
      url: '/api/v1/workers/w1/claim',
      headers: bearer('worker'),
      payload: { pool: 'linux', instance: 'another-process', waitSeconds: 0 },
    });
    expect(expectError(refusal, 409, 'name-in-use').details).toMatchObject({ attempt: expect.any(Number) });
  });
});

describe('heartbeats', () => {
  it('renews the lease: 200; says cancel once the job is cancelled', async () => {
    const attemptId = await runningAttempt();
    const beat = await coordinator.report(attemptId, 'heartbeat');
    expect(beat.statusCode).toBe(200);
    expect(beat.json()).toMatchObject({ cancel: false, heldMs: 0 });
    const job = (await coordinator.store.jobs.list({ limit: 1, states: ['running'] }))[0];
    await coordinator.inject({ method: 'POST', url: `/api/v1/jobs/${job?.id}/cancel`, headers: bearer('cancel') });
    expect((await coordinator.report(attemptId, 'heartbeat')).json()).toMatchObject({ cancel: true });
  });

  it('refuses one for an attempt that ended: 409 lease-lost; for none: 404; a bad wait: 400', async () => {
    const attemptId = await runningAttempt();
    await coordinator.report(attemptId, 'finished', { result: 'success', finishedAt: now() });
    const lost = expectError(await coordinator.report(attemptId, 'heartbeat'), 409, 'lease-lost');
    expect(lost.details).toEqual({ state: 'success', reason: null });
    expectError(await coordinator.report(99999, 'heartbeat'), 404, 'not-found');
    expectError(await coordinator.report(attemptId, 'heartbeat?wait=600'), 400, 'invalid-request');
  });
});

describe('step reports', () => {
  it('records a step start and finish: 200, repeats included; another name at the index: 409', async () => {
    const attemptId = await runningAttempt();
    for (let i = 0; i < 2; i++) {
      const started = await coordinator.report(attemptId, 'steps/0/started', stepStarted());
      expect(started.json()).toEqual({ ok: true });
    }
    expectError(await coordinator.report(attemptId, 'steps/0/started', stepStarted('other')), 409, 'conflict');
    for (let i = 0; i < 2; i++) {
      expect((await coordinator.report(attemptId, 'steps/0/finished', stepFinished)).statusCode).toBe(200);
    }
    expectError(await coordinator.report(attemptId, 'steps/1/finished', stepFinished), 409, 'conflict');
  });

  it('refuses a report that breaks the schema: 400; of an ended attempt: 409 lease-lost', async () => {
    const attemptId = await runningAttempt();
    expectError(await coordinator.report(attemptId, 'steps/0/started', { name: 'x' }), 400, 'invalid-request');
    expectError(await coordinator.report(attemptId, 'steps/5000/started', stepStarted()), 400, 'invalid-request');
    await coordinator.report(attemptId, 'finished', { result: 'failure', finishedAt: now() });
    expectError(await coordinator.report(attemptId, 'steps/0/started', stepStarted()), 409, 'lease-lost');
  });
});

describe('log batches', () => {
  it('appends batches in order: a repeat is acknowledged, a gap refused with the batch expected', async () => {
    const attemptId = await runningAttempt();
    await coordinator.report(attemptId, 'steps/0/started', stepStarted());
    const first = await coordinator.appendLog(attemptId, 0, 0, 'hello\n');
    expect(first.json()).toEqual({ bytes: 11, cancel: false });
    expect((await coordinator.appendLog(attemptId, 0, 0, 'hello\n')).json()).toEqual({ bytes: 11, cancel: false });
    const gap = expectError(await coordinator.appendLog(attemptId, 0, 5, 'later\n'), 409, 'log-sequence-gap');
    expect(gap.details).toEqual({ expected: 1 });
    expectError(await coordinator.appendLog(attemptId, 3, 0, 'nowhere\n'), 409, 'conflict');
  });

  it('takes only log frames: 415 for another type, 400 for frames that do not parse', async () => {
    const attemptId = await runningAttempt();
    await coordinator.report(attemptId, 'steps/0/started', stepStarted());
    const send = (contentType: string, payload: string | Buffer) =>
      coordinator.inject({
        method: 'POST',
        url: `/api/v1/attempts/${attemptId}/log?step=0&seq=0`,
        headers: { ...coordinator.attemptCredential(attemptId), 'content-type': contentType },
        payload,
      });
    expectError(await send('text/plain', 'hello'), 415, 'unsupported-media-type');
    expectError(await send('application/json', '{"text":"hello"}'), 415, 'unsupported-media-type');
    expectError(await send(LOG_CONTENT_TYPE, Buffer.from([0x6f, 0, 0, 0, 9, 1])), 400, 'invalid-log-frames');
  });
});

describe('attempt reports', () => {
  it('ends the attempt: 200, a repeat too; a contradicting one: 409 lease-lost; a bad result: 400', async () => {
    const attemptId = await runningAttempt();
    const finished = { result: 'success', finishedAt: now(), timings: { checkoutMs: 10 } };
    expect((await coordinator.report(attemptId, 'finished', finished)).json()).toEqual({ ok: true });
    expect((await coordinator.report(attemptId, 'finished', finished)).statusCode).toBe(200);
    expectError(
      await coordinator.report(attemptId, 'finished', { result: 'failure', finishedAt: now() }),
      409,
      'lease-lost',
    );
    expectError(
      await coordinator.report(attemptId, 'finished', { result: 'great', finishedAt: now() }),
      400,
      'invalid-request',
    );
  });
});

describe('attempt credentials', () => {
  const finishedAs = (attemptId: number, headers: Record<string, string>) =>
    coordinator.inject({
      method: 'POST',
      url: `/api/v1/attempts/${attemptId}/finished`,
      headers,
      payload: { result: 'success', finishedAt: now() },
    });

  it("refuses the worker's own token on what acts on an attempt: a build step that read it can't report a job", async () => {
    const attemptId = await runningAttempt();
    const refused = expectError(await finishedAs(attemptId, bearer('worker')), 401, 'unauthenticated');
    expect(refused.message).toContain("attempt's own credential");
    expectError(await finishedAs(attemptId, bearer('admin')), 401, 'unauthenticated');
    expectError(await finishedAs(attemptId, {}), 401, 'unauthenticated');
    const job = await coordinator.inject({ url: '/api/v1/jobs?state=running' });
    expect(job.json().jobs).toHaveLength(1);
  });

  it("refuses one attempt's credential on another attempt, its job's uploads, and a claim; a forged one", async () => {
    const first = await runningAttempt('w1');
    await coordinator.push();
    const secondAssignment = await coordinator.claim('w2');
    if (!secondAssignment) throw new Error('w2 was given no work');
    const second = secondAssignment.attemptId;
    const firstCredential = coordinator.attemptCredential(first);
    const other = expectError(await finishedAs(second, firstCredential), 403, 'forbidden');
    expect(other.message).toContain(`attempt ${first}`);
    const upload = await coordinator.inject({
      method: 'PUT',
      url: `/api/v1/jobs/${secondAssignment.job.id}/artifacts/poisoned.tar`,
      headers: { ...firstCredential, 'content-type': 'application/octet-stream' },
      payload: Buffer.from('not what the build made'),
    });
    expectError(upload, 403, 'forbidden');
    const claim = await coordinator.inject({
      method: 'POST',
      url: '/api/v1/workers/w3/claim',
      headers: firstCredential,
      payload: { pool: 'linux', waitSeconds: 0 },
    });
    expectError(claim, 403, 'forbidden');
    const [prefix, claims, mac] = firstCredential.authorization.slice('Bearer '.length).split('.') as string[];
    const widened = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(claims as string, 'base64url').toString()), attempt: second }),
    ).toString('base64url');
    const forged = await finishedAs(second, { authorization: `Bearer ${prefix}.${widened}.${mac}` });
    expect(expectError(forged, 401, 'unauthenticated').details).toEqual({ reason: 'bad-signature' });
    expect((await finishedAs(second, coordinator.attemptCredential(second))).statusCode).toBe(200);
  });

  it('binds a worker to the token it first claimed with: another may neither claim nor heartbeat for it until released', async () => {
    const attemptId = await runningAttempt('w1');
    const asAdmin = (payload: object) =>
      coordinator.inject({ method: 'POST', url: '/api/v1/workers/w1/claim', headers: bearer('admin'), payload });
    const refused = expectError(
      await asAdmin({ pool: 'linux', instance: 'w1-process', waitSeconds: 0 }),
      403,
      'forbidden',
    );
    expect(refused.message).toContain('bound to the token "worker"');
    const beat = await coordinator.inject({
      method: 'POST',
      url: `/api/v1/attempts/${attemptId}/heartbeat`,
      headers: bearer('admin'),
    });
    expectError(beat, 403, 'forbidden');
    expect((await coordinator.report(attemptId, 'heartbeat')).statusCode).toBe(200);
    await coordinator.report(attemptId, 'finished', { result: 'success', finishedAt: now() });
    const release = (headers: Record<string, string>) =>
      coordinator.inject({ method: 'DELETE', url: '/api/v1/workers/w1/credential', headers });
    expectError(await release(bearer('worker')), 403, 'forbidden');
    expect((await release(bearer('admin'))).statusCode).toBe(204);
    expect((await asAdmin({ pool: 'linux', instance: 'w1-process', waitSeconds: 0 })).statusCode).toBe(200);
    const notFound = await coordinator.inject({
      method: 'DELETE',
      url: '/api/v1/workers/nobody/credential',
      headers: bearer('admin'),
    });
    expectError(notFound, 404, 'not-found');
  });
});
