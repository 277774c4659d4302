import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CSRF_HEADER, type Job, type JobSummary, SESSION_COOKIE, SwitchyardClient } from '@switchyard/protocol';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, SCREENSHOTS } from '../helpers/browser.ts';
import { ConnectionCutter } from '../helpers/connection-cutter.ts';
import { collectEvents, waitForPushFinal } from '../helpers/events.ts';
import { TestFarm } from '../helpers/farm.ts';
import { killAll, startServer, startWorker, type TestServer } from '../helpers/processes.ts';

const TOKENS = { T_WORKER: 'worker-secret', T_ADMIN: 'admin-secret', T_READ: 'read-secret' };

/** Reads need a token, so the page must sign in and its event stream must work on a cookie. */
const CONFIG = `
repos: [{ name: demo, url: $REPO }, { name: quiet, url: $REPO }, { name: live, url: $REPO }]
auth:
  public_read: false
  tokens:
    - { name: workers, env: T_WORKER, scopes: [worker] }
    - { name: ops, env: T_ADMIN, scopes: [admin] }
    - { name: viewer, env: T_READ, scopes: [read] }
builders:
  - name: build
    repo: demo
    pool: linux
    checkout: false
    steps:
      - name: compile
        run: sleep 2; echo built
  - name: check
    repo: demo
    pool: linux
    checkout: false
    steps:
      - name: prepare
        run: seq 1 200
      - name: tests
        run: >-
          printf 'ok 1\\nFAIL first failure\\n'; seq 1 100; printf 'error: second failure\\n'; exit 1
  # Says one line, then waits for the test to let it go on: a job the test keeps running.
  - name: talk
    repo: live
    pool: linux
    checkout: false
    steps:
      - name: speak
        run: echo 'first line'; while [ ! -e $GO/$SWITCHYARD_JOB_ID ]; do sleep 0.1; done; echo 'second line'
`;

const WEB = join(import.meta.dirname, '..', '..', 'packages', 'web');

