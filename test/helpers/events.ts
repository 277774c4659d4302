import { type EventFilter, isFinalJobState, type SwitchyardClient, type SwitchyardEvent } from '@switchyard/protocol';

/** Reads the event stream from the start until `done` says so; fails after `timeoutMs`. */
export async function collectEvents(
  client: SwitchyardClient,
  done: (seen: SwitchyardEvent[]) => boolean,
  options: EventFilter & { since?: number; timeoutMs?: number } = {},
): Promise<SwitchyardEvent[]> {
  const abort = new AbortController();
  const timeoutMs = options.timeoutMs ?? 45_000;
  const timer = setTimeout(() => abort.abort(), timeoutMs);
  const seen: SwitchyardEvent[] = [];
  try {
    for await (const event of client.events({ ...options, since: options.since ?? 0, signal: abort.signal })) {
      seen.push(event);
      if (done(seen)) return seen;
    }
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
  const summary = seen.map((e) => `${e.id} ${e.type}`).join('\n');
  throw new Error(`condition not reached within ${timeoutMs} ms; events seen:\n${summary}`);
}

/** Waits until every job of a push is final and returns the push. */
export async function waitForPushFinal(client: SwitchyardClient, pushId: number, timeoutMs = 45_000) {
  await collectEvents(
    client,
    (seen) => {
      const finished = new Set(
        seen.filter((e) => e.type === 'job.finished').map((e) => (e.data as { job: { id: number } }).job.id),
      );
      const created = seen.find((e) => e.type === 'push.created');
      const jobs = (created?.data as { push: { jobs: { id: number }[] } } | undefined)?.push.jobs ?? [];
      return jobs.length > 0 && jobs.every((j) => finished.has(j.id));
    },
    { push: pushId, timeoutMs },
  );
  const push = await client.getPush(pushId);
  for (const job of push.jobs) if (!isFinalJobState(job.state)) throw new Error(`job ${job.id} is ${job.state}`);
  return push;
}
