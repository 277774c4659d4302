import { setMaxListeners } from 'node:events';
import { SwitchyardClient, type SwitchyardEvent } from '@switchyard/protocol';

/**
 * Protocol-level workers: each holds a long-poll claim in pool `bench`, reports the job it gets
 * a success at once and claims again, until `stop` aborts. `assigned` hears of each job the
 * moment its assignment arrives. What the claim benches measure the coordinator's matching with,
 * leaving job execution out.
 */
export function startClaimers(
  server: string,
  count: number,
  stop: AbortSignal,
  assigned: (jobId: number) => void,
): Promise<unknown> {
  // Every claimer's request listens on it.
  setMaxListeners(count * 2, stop);
  const claimers = Array.from({ length: count }, async (_, i) => {
    const client = new SwitchyardClient({ server });
    const name = `c${i}`;
    while (!stop.aborted) {
      const assignment = await client
        .claim(name, { pool: 'bench', instance: name, waitSeconds: 20 }, stop)
        .catch(() => null);
      if (!assignment) continue;
      assigned(assignment.job.id);
      await client
        .withToken(assignment.attemptToken)
        .attemptFinished(assignment.attemptId, { result: 'success', finishedAt: new Date().toISOString() });
    }
  });
  return Promise.allSettled(claimers);
}

/**
 * Counts `job.finished` on the client's event stream until `jobs` have finished, failing on any
 * that did not succeed; `done` resolves then. `finished` hears each job as it ends.
 */
export function countFinishedJobs(
  client: SwitchyardClient,
  jobs: number,
  finished: (job: SwitchyardEvent<'job.finished'>['data']['job']) => void = () => {},
) {
  const abort = new AbortController();
  let count = 0;
  let resolveDone: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    resolveDone = resolve;
  });
  const consuming = (async () => {
    for await (const event of client.events({ types: ['job.finished'], signal: abort.signal })) {
      const job = (event as SwitchyardEvent<'job.finished'>).data.job;
      if (job.state !== 'success') throw new Error(`job ${job.id} ended ${job.state}`);
      finished(job);
      count += 1;
      if (count === jobs) resolveDone();
    }
  })().catch(() => undefined);
  return {
    done,
    async stop(): Promise<void> {
      abort.abort();
      await consuming;
    },
  };
}
