/**
 * The workload of bench/event-fanout.ts, shared by its driver and by the coordinator process it
 * starts: two repositories of 24 builders each (12 ready, 12 after them), so a push makes 25
 * events (push.created, 12 job.pending, 12 job.waiting), as a push to a real farm makes a job
 * per platform and suite; and the subscribers' filters.
 */
import type { CreatePushRequest } from '@switchyard/protocol';

const TRY_BRANCHES = 50;
const AUTHORS = 20;
const REPOS = ['app', 'lib'];
const PLATFORMS = ['linux', 'linux64', 'mac', 'win32', 'win64', 'android'];
const BUILDERS = [
  ...PLATFORMS.flatMap((p) => [`build-${p}`, `lint-${p}`]),
  ...PLATFORMS.flatMap((p) => [`test-${p}`, `talos-${p}`]),
];
const READY = BUILDERS.length / 2;
const BRANCHES = ['main', 'release/1.0', ...Array.from({ length: TRY_BRANCHES }, (_, i) => `try/${i + 1}`)];

export const EVENTS_PER_PUSH = 1 + BUILDERS.length;

export const FANOUT_CONFIG = `
# Every subscriber connects from this one machine: no per-client connection cap.
server: { max_connections_per_client: 0 }
repos:
${REPOS.map((name) => `  - { name: ${name}, url: $REPO }`).join('\n')}
builders:
${REPOS.flatMap((repo) =>
  BUILDERS.map((builder, i) => {
    const after = i >= READY ? `, after: ${repo}-${BUILDERS[i - READY]}` : '';
    return `  - { name: ${repo}-${builder}, repo: ${repo}, pool: bench${after}, checkout: false, steps: [{ name: s, run: "true" }] }`;
  }),
).join('\n')}
`;

/** The n-th push: repositories alternate, branches and authors spread. */
export function pushRequest(n: number, revision: string): CreatePushRequest {
  const author = 1 + (n % AUTHORS);
  return {
    repo: REPOS[n % 2] as string,
    branch: BRANCHES[(n * 31) % BRANCHES.length] as string,
    revision,
    author: `Dev ${author} <dev${author}@example.org>`,
  };
}

/** The i-th subscriber's query: most narrow (a try branch, an author, a pattern), some broad, two the firehose. */
export function filterFor(index: number): string {
  const pick = (n: number) => 1 + ((index * 7919) % n);
  switch (index % 10) {
    case 0:
    case 1:
    case 2:
    case 3:
      return `branch=try/${pick(TRY_BRANCHES)}`;
    case 4:
    case 5:
      return `routing_key=${encodeURIComponent(`job.*.${REPOS[index % 2]}.try/${pick(TRY_BRANCHES)}.#`)}`;
    case 6:
      return `author=${encodeURIComponent(`dev${pick(AUTHORS)}@example.org`)}`;
    case 7:
      return `types=push.created&repo=${REPOS[index % 2]}`;
    case 8:
      return `types=job.waiting&builder=${REPOS[index % 2]}-${BUILDERS[READY + (index % READY)]}`;
    default:
      return index === 9 || index === 509 ? '' : `routing_key=${encodeURIComponent('push.created.lib.main.#')}`;
  }
}

/**
 * Calls `send(n)` for pushes 0, 1, 2, … on a schedule of `pushesPerSecond` for `seconds` (or
 * until `total` are sent), with at most `concurrency` outstanding; resolves with the number sent
 * and failed.
 */
export async function produce(
  send: (n: number) => Promise<unknown>,
  pushesPerSecond: number,
  seconds: number,
  concurrency: number,
  total = Number.POSITIVE_INFINITY,
): Promise<{ sent: number; failed: number; elapsed: number }> {
  let sent = 0;
  let failed = 0;
  const start = Date.now();
  const inFlight = new Set<Promise<unknown>>();
  while (Date.now() - start < seconds * 1000 && sent < total) {
    const due = Math.min(total, Math.floor(((Date.now() - start) / 1000) * pushesPerSecond));
    while (sent < due && inFlight.size < concurrency) {
      const push = send(sent).catch(() => {
        failed += 1;
      });
      sent += 1;
      inFlight.add(push);
      void push.finally(() => inFlight.delete(push));
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  await Promise.all(inFlight);
  return { sent, failed, elapsed: (Date.now() - start) / 1000 };
}
