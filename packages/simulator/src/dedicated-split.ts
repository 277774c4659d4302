import type { FarmWorker } from './farm-workers.ts';
import type { Scenario } from './scenario.ts';

/**
 * The `dedicated` policy's farm: each pool's workers split among the branches that use the pool,
 * in proportion to their pushes_per_hour (largest remainder, at least one each), and each
 * branch's share holding the pool's machine groups in about the same mix as the whole pool.
 * Returns the branch each worker serves.
 */
export function dedicatedSplit(scenario: Pick<Scenario, 'branches' | 'builders'>, workers: readonly FarmWorker[]) {
  const branchOf = new Map<string, string>();
  const pools = [...new Set(workers.map((w) => w.group.pool))];
  for (const pool of pools) {
    const branches = scenario.branches.filter((branch) =>
      scenario.builders.some((b) => b.pool === pool && (b.branches === null || b.branches.has(branch.name))),
    );
    if (branches.length === 0) continue;
    const poolWorkers = interleaveGroups(workers.filter((w) => w.group.pool === pool));
    if (poolWorkers.length < branches.length) {
      throw new Error(
        `the dedicated policy needs at least one worker of pool ${pool} per branch using it: ` +
          `${poolWorkers.length} worker(s) for ${branches.length} branches`,
      );
    }
    const counts = apportion(
      branches.map((b) => b.pushesPerHour),
      poolWorkers.length,
    );
    let next = 0;
    branches.forEach((branch, i) => {
      for (let k = 0; k < (counts[i] as number); k++)
        branchOf.set((poolWorkers[next++] as FarmWorker).name, branch.name);
    });
  }
  return branchOf;
}

/** `total` seats split by weight, largest remainder first, at least one each. */
export function apportion(weights: readonly number[], total: number): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const quotas = weights.map((w) => (sum > 0 ? (w / sum) * total : total / weights.length));
  const counts = quotas.map((q) => Math.max(1, Math.floor(q)));
  let seated = counts.reduce((a, b) => a + b, 0);
  while (seated < total) {
    const i = argmax(quotas.map((q, j) => q - (counts[j] as number)));
    counts[i] = (counts[i] as number) + 1;
    seated++;
  }
  while (seated > total) {
    const i = argmax(quotas.map((q, j) => ((counts[j] as number) > 1 ? (counts[j] as number) - q : -Infinity)));
    counts[i] = (counts[i] as number) - 1;
    seated--;
  }
  return counts;
}

function argmax(values: readonly number[]): number {
  let best = 0;
  values.forEach((v, i) => {
    if (v > (values[best] as number)) best = i;
  });
  return best;
}

/** Workers ordered so that any contiguous run of them mixes the groups in proportion. */
function interleaveGroups(workers: readonly FarmWorker[]): FarmWorker[] {
  const position = new Map<FarmWorker, number>();
  const seen = new Map<FarmWorker['group'], number>();
  for (const worker of workers) {
    const index = seen.get(worker.group) ?? 0;
    seen.set(worker.group, index + 1);
    position.set(worker, index);
  }
  return [...workers].sort(
    (a, b) => ((position.get(a) as number) + 0.5) / a.group.count - ((position.get(b) as number) + 0.5) / b.group.count,
  );
}
