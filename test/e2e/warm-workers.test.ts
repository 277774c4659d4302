import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  type AttemptTimings,
  type JobDetail,
  type SwitchyardClient,
  TOOL_FILENAME_HEADER,
  TOOL_VISIBILITY_HEADER,
  toolPath,
} from '@switchyard/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreLayout } from '../../packages/worker/src/checkout/store-layout.ts';
import { acquireLock } from '../../packages/worker/src/file-lock.ts';
import { waitForPushFinal } from '../helpers/events.ts';
import { git, TestFarm } from '../helpers/farm.ts';
import {
  runSwitchyard,
  startServer,
  switchyardCommand,
  type TestProcess,
  type TestServer,
} from '../helpers/processes.ts';

/** A coordinator on a scratch farm and the workers started for it, all stopped by `close`. */
class WarmFarm extends TestFarm {
  server!: TestServer;
  readonly processes: TestProcess[] = [];

  async start(config: string): Promise<SwitchyardClient> {
    this.writeConfig(config);
    this.server = await startServer({ config: this.config, data: this.data });
    this.processes.push(this.server);
    return this.server.client;
  }

  /** A worker with a work dir of its own; returns it. `repoStore` (default `<work-dir>/repos`) may be shared. */
  startWorker(name: string, pool: string, repoStore?: string): string {
    const workDir = this.workerDir(name);
    const args = ['worker', '--server', this.server.url, '--name', name, '--pool', pool, '--work-dir', workDir];
    if (repoStore) args.push('--repo-store', repoStore);
    this.processes.push(runSwitchyard(args));
    return workDir;
  }

  async close(): Promise<void> {
    await Promise.all(this.processes.map((p) => p.kill('SIGKILL')));
    this.remove();
  }
}

async function logOf(client: SwitchyardClient, jobId: number): Promise<string> {
  let text = '';
  for await (const chunk of client.log(jobId)) text += Buffer.from(chunk).toString();
  return text;
}

/** The checkout step's part of a job's log: what comes before the first command of the builder's own steps. */
async function checkoutLogOf(client: SwitchyardClient, jobId: number): Promise<string> {
  const log = await logOf(client, jobId);
  const end = log.indexOf('\n$ ');
  return end === -1 ? log : log.slice(0, end);
}

/** Creates a push and waits for its jobs, which must all succeed (the log of one that did not is in the error). */
async function pushAndSucceed(
  client: SwitchyardClient,
  push: { repo: string; branch: string; revision: string },
): Promise<JobDetail[]> {
  const created = await client.createPush(push);
  const done = await waitForPushFinal(client, created.id);
  const jobs = await Promise.all(done.jobs.map((job) => client.getJob(job.id)));
  for (const job of jobs) {
    if (job.state !== 'success') {
      throw new Error(`job ${job.id} (${job.builder}) ended in ${job.state}:\n${await logOf(client, job.id)}`);
    }
  }
  return jobs;
}

function timingsOf(job: JobDetail): AttemptTimings {
  const timings = job.attempts.at(-1)?.timings;
  if (!timings) throw new Error(`job ${job.id} reported no timings`);
  return timings;
}

/** The checkout step's summary line: how the store was found, then the time of each phase. */
const CHECKOUT_SUMMARY =
  /checkout \d+ ms \((new store|store updated|store warm)[^)]*\): lock \d+ ms, fetch \d+ ms, checkout \d+ ms, clean \d+ ms/;

/** The stores of one kind in a repository store root (`<root>/<kind>/<key>`), without their locks. */
function storesIn(repoStore: string, kind: 'git' | 'git-shallow' | 'hg'): string[] {
  const dir = join(repoStore, kind);
  return existsSync(dir) ? readdirSync(dir).filter((name) => !name.endsWith('.lock')) : [];
}

/** Every file under a directory, with its full path. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

/** The pid of a process that has exited: what a killed worker leaves in its locks. */
async function deadPid(): Promise<number> {
  const child = spawn('true');
  await once(child, 'exit');
  return child.pid as number;
}

async function pollUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Something a build leaves in its tree; `check` passes on a pristine tree and prints `found` when it does not. */
interface Leftover {
  leaves: string;
  check: string;
  found: string;
}