describe('the dashboard in a browser, on a real coordinator and real workers', () => {
  const farm = new TestFarm();
  let server: TestServer;
  let admin: SwitchyardClient;
  let cutter: Awaited<ReturnType<typeof ConnectionCutter.start>>;
  let browser: Browser;
  let page: Page;
  let firstPush: number;
  let buildJob: JobSummary;
  let checkJob: JobSummary;
  let retriggeredCheck: number;

  const stateOf = (job: number, state: string) => `a.sym[data-job-id="${job}"][data-state="${state}"]`;
  const live = (status: string) => page.waitForSelector(`[data-testid="live-status"][data-status="${status}"]`);
  const signIn = async (token: string) => {
    await page.fill('main input[name="token"]', token);
    await page.click('main button:text("Sign in")');
  };

  beforeAll(async () => {
    if (!existsSync(join(WEB, 'dist', 'index.html'))) execFileSync('npx', ['vite', 'build'], { cwd: WEB });
    mkdirSync(join(farm.dir, 'go'));
    farm.writeConfig(CONFIG.replace('$GO', join(farm.dir, 'go')));
    server = await startServer({ config: farm.config, data: farm.data, env: TOKENS, token: TOKENS.T_ADMIN });
    admin = new SwitchyardClient({ server: server.url, token: TOKENS.T_ADMIN });
    cutter = await ConnectionCutter.start(server.url);
    browser = await launchBrowser();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
  });

  afterAll(async () => {
    await browser?.close();
    await cutter?.close();
    await killAll();
    farm.remove();
  });

  it('serves the page at its own paths, keeps /api/* JSON, and lists its endpoints in the OpenAPI document', async () => {
    const page = await fetch(`${server.url}/jobs/7/log?q=x`, { headers: { accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(await page.text()).toContain('<div id="root">');
    const missing = await fetch(`${server.url}/api/v1/nothing`, { headers: { accept: 'text/html' } });
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('not-found');
    const asset = /src="(\/assets\/[^"]+\.js)"/.exec(await (await fetch(`${server.url}/`)).text())?.[1];
    const script = await fetch(`${server.url}${asset}`);
    expect(script.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const openapi = (await (
      await fetch(`${server.url}/api/openapi.json`, {
        headers: { authorization: `Bearer ${TOKENS.T_ADMIN}` },
      })
    ).json()) as { paths: Record<string, unknown> };
    for (const path of [
      '/api/v1/jobs/{id}/log/index',
      '/api/v1/jobs/{id}/log/lines',
      '/api/v1/jobs/{id}/log/search',
      '/api/v1/jobs/{id}/similar',
      '/api/v1/queue',
      '/api/v1/session',
    ]) {
      expect(Object.keys(openapi.paths)).toContain(path);
    }
  });

  it('signs in, then shows a push whose symbols go from pending to running to green without a reload', async () => {
    // The browser goes through the relay, so a later test can cut its connections.
    await page.goto(`${cutter.url}/`);
    await signIn(TOKENS.T_ADMIN);
    await live('live');

    const revision = farm.commit('main', { 'a.txt': 'a\n' });
    const push = await admin.createPush({ repo: 'demo', branch: 'main', revision });
    firstPush = push.id;
    buildJob = push.jobs.find((j) => j.builder === 'build') as JobSummary;
    checkJob = push.jobs.find((j) => j.builder === 'check') as JobSummary;
    await page.waitForSelector(stateOf(buildJob.id, 'pending'));

    startWorker({
      server: server.url,
      name: 'w1',
      pool: 'linux',
      workDir: farm.workerDir('w1'),
      env: { SWITCHYARD_TOKEN: TOKENS.T_WORKER },
    });
    await page.waitForSelector(stateOf(buildJob.id, 'running'), { timeout: 30_000 });
    await page.waitForSelector(stateOf(buildJob.id, 'success'), { timeout: 30_000 });
    await page.waitForSelector(stateOf(checkJob.id, 'failure'), { timeout: 30_000 });
    await page.screenshot({ path: join(SCREENSHOTS, 'pushes.png') });

    // A failed symbol shows its first error lines on hover.
    await page.hover(`a.sym[data-job-id="${checkJob.id}"]`);
    const card = await page.waitForSelector('[data-testid="failure-card"] .error-line');
    expect(await card.textContent()).toContain('FAIL first failure');
    // A symbol opens its job in the page, without loading it again.
    await page.evaluate('window.sameDocument = true');
    await page.click(`a.sym[data-job-id="${checkJob.id}"]`);
    await page.waitForSelector(`section.job[data-job-id="${checkJob.id}"]`);
    expect(await page.evaluate('window.sameDocument')).toBe(true);
  });

  it("opens a failed job's log at its first error line, and n/p move between errors", async () => {
    const index = await admin.logIndex(checkJob.id);
    const [first, second] = index.errors;
    expect(index.errors.map((e) => e.text)).toEqual(['FAIL first failure', 'error: second failure']);
    await page.goto(`${cutter.url}/jobs/${checkJob.id}/log`);
    await page.waitForSelector(`.log-row[data-current][data-line="${first?.line}"]`);
    await page.screenshot({ path: join(SCREENSHOTS, 'log-at-failure.png') });
    await page.keyboard.press('n');
    await page.waitForSelector(`.log-row[data-current][data-line="${second?.line}"]`);
    expect(await page.textContent('[data-testid="error-position"]')).toBe('error 2 of 2');
    expect(page.url()).toMatch(new RegExp(`#L${second?.line}$`));
    await page.keyboard.press('p');
    await page.waitForSelector(`.log-row[data-current][data-line="${first?.line}"]`);
  });

  it('opens a line-range link at that range, unfolding the passed step it is in', async () => {
    await page.goto(`${cutter.url}/jobs/${checkJob.id}/log#L10-L20`);
    await page.waitForSelector('.log-row.selected[data-line="10"]');
    const selected = await page.$$eval('.log-row.selected', (rows) =>
      rows.map((r) => Number(r.getAttribute('data-line'))),
    );
    expect(selected).toEqual(Array.from({ length: 11 }, (_, i) => 10 + i));
    // The `prepare` step passed: folded unless a link points into it, as this one does.
    expect(await page.getAttribute('.log-row.section[data-step="0"]', 'aria-expanded')).toBe('true');
  });

  it("follows a running job's log: its lines appear as they are written, without a reload", async () => {
    const revision = farm.commit('main', { 'c.txt': 'c\n' });
    const push = await admin.createPush({ repo: 'live', branch: 'main', revision });
    const job = push.jobs[0]?.id as number;
    const asked: string[] = [];
    const record = (request: Request) => asked.push(new URL(request.url()).pathname);
    page.on('request', record);
    await page.goto(`${cutter.url}/jobs/${job}/log`);
    await page.evaluate('window.sameDocument = true');
    await page.waitForSelector('.log-row.line:has-text("first line")', { timeout: 30_000 });
    // The job waits for this file: the line above came while it ran.
    expect(await page.textContent('.crumbs')).toContain('following');
    writeFileSync(join(farm.dir, 'go', String(job)), '');
    await page.waitForSelector('.log-row.line:has-text("second line")', { timeout: 30_000 });
    await page.waitForSelector('.crumbs:not(:has-text("following"))', { timeout: 30_000 });
    expect(await page.evaluate('window.sameDocument')).toBe(true);
    page.off('request', record);
    // Streamed by the server as written, not read again and again.
    expect(asked.filter((path) => path === `/api/v1/jobs/${job}/log/index`)).toHaveLength(1);
    expect(asked).toContain(`/api/v1/jobs/${job}/log/follow`);
    await page.screenshot({ path: join(SCREENSHOTS, 'log-followed.png') });
  });

  it('shows a browser notification when a watched push completes', async () => {
    await page.context().grantPermissions(['notifications'], { origin: cutter.url });
    // Records each notification the page makes, then makes it.
    await page.addInitScript(`
      window.notified = [];
      window.Notification = class extends window.Notification {
        constructor(title, options) {
          window.notified.push({ title, body: options && options.body });
          super(title, options);
        }
      };
    `);
    const revision = farm.commit('main', { 'd.txt': 'd\n' });
    const push = await admin.createPush({ repo: 'live', branch: 'main', revision });
    await page.goto(`${cutter.url}/`);
    await live('live');
    await page.click(`article[data-push-id="${push.id}"] button.watch`);
    await page.waitForSelector(`article[data-push-id="${push.id}"] button.watch[aria-pressed="true"]`);
    writeFileSync(join(farm.dir, 'go', String(push.jobs[0]?.id)), '');
    await page.waitForFunction('window.notified.length > 0', undefined, { timeout: 30_000 });
    expect(await page.evaluate('window.notified')).toEqual([
      { title: `Push ${push.id} on main: success`, body: `${revision.slice(0, 12)} · 1 jobs` },
    ]);
  });

  it('retriggers from the job page, which starts a new job', async () => {
    await page.goto(`${cutter.url}/jobs/${checkJob.id}`);
    await page.waitForSelector(`section.job[data-job-id="${checkJob.id}"]`);
    await page.screenshot({ path: join(SCREENSHOTS, 'job.png') });
    await page.click('button:text("Retrigger")');
    await page.waitForURL((url) => /^\/jobs\/\d+$/.test(url.pathname) && url.pathname !== `/jobs/${checkJob.id}`);
    const newId = Number(/\/jobs\/(\d+)$/.exec(page.url())?.[1]);
    retriggeredCheck = newId;
    expect(newId).not.toBe(checkJob.id);
    await page.waitForSelector(`section.job[data-job-id="${newId}"]`);
    expect((await admin.getJob(newId)).retriggeredFrom).toBe(checkJob.id);
  });

  it('resumes after its event connection is killed, without losing the update made meanwhile', async () => {
    await page.goto(`${cutter.url}/`);
    await live('live');
    cutter.cut();
    await live('reconnecting');
    const revision = farm.commit('main', { 'b.txt': 'b\n' });
    const push = await admin.createPush({ repo: 'demo', branch: 'main', revision });
    expect(await page.$(`article[data-push-id="${push.id}"]`)).toBeNull();
    cutter.restore();
    // The list is not read again: the row can only come from the events the stream replays.
    await page.waitForSelector(`article[data-push-id="${push.id}"]`, { timeout: 30_000 });
    await live('live');
    await waitForPushFinal(admin, push.id);
  });

  it('refuses cross-site and token-less changes, ends the session at sign-out, and refuses a read-only token', async () => {
    const cookie = (await page.context().cookies()).find((c) => c.name === SESSION_COOKIE);
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Strict');
    const session = await page.evaluate<{ csrfToken: string }>("fetch('/api/v1/session').then((r) => r.json())");
    const asBrowser = (headers: Record<string, string>) =>
      fetch(`${server.url}/api/v1/jobs/${buildJob.id}/retrigger`, {
        method: 'POST',
        headers: { cookie: `${SESSION_COOKIE}=${cookie?.value}`, ...headers },
      });
    expect((await asBrowser({})).status).toBe(403);
    expect((await asBrowser({ [CSRF_HEADER]: session.csrfToken, 'sec-fetch-site': 'cross-site' })).status).toBe(403);

    await page.click('button:text("Sign out")');
    await page.waitForSelector('main input[name="token"]');
    const afterSignOut = await fetch(`${server.url}/api/v1/pushes`, {
      headers: { cookie: `${SESSION_COOKIE}=${cookie?.value}` },
    });
    expect(afterSignOut.status).toBe(401);

    await signIn(TOKENS.T_READ);
    await live('live');
    const buildsBefore = (await admin.listJobs({ builder: 'build' })).length;
    await page.goto(`${cutter.url}/jobs/${buildJob.id}`);
    await page.click('button:text("Retrigger")');
    const problem = await page.waitForSelector('[data-testid="action-problem"]');
    expect(await problem.textContent()).toMatch(/lacks the "cancel" scope/);
    expect((await admin.listJobs({ builder: 'build' })).length).toBe(buildsBefore);
  });

  it('filters on the server: finds pushes older than the newest 500 by author, revision and result', async () => {
    // `quiet` has no builders: its pushes have no jobs, so hundreds of them cost no work.
    const old = await admin.createPush({
      repo: 'quiet',
      branch: 'main',
      revision: 'fee1dead0001',
      author: 'Olga Oldest <olga@example.org>',
    });
    for (let made = 0; made < 501; made += 25) {
      await Promise.all(
        Array.from({ length: 25 }, (_, i) =>
          admin.createPush({
            repo: 'quiet',
            branch: 'main',
            revision: (made + i + 1).toString(16).padStart(12, '0'),
            author: 'Bulk <bulk@example.org>',
          }),
        ),
      );
    }
    const rows = () =>
      page.$$eval('article[data-push-id]', (found) => found.map((row) => Number(row.getAttribute('data-push-id'))));

    await page.goto(`${cutter.url}/?author=OLGA`);
    await page.waitForSelector(`article[data-push-id="${old.id}"]`);
    expect(await rows()).toEqual([old.id]);

    // Through the form: the filter goes into the URL, and the server answers it.
    await page.fill('input[name="author"]', '');
    await page.fill('input[name="revision"]', 'FEE1DEAD');
    await page.click('button:text("Filter")');
    await page.waitForURL((url) => url.searchParams.get('revision') === 'FEE1DEAD' && !url.searchParams.has('author'));
    await page.waitForSelector(`article[data-push-id="${old.id}"]`);
    expect(await rows()).toEqual([old.id]);

    // The first push failed (so did its retriggered check): 500 newer pushes without jobs come after it.
    await collectEvents(
      admin,
      (seen) => seen.some((e) => e.type === 'job.finished' && (e.data as { job: Job }).job.id === retriggeredCheck),
      { job: retriggeredCheck },
    );
    await page.goto(`${cutter.url}/?result=failure`);
    await page.waitForSelector(`article[data-push-id="${firstPush}"][data-result="failure"]`);
    expect(await rows()).toContain(firstPush);
    await page.goto(`${cutter.url}/?result=empty&author=olga`);
    await page.waitForSelector(`article[data-push-id="${old.id}"]`);
    expect(await rows()).toEqual([old.id]);
  });

  it('renders dark and 390 px wide without horizontal scrolling, with its shortcuts behind ?', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${cutter.url}/`);
    await page.waitForSelector('article[data-push-id]');
    await page.keyboard.press('?');
    await page.waitForSelector('[role="dialog"][aria-label="Keyboard shortcuts"]');
    await page.screenshot({ path: join(SCREENSHOTS, 'shortcuts-dark-390.png') });
    await page.keyboard.press('Escape');
    expect(await page.$('[role="dialog"]')).toBeNull();
    const views: Array<[string, string, string]> = [
      ['/', 'article[data-push-id]', 'pushes-dark-390'],
      [`/jobs/${checkJob.id}`, 'section.job', 'job-dark-390'],
      [`/jobs/${checkJob.id}/log`, '.log-row[data-current]', 'log-dark-390'],
      ['/farm', '.pool', 'farm-dark-390'],
      ['/answers', 'table tbody tr', 'answers-dark-390'],
    ];
    for (const [path, ready, name] of views) {
      await page.goto(`${cutter.url}${path}`);
      await page.waitForSelector(ready);
      await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
      const { scrollWidth, background } = await page.evaluate<{ scrollWidth: number; background: string }>(
        '({ scrollWidth: document.documentElement.scrollWidth, background: getComputedStyle(document.documentElement).backgroundColor })',
      );
      expect({ path, scrollWidth }).toEqual({ path, scrollWidth: 390 });
      expect(background).toBe('rgb(21, 24, 28)');
    }
  });
});
