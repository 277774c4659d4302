import { describe, expect, it, vi } from 'vitest';
import { authSection, bearer, expectError, FARM_YAML, inProcessCoordinator, now } from './inject-testing.ts';

const coordinator = inProcessCoordinator(FARM_YAML + authSection(true));

const SECRET = 'a-secret-of-more-than-16-characters';

const push = (payload: Record<string, unknown>) =>
  coordinator.inject({ method: 'POST', url: '/api/v1/pushes', headers: bearer('push'), payload });

const pushOf = (extra: Record<string, unknown>) => push({ repo: 'app', branch: 'main', revision: 'abcdef0', ...extra });

describe('names and text that reach an environment variable, a path or a log', () => {
  it.each([
    ['a NUL in the branch', { branch: 'ma\u0000in' }, 'branch'],
    ['an escape in the branch', { branch: 'main\u001b[2J' }, 'branch'],
    ['DEL in the branch', { branch: 'main\u007f' }, 'branch'],
    ['a C1 control in the author', { author: 'Ann \u0085' }, 'author'],
    ['a bidi override in the branch', { branch: 'main\u202egnp.exe' }, 'branch'],
    ['a bidi isolate in the author', { author: '\u2066Ann' }, 'author'],
    ['an unpaired surrogate in the branch', { branch: 'main\ud800' }, 'branch'],
    ['a NUL in a file name', { files: ['src/a\u0000.c'] }, 'files.0'],
    ['a NUL in the message', { message: 'fix\u0000' }, 'message'],
  ])('refuses %s: 400, saying what is wrong in words', async (_, extra, field) => {
    const refusal = expectError(await pushOf(extra), 400, 'invalid-request');
    expect(refusal.message).toMatch(
      new RegExp(
        `^body\\.${field.replace('.', '\\.')}: expected .*control characters, bidi overrides or unpaired surrogates`,
      ),
    );
  });

  it('takes text that is merely not ASCII, and line breaks and tabs in a message: 201', async () => {
    const response = await pushOf({
      branch: 'fonctionnalité/ünïcode-😀',
      author: 'Zoë Ağaoğlu <zoe@example.org>',
      message: 'Fix the build\n\n\tfor real this time',
    });
    expect(response.statusCode).toBe(201);
  });

  it('names a worker tag that is refused once, cut short', async () => {
    const key = `os\u0007${'x'.repeat(1000)}`;
    const refusal = expectError(
      await coordinator.inject({
        method: 'POST',
        url: '/api/v1/workers/w-tags/claim',
        headers: bearer('worker'),
        payload: { pool: 'linux', waitSeconds: 0, tags: { [key]: 'linux' } },
      }),
      400,
      'invalid-request',
    );
    expect(refusal.message).toContain('body.tags: key "os\\u0007xxx');
    expect(refusal.message).toContain('expected one line of text, without control characters');
    expect(refusal.message.length).toBeLessThan(600);
  });

  it('echoes no more than a hundred characters of what it refuses', async () => {
    const huge = 'x'.repeat(1024 * 1024);
    const repo = await pushOf({ repo: huge });
    expectError(repo, 400, 'invalid-request');
    expect(repo.body.length).toBeLessThan(2000);
    const types = await coordinator.inject({ url: `/api/v1/events?types=${'y'.repeat(10_000)}` });
    expect(expectError(types, 400, 'invalid-request').message).toBe(`unknown event type "${'y'.repeat(100)}…"`);
  });
});

describe('numbers in paths and queries', () => {
  it.each(['1.9', '1e0', '0x1', '%201', '1%20', '+1', '99999999999999999999'])(
    'refuses the job id %s: 400, where it used to stand for job 1',
    async (id) => {
      const { jobs } = await coordinator.push();
      expect(jobs[0]?.id).toBeGreaterThan(0);
      const refusal = expectError(await coordinator.inject({ url: `/api/v1/jobs/${id}` }), 400, 'invalid-request');
      expect(refusal.message).toMatch(/^params\.id: expected a whole number written in decimal digits/);
    },
  );

  it('cancels nothing for POST /jobs/158.9/cancel', async () => {
    const { jobs } = await coordinator.push();
    const id = jobs[0]?.id as number;
    expectError(
      await coordinator.inject({ method: 'POST', url: `/api/v1/jobs/${id}.9/cancel`, headers: bearer('cancel') }),
      400,
      'invalid-request',
    );
    expect((await coordinator.inject({ url: `/api/v1/jobs/${id}` })).json().job.state).toBe('pending');
  });

  it('refuses a query number that is not plain digits, and an event id past the largest safe integer: 400', async () => {
    expectError(await coordinator.inject({ url: '/api/v1/jobs?limit=0x10' }), 400, 'invalid-request');
    expectError(await coordinator.inject({ url: '/api/v1/events?since=1e300' }), 400, 'invalid-request');
    expectError(await coordinator.inject({ url: '/api/v1/events?since=9007199254740993' }), 400, 'invalid-request');
    for (const lastEventId of ['0x10', ' 5', '1e300']) {
      expectError(
        await coordinator.inject({ url: '/api/v1/events', headers: { 'last-event-id': lastEventId } }),
        400,
        'invalid-request',
      );
    }
    await coordinator.push();
    const assignment = await coordinator.claim('w-numbers');
    const heartbeat = await coordinator.report(assignment?.attemptId as number, 'heartbeat?wait=0x10');
    expect(expectError(heartbeat, 400, 'invalid-request').message).toMatch(
      /^querystring\.wait: expected a number written in decimal digits/,
    );
    const good = await coordinator.inject({ url: '/api/v1/jobs?limit=10' });
    expect(good.statusCode).toBe(200);
  });
});