/** What every build may leave behind, whatever the VCS. */
const COMMON_LEFTOVERS: Leftover[] = [
  { leaves: 'echo leftover > untracked.txt', check: '[ ! -e untracked.txt ]', found: 'untracked.txt is still there' },
  {
    leaves: 'mkdir -p obj/deep && echo output > obj/deep/app.o',
    check: '[ ! -e obj ]',
    found: 'obj/, ignored build output, is still there',
  },
  {
    leaves: 'echo changed > tracked.txt',
    check: '[ "$(cat tracked.txt)" = committed ]',
    found: 'tracked.txt does not hold what was committed',
  },
  { leaves: 'chmod +x tracked.txt', check: '[ ! -x tracked.txt ]', found: 'tracked.txt is executable' },
  { leaves: 'rm doomed.txt', check: '[ -f doomed.txt ]', found: 'doomed.txt is missing' },
  {
    // Same size, same mtime: only the content (and the ctime) tells it changed.
    leaves:
      'touch -r same-size.txt .mtime && printf "ORIGINAL\\n" > same-size.txt && touch -r .mtime same-size.txt && rm .mtime',
    check: '[ "$(cat same-size.txt)" = original ]',
    found: 'same-size.txt does not hold what was committed',
  },
];

const GIT_LEFTOVERS: Leftover[] = [
  {
    leaves:
      'git -c user.name=job -c user.email=job@example.org commit --quiet --allow-empty -m "a build\'s own commit"',
    check: '[ "$(git rev-parse HEAD)" = "$SWITCHYARD_REVISION" ]',
    found: 'HEAD is not the pushed revision',
  },
  ...COMMON_LEFTOVERS,
  {
    leaves: 'git init --quiet scratch/nested && echo x > scratch/nested/file',
    check: '[ ! -e scratch ]',
    found: 'scratch/, a nested repository, is still there',
  },
  // Last: anything the checks above did not think of.
  { leaves: '', check: '[ -z "$(git status --porcelain --ignored)" ]', found: 'git status is not clean' },
];

const HG_LEFTOVERS: Leftover[] = [
  {
    leaves: '',
    check: `[ "$(hg log -r . --template '{node}')" = "$SWITCHYARD_REVISION" ]`,
    found: 'the working directory is not at the pushed revision',
  },
  ...COMMON_LEFTOVERS,
  {
    leaves: 'hg init scratch/nested && echo x > scratch/nested/file',
    check: '[ ! -e scratch ]',
    found: 'scratch/, a nested repository, is still there',
  },
  { leaves: '', check: '[ -z "$(hg status -mardui)" ]', found: 'hg status is not clean' },
];

/**
 * The step of the pristine-tree builders: it fails unless the tree is exactly the pushed
 * revision with nothing left over, then leaves behind everything on the list, for the next job
 * on the worker to find gone.
 */
function pristineCheck(leftovers: Leftover[]): string {
  const checks = leftovers.map((l) => `${l.check} || fail "${l.found}"`);
  const leaves = leftovers.filter((l) => l.leaves !== '').map((l) => l.leaves);
  return [
    '#!/bin/sh',
    'set -eu',
    'fail() { echo "NOT PRISTINE: $*" >&2; exit 1; }',
    ...checks,
    'echo "pristine at $SWITCHYARD_REVISION"',
    ...leaves,
    'echo "left the tree dirty"',
    '',
  ].join('\n');
}

/** The files of a repository whose builder runs `check.sh`; `ignore` is the VCS's ignore file. */
function pristineFiles(leftovers: Leftover[], ignore: Record<string, string>): Record<string, string> {
  return {
    'check.sh': pristineCheck(leftovers),
    ...ignore,
    'tracked.txt': 'committed\n',
    'same-size.txt': 'original\n',
    'doomed.txt': 'keep me\n',
  };
}

/**
 * Runs the check in a pristine tree but for one leftover, for each of them: each must fail it
 * with its own message, or a tree not cleaned of that leftover would pass the job unnoticed.
 */
