/**
 * The scheduler's decision time with 10,000 pending jobs and 500 workers, pooled-smart rules
 * (priorities with aging, fit band, warm caches, speed, health, coalescing):
 *   (a) one worker comes free while the other 499 are busy: one schedule() call, one decision;
 *   (b) all 500 workers wait at once: one schedule() call, 500 decisions (time / decisions).
 * Prints the median and p99 over many runs, of wall time and of the process's CPU time (which
 * leaves out the time a busy shared machine keeps the benchmark off its cores).
 *
 *   npm run bench:scheduler [-- --runs 200]
 */

import { loadavg } from 'node:os';
import { everyRule, type SchedulableJob, type SchedulableWorker, schedule } from '@switchyard/coordinator/scheduler';
import { type Random, seededRandom } from '@switchyard/simulator';
import { describeMachine, percentile } from './machine.ts';
import { numberOption } from './options.ts';

const RUNS = numberOption('runs', 200);
const PENDING = 10_000;
const WORKERS = 500;
const MINUTE = 60_000;
const NOW = 1_000_000 * MINUTE;

const BRANCHES = [
  { name: 'release', priority: 0, share: 0.03 },
  { name: 'beta', priority: 2, share: 0.07 },
  { name: 'central', priority: 3, share: 0.25 },
  { name: 'inbound', priority: 4, share: 0.2 },
  { name: 'try', priority: 5, share: 0.45 },
];
interface BenchBuilder {
  name: string;
  prefer: 'fast' | 'slow' | 'any';
  coalesce: boolean;
  tags: Record<string, string>;
}

/** Builds, test suites and Talos, as in examples/mozilla-2010.yaml, on four platforms. */
const BUILDERS = ['linux', 'linux64', 'win32', 'macosx'].flatMap((platform): BenchBuilder[] => [
  { name: `${platform}-opt`, prefer: 'fast', coalesce: false, tags: {} },
  { name: `${platform}-debug`, prefer: 'fast', coalesce: false, tags: {} },
  ...['mochitest-1', 'mochitest-2', 'mochitest-other', 'reftest', 'xpcshell'].map(
    (suite): BenchBuilder => ({
      name: `${platform}-${suite}`,
      prefer: 'slow',
      coalesce: true,
      tags: {},
    }),
  ),
  { name: `${platform}-talos`, prefer: 'any', coalesce: true, tags: { talos: 'yes' } },
]);

/** The live coordinator's rules and default settings. */
const POLICY = everyRule();

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

function branchOf(random: Random) {
  let roll = random();
  for (const branch of BRANCHES) {
    roll -= branch.share;
    if (roll < 0) return branch;
  }
  return BRANCHES.at(-1) as (typeof BRANCHES)[number];
}

/** 10,000 jobs pending for up to six hours, across every builder and branch. */
function pendingJobs(random: Random): SchedulableJob[] {
  return Array.from({ length: PENDING }, (_, i) => {
    const builder = pick(random, BUILDERS);
    const branch = branchOf(random);
    return {
      id: i + 1,
      builder: builder.name,
      repo: 'gecko',
      branch: branch.name,
      pool: 'farm',
      priority: branch.priority,
      pendingSince: NOW - Math.floor(random() * 360 * MINUTE),
      requiredTags: builder.tags,
      prefer: builder.prefer,
      coalesceLimit: builder.coalesce && branch.name !== 'try' ? 8 : null,
    };
  });
}

/** 500 workers, a tenth of them Talos machines, each warm for the last eight things it ran. */
function workers(random: Random): SchedulableWorker[] {
  return Array.from({ length: WORKERS }, (_, i) => ({
    name: `w${i}`,
    pool: 'farm',
    tags: i % 10 === 0 ? { talos: 'yes' } : ({} as Record<string, string>),
    warm: Array.from({ length: 8 }, () => ({
      repo: 'gecko',
      builder: pick(random, BUILDERS).name,
      branch: branchOf(random).name,
      at: NOW - Math.floor(random() * 600 * MINUTE),
    })),
    speed: 0.5 + random(),
    benchedUntil: i % 50 === 0 ? NOW + MINUTE : null,
    idleSince: NOW - Math.floor(random() * 10 * MINUTE),
  }));
}

type Farm = { all: SchedulableWorker[]; healthy: SchedulableWorker[] };

function measure(label: string, idleOf: (farm: Farm, run: number) => SchedulableWorker[]) {
  const random = seededRandom(1, 'bench');
  const pending = pendingJobs(random);
  const all = workers(random);
  const farm = { all, healthy: all.filter((w) => w.benchedUntil === null) };
  const wall: number[] = [];
  const cpu: number[] = [];
  let decisions = 0;
  for (let run = 0; run < RUNS; run++) {
    const idle = idleOf(farm, run);
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    const made = schedule({ now: NOW, pending, idle, policy: POLICY });
    const elapsed = performance.now() - start;
    const cpuUsage = process.cpuUsage(cpuBefore);
    if (made.length === 0) throw new Error('no decision');
    decisions = made.length;
    wall.push(elapsed / made.length);
    cpu.push((cpuUsage.user + cpuUsage.system) / 1000 / made.length);
  }
  const figures = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return `median ${percentile(sorted, 50).toFixed(3)} ms, p99 ${percentile(sorted, 99).toFixed(3)} ms`;
  };
  console.log(
    `${label}: ${decisions} decision(s) a call, ${RUNS} runs | per decision: wall ${figures(wall)}; CPU ${figures(cpu)}`,
  );
}

/** A different healthy worker each run, with its own warm caches and speed. */
const oneFree = ({ healthy }: Farm, run: number) => [healthy[(run * 7 + 1) % healthy.length] as SchedulableWorker];

console.log(`${describeMachine()}, load average ${loadavg()[0]?.toFixed(1)} (the machine is shared)`);
console.log(`${PENDING} pending jobs (${BUILDERS.length} builders, ${BRANCHES.length} branches), ${WORKERS} workers`);
// Warm-up, so the first runs don't measure the JIT.
measure('warm-up', oneFree);
measure('(a) 1 idle worker, 499 busy', oneFree);
measure('(b) 500 idle workers at once (10 benched)', ({ all }) => all);
