import { join, relative, resolve } from 'node:path';
import { JOB_STATES, type Push, SwitchyardClient } from '@switchyard/protocol';
import { followEvents } from '../follow-events.ts';
import { formatEventLine } from '../format/event-line.ts';
import { shortRevision } from '../format/labels.ts';
import { plural } from '../format/plural.ts';
import { summarizeStates } from '../format/states.ts';
import { styleFor } from '../format/style.ts';
import { JOB_STATE_EVENT_TYPES, JobTracker } from '../job-tracker.ts';
import { assertPortFree } from '../launch-coordinator.ts';
import { listenForShutdown, pause, whenAborted } from '../shutdown.ts';
import { DEMO_POOL, DEMO_REPO, writeDemoConfig } from './demo-config.ts';
import { prepareDemoDirectory } from './demo-directory.ts';
import { DEMO_HOST, DEMO_WORKER_NAMES, startDemoFarm } from './demo-farm.ts';
import { DemoRepository } from './demo-repository.ts';
import { DEMO_REVISIONS } from './demo-revisions.ts';
import { formatNextSteps } from './next-steps.ts';

const PUSH_INTERVAL_MS = 1000;
const SHOWN_EVENT_TYPES = ['push.created', ...JOB_STATE_EVENT_TYPES, 'worker.connected', 'worker.disconnected'];

export interface DemoOptions {
  port: number;
  dir: string;
  keepRunning: boolean;
}

export async function runDemo(options: DemoOptions): Promise<void> {
  const shutdown = listenForShutdown();
  const style = styleFor(process.stdout);
  const dir = resolve(options.dir);
  // A busy port is often a demo still running from this very directory: check before deleting it.
  await assertPortFree({ port: options.port, host: DEMO_HOST });
  const replaced = await prepareDemoDirectory(dir);
  console.log(
    style('bold', `Switchyard demo in ${displayPath(dir)}`) +
      (replaced ? ' (the previous demo there was removed)' : ''),
  );

  const { repository, first } = await DemoRepository.create(dir);
  console.log(`  repository   ${displayPath(repository.url)} (main at ${shortRevision(first.revision)})`);
  const { configPath, config } = await writeDemoConfig(dir, repository.url);
  const builders = config.builders.map((builder) => builder.name).join(', ');
  console.log(`  config       ${displayPath(configPath)}: repo ${DEMO_REPO}, builders ${builders}`);
  const farm = await startDemoFarm({ dir, configPath, port: options.port });
  console.log(`  coordinator  ${farm.url}`);
  console.log(`  workers      ${DEMO_WORKER_NAMES.join(', ')} in pool ${DEMO_POOL}`);
  console.log(
    `  logs         ${displayPath(join(dir, 'coordinator.log'))}, ${displayPath(join(dir, 'workers'))}/*.log`,
  );

  const client = new SwitchyardClient({ server: farm.url });
  const tracker = new JobTracker();
  console.log(`\nPushing ${plural(DEMO_REVISIONS.length, 'revision')}, one a second; every job change follows.\n`);
  // The coordinator's data directory is new, so replaying from event 0 shows everything from the start.
  const follower = followEvents(client, { since: 0, types: SHOWN_EVENT_TYPES }, (event) => {
    console.log(formatEventLine(event, style));
    tracker.observe(event);
  });
  try {
    const pushes = await pushRevisions(repository, client, tracker, shutdown);
    await Promise.race([tracker.settled, follower.failed, whenAborted(shutdown)]);
    if (tracker.isSettled) {
      const states = tracker.expectedStates();
      console.log(`\nAll ${plural(states.length, 'job')} are final: ${summarizeStates(states, JOB_STATES, style)}.\n`);
    }
    if (options.keepRunning && !shutdown.aborted) {
      const lastPush = pushes.at(-1);
      const buildJob = lastPush?.jobs.find((job) => job.builder === 'build') ?? lastPush?.jobs[0];
      console.log(`${formatNextSteps(farm.url, buildJob?.id, style)}\n`);
      await Promise.race([whenAborted(shutdown), follower.failed]);
    }
    process.exitCode = options.keepRunning || tracker.allSucceeded ? 0 : 1;
  } finally {
    await follower.stop();
    console.log('stopping the workers, then the coordinator');
    await farm.stop();
    console.log('demo stopped');
  }
}

/** Commits and pushes each demo revision, a second apart, telling the tracker about their jobs. */
async function pushRevisions(
  repository: DemoRepository,
  client: SwitchyardClient,
  tracker: JobTracker,
  shutdown: AbortSignal,
): Promise<Push[]> {
  const pushes: Push[] = [];
  for (const [index, revision] of DEMO_REVISIONS.entries()) {
    if (index > 0) await pause(PUSH_INTERVAL_MS, shutdown);
    if (shutdown.aborted) break;
    const commit = await repository.commit(revision);
    const push = await client.createPush({ repo: DEMO_REPO, branch: revision.branch, ...commit });
    pushes.push(push);
    tracker.expect(push.jobs);
  }
  tracker.seal();
  return pushes;
}

/** A path relative to the working directory when it is inside it, else absolute. */
function displayPath(path: string): string {
  const fromHere = relative(process.cwd(), path);
  return fromHere === '' ? '.' : fromHere.startsWith('..') ? path : fromHere;
}