function expectEachLeftoverCaught(tree: string, revision: string, leftovers: Leftover[], restore: () => void): void {
  for (const leftover of leftovers.filter((l) => l.leaves !== '')) {
    for (const entry of readdirSync(tree)) {
      if (entry !== '.git' && entry !== '.hg') rmSync(join(tree, entry), { recursive: true, force: true });
    }
    restore();
    execFileSync('sh', ['-c', leftover.leaves], { cwd: tree, stdio: 'pipe' });
    const run = spawnSync('./check.sh', [], {
      cwd: tree,
      env: { ...process.env, SWITCHYARD_REVISION: revision },
      encoding: 'utf8',
    });
    expect({ leaves: leftover.leaves, status: run.status, stderr: run.stderr.trim() }).toEqual({
      leaves: leftover.leaves,
      status: 1,
      stderr: `NOT PRISTINE: ${leftover.found}`,
    });
  }
}

describe('one worker, job after job: pristine trees from a store that recovers', () => {
  const farm = new WarmFarm();
  let client: SwitchyardClient;
  let workDir: string;
  let root: string;
  const repoStore = () => join(workDir, 'repos');
  const tree = () => join(workDir, 'trees', 'demo');
  const push = async (revision: string) =>
    (await pushAndSucceed(client, { repo: 'demo', branch: 'main', revision }))[0] as JobDetail;

  beforeAll(async () => {
    client = await farm.start(`
repos: [{ name: demo, url: $REPO }]
builders:
  - { name: pristine, repo: demo, pool: linux, steps: [{ name: check, run: ./check.sh }] }
`);
    workDir = farm.startWorker('w1', 'linux');
  });

  afterAll(() => farm.close());

  it('the second job finds none of what the first left in the tree', async () => {
    const first = farm.commit('main', pristineFiles(GIT_LEFTOVERS, { '.gitignore': 'obj/\n' }), 'first');
    root = first; // the repository's first commit: what its store is keyed by
    const job1 = await push(first);
    expect(await logOf(client, job1.id)).toContain('left the tree dirty');
    expect(await checkoutLogOf(client, job1.id)).toMatch(/\(new store/);

    const second = farm.commit('main', { 'other.txt': 'another change\n' }, 'second');
    const job2 = await push(second);
    expect(job2.attempts[0]?.steps.map((s) => [s.name, s.state])).toEqual([
      ['checkout', 'success'],
      ['check', 'success'],
    ]);
    expect(await logOf(client, job2.id)).toContain(`pristine at ${second}`);
    const checkoutLog = await checkoutLogOf(client, job2.id);
    expect(checkoutLog).toMatch(CHECKOUT_SUMMARY);
    expect(checkoutLog).toMatch(/\(store updated/);
    expect(checkoutLog).not.toContain('new store');
    const timings = timingsOf(job2);
    for (const phase of ['lockMs', 'fetchMs', 'checkoutMs', 'cleanMs'] as const) {
      expect(timings[phase]).toEqual(expect.any(Number));
    }
    // The tree is the worker's, kept between jobs, a worktree of the repository's store (keyed by its root commit).
    expect(git(tree(), 'rev-parse', '--path-format=absolute', '--git-common-dir')).toBe(join(repoStore(), 'git', root));
    expect(storesIn(repoStore(), 'git')).toEqual([root]);
  });

  it('the check would have failed the job on any one leftover', () => {
    const scratch = join(farm.dir, 'scratch-clone');
    git(farm.dir, 'clone', '--quiet', farm.bare, scratch);
    const revision = git(scratch, 'rev-parse', 'HEAD');
    expectEachLeftoverCaught(scratch, revision, GIT_LEFTOVERS, () =>
      git(scratch, 'checkout', '--quiet', '--force', '--detach', revision),
    );
  });

  it('a store whose objects are damaged is deleted and fetched again, and the job still succeeds', async () => {
    const objects = join(repoStore(), 'git', root, 'objects');
    const damaged = filesUnder(objects).filter((file) => /\/([0-9a-f]{2}\/[0-9a-f]{38,62}|pack\/.*\.pack)$/.test(file));
    expect(damaged.length).toBeGreaterThan(0);
    for (const file of damaged) {
      chmodSync(file, 0o644);
      writeFileSync(file, Buffer.alloc(statSync(file).size, 0x5a));
    }
    const third = farm.commit('main', { 'other.txt': 'a third change\n' }, 'third');
    const job = await push(third);
    expect(await logOf(client, job.id)).toContain(`pristine at ${third}`);
    const checkoutLog = await checkoutLogOf(client, job.id);
    expect(checkoutLog).toContain('damaged-store');
    expect(checkoutLog).toMatch(CHECKOUT_SUMMARY);
    expect(storesIn(repoStore(), 'git')).toEqual([root]);
    const fsck = spawnSync('git', ['-C', join(repoStore(), 'git', root), 'fsck', '--no-progress', '--no-dangling']);
    expect(fsck.status).toBe(0);
  });

  it('a lock left by a killed worker is broken, and the store it guarded is rebuilt', async () => {
    const lock = join(repoStore(), 'git', `${root}.lock`);
    mkdirSync(lock);
    writeFileSync(
      join(lock, 'owner.json'),
      JSON.stringify({
        pid: await deadPid(),
        host: hostname(),
        boot: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
        purpose: `fetch into ${join(repoStore(), 'git', root)}`,
        since: new Date().toISOString(),
      }),
    );
    const fourth = farm.commit('main', { 'other.txt': 'a fourth change\n' }, 'fourth');
    const job = await push(fourth);
    expect(await logOf(client, job.id)).toContain(`pristine at ${fourth}`);
    expect(await checkoutLogOf(client, job.id)).toContain('abandoned-store');
    expect(existsSync(lock)).toBe(false);
    expect(storesIn(repoStore(), 'git')).toEqual([root]);
  });
});

describe('two workers on one machine share one repository store', () => {
  const farm = new WarmFarm();
  const repoStore = join(farm.dir, 'shared-repos');
  let client: SwitchyardClient;
  const workDirs: string[] = [];

  beforeAll(async () => {
    client = await farm.start(`
repos: [{ name: demo, url: $REPO }]
builders:
  - { name: left, repo: demo, pool: linux, steps: [{ name: check, run: ./check.sh }] }
  - { name: right, repo: demo, pool: linux, steps: [{ name: check, run: ./check.sh }] }
`);
    workDirs.push(farm.startWorker('w1', 'linux', repoStore), farm.startWorker('w2', 'linux', repoStore));
  });

  afterAll(() => farm.close());

  it('checks out into a cold store from both at once: one store, fetched once, a tree for each', async () => {
    const revision = farm.commit('main', {
      'check.sh': '#!/bin/sh\n[ "$(git rev-parse HEAD)" = "$SWITCHYARD_REVISION" ] && echo "at $SWITCHYARD_REVISION"\n',
      'README.md': 'shared\n',
    });
    // Both checkouts find the repository's first fetch under way, so both wait, then race for the store.
    const url = farm.bare;
    const firstFetch = await acquireLock(new StoreLayout(repoStore).discoveryLockPath('git', url), {
      purpose: 'the test holding the first fetch',
    });
    const created = await client.createPush({ repo: 'demo', branch: 'main', revision });
    try {
      await pollUntil(
        async () => {
          const logs = await Promise.all(created.jobs.map((job) => logOf(client, job.id)));
          return logs.every((log) => log.includes('waiting for the test holding the first fetch'));
        },
        30_000,
        'both checkouts to wait for the store',
      );
    } finally {
      await firstFetch.release();
    }
    const done = await waitForPushFinal(client, created.id);
    expect(done.jobs.map((job) => job.state)).toEqual(['success', 'success']);
    const jobs = await Promise.all(done.jobs.map((job) => client.getJob(job.id)));
    expect(new Set(jobs.map((job) => job.attempts[0]?.worker))).toEqual(new Set(['w1', 'w2']));
    const summaries = await Promise.all(
      jobs.map(async (job) => (await checkoutLogOf(client, job.id)).match(CHECKOUT_SUMMARY)?.[1]),
    );
    expect(summaries.sort()).toEqual(['new store', 'store warm']);
    for (const job of jobs) expect(await logOf(client, job.id)).toContain(`at ${revision}`);

    const root = git(farm.work, 'rev-list', '--max-parents=0', 'HEAD');
    expect(readdirSync(repoStore).filter((name) => name !== 'urls' && name !== 'tmp')).toEqual(['git']);
    expect(readdirSync(join(repoStore, 'git'))).toEqual([root]);
    expect(existsSync(join(repoStore, 'tmp')) ? readdirSync(join(repoStore, 'tmp')) : []).toEqual([]);
    const worktrees = git(join(repoStore, 'git', root), 'worktree', 'list', '--porcelain');
    for (const workDir of workDirs) {
      const tree = join(workDir, 'trees', 'demo');
      expect(git(tree, 'rev-parse', 'HEAD')).toBe(revision);
      expect(worktrees).toContain(`worktree ${tree}\n`);
    }
  });
});

describe('builder checkout settings', () => {
  it('`switchyard validate` refuses sparse on Mercurial, tools without a checkout and a manifest outside the repository', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'switchyard-validate-'));
    try {
      const repos = `repos:
  - { name: demo, url: /srv/git/demo.git }
  - { name: legacy, url: "https://hg.example.org/legacy", vcs: hg }
`;
      const step = 'steps: [{ name: s, run: "true" }]';
      const valid = join(dir, 'valid.yml');
      writeFileSync(
        valid,
        `${repos}builders:
  - { name: narrow, repo: demo, pool: linux, sparse: [src, docs/api], depth: 5, tools: src/tools/m.tt, ${step} }
  - { name: legacy, repo: legacy, pool: linux, ${step} }
`,
      );
      const invalid = join(dir, 'invalid.yml');
      writeFileSync(
        invalid,
        `${repos}builders:
  - { name: a, repo: legacy, pool: linux, sparse: [src], ${step} }
  - { name: b, repo: demo, pool: linux, checkout: false, tools: tools/m.tt, ${step} }
  - { name: c, repo: demo, pool: linux, tools: ../x, ${step} }
`,
      );
      const [accepted, refused] = await Promise.all([valid, invalid].map((f) => switchyardCommand(['validate', f])));
      expect(accepted).toEqual({ code: 0, output: `${valid} is valid: 2 repos, 2 builders (pools: linux)\n` });
      expect(refused?.code).toBe(1);
      expect(refused?.output).toContain(`${invalid}: invalid configuration\n`);
      expect(refused?.output.split('\n').filter((line) => line.startsWith('  '))).toEqual([
        '  builders[0].sparse: is for git repositories only; repo "legacy" is Mercurial',
        '  builders[1].tools: needs a checkout; remove it or `checkout: false`',
        '  builders[2].tools: expected a file inside the repository, got "../x"',
      ]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

const TREE_SHAPE_CHECK = `#!/bin/sh
set -eu
fail() { echo "WRONG TREE: $*" >&2; exit 1; }
[ "$(git rev-parse HEAD)" = "$SWITCHYARD_REVISION" ] || fail "HEAD is not the pushed revision"
[ -z "$(git status --porcelain --ignored)" ] || fail "git status: $(git status --porcelain --ignored)"
top=$(ls -A | LC_ALL=C sort | tr '\\n' ' ')
commits=$(git rev-list --count HEAD)
shallow=$(git rev-parse --is-shallow-repository)
sparse=$(git sparse-checkout list 2>/dev/null | tr '\\n' ' ' || true)
echo "top: $top; commits: $commits; shallow: $shallow; sparse: $sparse"
case "$SWITCHYARD_BUILDER" in
  sparse)
    [ "$top" = ".git README.md shape.sh src " ] || fail "sparse tree holds $top"
    [ -f src/lib/util.c ] || fail "src/lib/util.c is missing"
    [ "$sparse" = "src " ] || fail "sparse paths: $sparse" ;;
  full)
    [ "$top" = ".git README.md docs shape.sh src " ] || fail "full tree holds $top"
    [ "$sparse" = "" ] || fail "still sparse: $sparse"
    [ "$shallow" = false ] || fail "shallow history" ;;
  shallow)
    [ "$top" = ".git README.md docs shape.sh src " ] || fail "shallow tree holds $top"
    [ "$commits" = 1 ] || fail "$commits commits of history"
    [ "$shallow" = true ] || fail "not shallow" ;;
esac
echo "$SWITCHYARD_BUILDER tree as expected"
`;

describe('sparse and shallow checkouts, in turn with full ones on one worker', () => {
  const farm = new WarmFarm();
  let client: SwitchyardClient;
  let workDir: string;

  beforeAll(async () => {
    client = await farm.start(`
repos: [{ name: demo, url: $REPO }]
builders:
  - { name: sparse, repo: demo, pool: linux, sparse: [src], steps: [{ name: look, run: ./shape.sh }] }
  - { name: full, repo: demo, pool: linux, after: sparse, steps: [{ name: look, run: ./shape.sh }] }
  - { name: shallow, repo: demo, pool: linux, after: full, depth: 1, steps: [{ name: look, run: ./shape.sh }] }
`);
    workDir = farm.startWorker('w1', 'linux');
  });

  afterAll(() => farm.close());

  it('each builder sees its own shape of the tree, the worker switching between them', async () => {
    farm.commit('main', {
      'shape.sh': TREE_SHAPE_CHECK,
      'README.md': 'one\n',
      'src/main.c': 'int main(void) { return 0; }\n',
      'src/lib/util.c': 'int util;\n',
      'docs/guide.md': '# Guide\n',
    });
    const second = farm.commit('main', { 'README.md': 'two\n' });
    const third = farm.commit('main', { 'src/main.c': 'int main(void) { return 1; }\n' });
    for (const revision of [second, third]) {
      const jobs = await pushAndSucceed(client, { repo: 'demo', branch: 'main', revision });
      expect(jobs.map((job) => job.builder)).toEqual(['sparse', 'full', 'shallow']);
      for (const job of jobs) expect(await logOf(client, job.id)).toContain(`${job.builder} tree as expected`);
    }
    const repoStore = join(workDir, 'repos');
    expect(storesIn(repoStore, 'git')).toEqual([git(farm.work, 'rev-list', '--max-parents=0', 'HEAD')]);
    expect(storesIn(repoStore, 'git-shallow')).toHaveLength(1);
  });
});

describe('tools from a tooltool manifest, fetched into the tree', () => {
  const farm = new WarmFarm();
  const tool = Buffer.from('toolchain 1.2.3\n');
  const digest = createHash('sha512').update(tool).digest('hex');
  let client: SwitchyardClient;
  let workDir: string;
  const push = async (revision: string) =>
    (await pushAndSucceed(client, { repo: 'demo', branch: 'main', revision }))[0] as JobDetail;
  const toolsLine = async (job: JobDetail) =>
    (await logOf(client, job.id)).split('\n').find((line) => line.startsWith('tools from tools/manifest.tt:'));

  beforeAll(async () => {
    client = await farm.start(`
repos: [{ name: demo, url: $REPO }]
builders:
  - { name: tooled, repo: demo, pool: linux, tools: tools/manifest.tt, steps: [{ name: use, run: ./use-tool.sh }] }
`);
    workDir = farm.startWorker('w1', 'linux');
  });

  afterAll(() => farm.close());

  it('downloads a tool from the coordinator once, then takes it from the cache, and fetches again a damaged copy', async () => {
    const upload = await fetch(`${farm.server.url}${toolPath(digest)}`, {
      method: 'PUT',
      body: tool,
      headers: {
        'content-type': 'application/octet-stream',
        [TOOL_FILENAME_HEADER]: 'toolchain.txt',
        [TOOL_VISIBILITY_HEADER]: 'public',
      },
    });
    expect(upload.status).toBe(201);
    const manifest = [{ filename: 'toolchain.txt', size: tool.length, digest, algorithm: 'sha512' }];
    farm.commit('main', {
      'tools/manifest.tt': `${JSON.stringify(manifest, null, 2)}\n`,
      'use-tool.sh': `#!/bin/sh\nset -eu\n[ "$(cat toolchain.txt)" = "toolchain 1.2.3" ]\n[ "$(sha512sum < toolchain.txt | cut -d' ' -f1)" = ${digest} ]\necho "the tool is in place"\n`,
    });

    const first = await push(farm.commit('main', { 'README.md': 'one\n' }));
    expect(first.attempts[0]?.steps.map((s) => [s.name, s.state])).toEqual([
      ['checkout', 'success'],
      ['fetch-tools', 'success'],
      ['use', 'success'],
    ]);
    expect(await logOf(client, first.id)).toContain('the tool is in place');
    expect(await toolsLine(first)).toMatch(/: 1 files, 0 from the cache, 1 downloaded \(16 B\) in \d+ ms$/);
    expect(timingsOf(first).toolsMs).toEqual(expect.any(Number));

    const second = await push(farm.commit('main', { 'README.md': 'two\n' }));
    expect(await toolsLine(second)).toMatch(/: 1 files, 1 from the cache, 0 downloaded \(0 B\) in \d+ ms$/);
    expect(timingsOf(second).toolsMs).toEqual(expect.any(Number));

    const cached = join(workDir, 'tool-cache', digest);
    chmodSync(cached, 0o600);
    writeFileSync(cached, 'toolchain 6.6.6\n');
    const third = await push(farm.commit('main', { 'README.md': 'three\n' }));
    expect(await logOf(client, third.id)).toContain('toolchain.txt: the cached copy has');
    expect(await toolsLine(third)).toMatch(/: 1 files, 0 from the cache, 1 downloaded \(16 B\) in \d+ ms$/);
    expect(readFileSync(cached)).toEqual(tool);
  });
});

const hgInstalled = spawnSync('hg', ['--version'], { stdio: 'ignore' }).status === 0;
const hgRequired = process.env.SWITCHYARD_REQUIRE_HG === '1';

function hg(cwd: string, ...args: string[]): string {
  return execFileSync('hg', args, { cwd, encoding: 'utf8', env: { ...process.env, HGPLAIN: '1' } }).trim();
}

describe.skipIf(!hgInstalled && !hgRequired)('Mercurial: a share of a store per repository, purged and updated', () => {
  const farm = new WarmFarm();
  const repo = join(farm.dir, 'legacy');
  let client: SwitchyardClient;
  let workDir: string;

  /** Commits files (executable when they end in .sh) and returns the changeset id. */
  const commit = (files: Record<string, string>, message = 'change') => {
    for (const [name, content] of Object.entries(files)) {
      const path = join(repo, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, content);
      if (name.endsWith('.sh')) chmodSync(path, 0o755);
    }
    hg(repo, 'commit', '--addremove', '--quiet', '-u', 'test', '-m', message);
    return hg(repo, 'log', '-r', '.', '--template', '{node}');
  };
  const push = async (revision: string) =>
    (await pushAndSucceed(client, { repo: 'legacy', branch: 'default', revision }))[0] as JobDetail;

  beforeAll(async () => {
    if (!hgInstalled) throw new Error('SWITCHYARD_REQUIRE_HG=1, but `hg` is not installed');
    hg(farm.dir, 'init', repo);
    client = await farm.start(`
repos: [{ name: legacy, url: "file://${repo}", vcs: hg }]
builders:
  - { name: pristine, repo: legacy, pool: linux, steps: [{ name: check, run: ./check.sh }] }
`);
    workDir = farm.startWorker('w1', 'linux');
  });

  afterAll(() => farm.close());

  it('the second job finds none of what the first left in the tree', async () => {
    const first = commit(pristineFiles(HG_LEFTOVERS, { '.hgignore': 'syntax: glob\nobj\n' }), 'first');
    const job1 = await push(first);
    expect(await logOf(client, job1.id)).toContain('left the tree dirty');
    expect(await checkoutLogOf(client, job1.id)).toMatch(/\(new store/);

    const second = commit({ 'other.txt': 'another change\n' }, 'second');
    const job2 = await push(second);
    expect(await logOf(client, job2.id)).toContain(`pristine at ${second}`);
    const checkoutLog = await checkoutLogOf(client, job2.id);
    expect(checkoutLog).toMatch(CHECKOUT_SUMMARY);
    expect(checkoutLog).toMatch(/\(store updated/);
    const timings = timingsOf(job2);
    for (const phase of ['lockMs', 'fetchMs', 'checkoutMs', 'cleanMs'] as const) {
      expect(timings[phase]).toEqual(expect.any(Number));
    }
    const repoStore = join(workDir, 'repos');
    expect(storesIn(repoStore, 'hg')).toEqual([hg(repo, 'log', '-r', '0', '--template', '{node}')]);
    expect(readFileSync(join(workDir, 'trees', 'legacy', '.hg', 'sharedpath'), 'utf8')).toContain(
      join(repoStore, 'hg'),
    );
  });

  it('the check would have failed the job on any one leftover', () => {
    const scratch = join(farm.dir, 'scratch-clone');
    hg(farm.dir, 'clone', '--quiet', repo, scratch);
    const revision = hg(scratch, 'log', '-r', 'tip', '--template', '{node}');
    expectEachLeftoverCaught(scratch, revision, HG_LEFTOVERS, () =>
      hg(scratch, 'update', '--quiet', '--clean', '-r', revision),
    );
  });
});
