import type { Scenario, WorkerGroup } from './scenario.ts';

export interface FarmWorker {
  name: string;
  group: WorkerGroup;
}

/** The scenario's machines, one per count of each group, named `<group>-<n>`. */
export function farmWorkers(scenario: Pick<Scenario, 'workers'>): FarmWorker[] {
  return scenario.workers.flatMap((group) =>
    Array.from({ length: group.count }, (_, i) => ({ name: `${group.name}-${i + 1}`, group })),
  );
}