describe('HEAD on a stream', () => {
  it('answers the headers of the event stream and ends', async () => {
    const response = await coordinator.inject({ method: 'HEAD', url: '/api/v1/events' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(response.body).toBe('');
  });

  it('answers the headers of a followed log and ends, though the job is still running', async () => {
    const { jobs } = await coordinator.push();
    const response = await coordinator.inject({ method: 'HEAD', url: `/api/v1/jobs/${jobs[0]?.id}/log?follow=1` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.body).toBe('');
  });
});

describe('a job that no machine could run', () => {
  const farm = inProcessCoordinator(FARM_YAML + authSection(true), 'test');

  it('ends in exception invalid-job, is not retried, and does not bench its worker', async () => {
    const { jobs } = await farm.push();
    const assignment = await farm.claim('w-invalid');
    expect(assignment?.job.id).toBe(jobs[0]?.id);
    const attemptId = assignment?.attemptId as number;
    const finished = await farm.report(attemptId, 'finished', {
      result: 'exception',
      reason: 'invalid-job',
      message: "step compile could not start, as its command or environment can't be run: spawn E2BIG",
      finishedAt: now(),
    });
    expect(finished.statusCode).toBe(200);
    const job = (await farm.inject({ url: `/api/v1/jobs/${jobs[0]?.id}` })).json().job;
    expect(job).toMatchObject({ state: 'exception', reason: 'invalid-job', attemptCount: 1 });
    const workers = (await farm.inject({ url: '/api/v1/workers' })).json().workers;
    expect(workers.find((w: { name: string }) => w.name === 'w-invalid')).toMatchObject({
      exceptionStreak: 0,
      benchedUntil: null,
    });
  });
});

describe('webhook URLs and their secrets', () => {
  const subscribe = (payload: Record<string, unknown>) =>
    coordinator.inject({ method: 'POST', url: '/api/v1/subscriptions', headers: bearer('push'), payload });
  const list = async () =>
    (await coordinator.inject({ url: '/api/v1/subscriptions', headers: bearer('push') })).json()
      .subscriptions as Array<{
      id: number;
      url: string;
    }>;

  it('refuses user:password@ in the URL, pointing at the signature instead: 400', async () => {
    const refusal = expectError(
      await subscribe({ url: 'https://ci:hunter2@hooks.example.org/in', secret: SECRET }),
      400,
      'invalid-request',
    );
    expect(refusal.message).toMatch(
      /^body\.url: expected an http:\/\/ or https:\/\/ URL without spaces or user:password@/,
    );
    expect(refusal.message).toContain('switchyard-signature header, made with the secret');
    expect(refusal.message).not.toContain('hunter2');
    expect(JSON.stringify(await list())).not.toContain('hunter2');
  });

  it('shows a URL with the values of its secret-looking query parameters hidden', async () => {
    const created = await subscribe({
      url: 'https://hooks.example.org/in?access_token=s3cr3t&api_key=k3y&sig=abc&channel=builds',
      secret: SECRET,
    });
    expect(created.statusCode).toBe(201);
    const shown = 'https://hooks.example.org/in?access_token=***&api_key=***&sig=***&channel=builds';
    expect(created.json().subscription.url).toBe(shown);
    expect((await list()).find((s) => s.id === created.json().subscription.id)?.url).toBe(shown);
  });

  it('fails at once, without retrying or showing it, a subscription with credentials made before they were refused', async () => {
    const row = await coordinator.store.subscriptions.create({
      url: 'http://ci:hunter2@127.0.0.1:9/in',
      secret: SECRET,
      filter: { types: ['push.created'] },
    });
    await coordinator.push();
    const deliveries = async () =>
      (await coordinator.inject({ url: `/api/v1/subscriptions/${row.id}/deliveries`, headers: bearer('push') })).json()
        .deliveries;
    await vi.waitFor(async () => expect((await deliveries())[0]?.state).toBe('failed'), { timeout: 10_000 });
    const [delivery] = await deliveries();
    expect(delivery.attempts).toEqual([
      expect.objectContaining({
        status: null,
        error: 'the URL carries user:password@, which is never sent; subscribe again without it',
      }),
    ]);
    expect((await list()).find((s) => s.id === row.id)?.url).toBe('http://***@127.0.0.1:9/in');
  });
});
