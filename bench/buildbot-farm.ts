import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../test/helpers/processes.ts';

/**
 * Buildbot 3.7 from Debian (`apt-get install -y buildbot buildbot-worker`) doing what the
 * throughput bench asks of Switchyard: a master with local workers, one builder whose only step
 * runs `true`, one build per change, changes sent with `buildbot sendchange`. The peer figure
 * beside ours, measured on the same machine in the same run.
 */

export function buildbotInstalled(): boolean {
  return spawnSync('buildbot', ['--version'], { stdio: 'ignore' }).status === 0;
}

export function buildbotVersion(): string {
  return execFileSync('buildbot', ['--version'], { encoding: 'utf8' }).split('\n')[0]?.trim() ?? 'buildbot';
}

/** The master's config: every change builds (no collapsing, no tree-stable wait), no web UI. */
function masterConfig(port: number, workers: number): string {
  return `from buildbot.plugins import changes, schedulers, steps, util, worker
c = BuildmasterConfig = {}
c['workers'] = [worker.Worker('w%d' % i, 'pass') for i in range(${workers})]
c['protocols'] = {'pb': {'port': 'tcp:${port}:interface=127.0.0.1'}}
c['change_source'] = [changes.PBChangeSource(user='bench', passwd='bench')]
c['schedulers'] = [schedulers.AnyBranchScheduler(name='all', treeStableTimer=None, builderNames=['trivial'])]
c['collapseRequests'] = False
factory = util.BuildFactory([steps.ShellCommand(command=['true'])])
c['builders'] = [util.BuilderConfig(name='trivial', workernames=['w%d' % i for i in range(${workers})], factory=factory)]
c['db'] = {'db_url': 'sqlite:///state.sqlite'}
c['buildbotNetUsageData'] = None
c['title'] = 'switchyard bench'
c['buildbotURL'] = 'http://127.0.0.1/'
`;
}

/**
 * What the master's log (twistd.log) has said so far, read as it grows: workers attaching to the
 * builder and builds finishing, with their results.
 */
class MasterLog {
  private fd: number | undefined;
  private readonly buffer = Buffer.alloc(1024 * 1024);
  private partial = '';
  attached = 0;
  succeeded = 0;
  failed = 0;

  constructor(private readonly path: string) {}

  read(): void {
    // The master creates its log a moment after it starts.
    if (this.fd === undefined && existsSync(this.path)) this.fd = openSync(this.path, 'r');
    if (this.fd === undefined) return;
    for (;;) {
      const bytes = readSync(this.fd, this.buffer, 0, this.buffer.length, null);
      if (bytes === 0) return;
      const lines = (this.partial + this.buffer.toString('utf8', 0, bytes)).split('\n');
      this.partial = lines.pop() ?? '';
      for (const line of lines) {
        if (/Worker w\d+ attached to trivial/.test(line)) this.attached += 1;
        const finished = /<Build trivial number:\d+ results:(\w+)>: build finished/.exec(line);
        if (finished?.[1] === 'success') this.succeeded += 1;
        else if (finished) this.failed += 1;
      }
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
  }
}

async function until(what: string, timeoutMs: number, holds: () => boolean): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    if (holds()) return;
    if (performance.now() > deadline) throw new Error(`buildbot: ${what} did not happen within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function run(command: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args[0]} exited ${code}`))));
  });
}

/**
 * Sets up a master and `workers` workers in a temporary directory, waits until every worker is
 * attached, sends `jobs` changes with `buildbot sendchange` (`concurrency` at a time, as the
 * Switchyard bench's clients push), and measures from the first submit to the moment the
 * master's log says the last build finished. Returns builds per second.
 */
export async function runBuildbotTrivialJobs(options: {
  jobs: number;
  workers: number;
  concurrency: number;
}): Promise<number> {
  const { jobs, workers, concurrency } = options;
  const dir = mkdtempSync(join(tmpdir(), 'switchyard-bench-buildbot-'));
  const children: ChildProcess[] = [];
  try {
    const port = await freePort();
    const masterDir = join(dir, 'master');
    await run('buildbot', ['create-master', '-r', masterDir]);
    writeFileSync(join(masterDir, 'master.cfg'), masterConfig(port, workers));
    children.push(spawn('buildbot', ['start', '--nodaemon', masterDir], { stdio: 'ignore' }));
    for (let i = 0; i < workers; i++) {
      const workerDir = join(dir, `w${i}`);
      await run('buildbot-worker', ['create-worker', '-r', workerDir, `127.0.0.1:${port}`, `w${i}`, 'pass']);
      children.push(spawn('buildbot-worker', ['start', '--nodaemon', workerDir], { stdio: 'ignore' }));
    }
    const log = new MasterLog(join(masterDir, 'twistd.log'));
    try {
      await until('the workers attaching', 120_000, () => {
        log.read();
        return log.attached >= workers;
      });
      const start = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < jobs) {
            next += 1;
            await run('buildbot', [
              'sendchange',
              '--master',
              `127.0.0.1:${port}`,
              '--auth',
              'bench:bench',
              '--who',
              'bench',
              '--branch',
              'main',
              '--revision',
              `r${next}`,
              'a.txt',
            ]);
          }
        }),
      );
      await until(`${jobs} builds finishing`, 1_800_000, () => {
        log.read();
        return log.succeeded + log.failed >= jobs;
      });
      const elapsed = (performance.now() - start) / 1000;
      if (log.failed > 0) throw new Error(`buildbot: ${log.failed} of ${jobs} builds did not succeed`);
      return jobs / elapsed;
    } finally {
      log.close();
    }
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await Promise.all(
      children.map((child) =>
        child.exitCode === null && child.signalCode === null
          ? new Promise((resolve) => child.once('exit', resolve))
          : undefined,
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  }
}
