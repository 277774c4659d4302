import { afterNames, findCycle } from '@switchyard/coordinator/config/builder-dependencies';
import { ConfigError, type ConfigProblem } from '@switchyard/coordinator/config/config-error';
import { DEFAULT_SCHEDULING } from '@switchyard/coordinator/config/farm-config';
import { schemaProblems } from '@switchyard/coordinator/config/schema-problems';
import { parseYamlMapping, readConfigText } from '@switchyard/coordinator/config/yaml-file';
import { Compile } from 'typebox/compile';
import { type Builder, type BusyHours, type Scenario, ScenarioFile } from './scenario.ts';

const validator = Compile(ScenarioFile);

export const DEFAULTS = {
  branchPriority: 4,
  speed: 1,
  jitter: 0.1,
  agingMinutes: DEFAULT_SCHEDULING.agingMs / 60_000,
  fitBand: DEFAULT_SCHEDULING.fitBand,
  coalesceLimit: 8,
  maxAttempts: 3,
} as const;

/** Reads and validates a scenario file; throws ConfigError naming the file and every problem. */
export async function loadScenarioFile(file: string): Promise<Scenario> {
  const text = await readConfigText(file);
  return parseScenario(file, text);
}

export function parseScenario(file: string, text: string): Scenario {
  const value = parseYamlMapping(file, text, '`seed:`, `duration_hours:`, `branches:`, `workers:`, `builders:`');
  if (!validator.Check(value))
    throw new ConfigError(file, schemaProblems(validator, value, 'docs/guide/scheduling.md#to-simulate-the-scheduler'));
  const problems = semanticProblems(value);
  if (problems.length > 0) throw new ConfigError(file, problems);
  return compileScenario(value);
}

function semanticProblems(file: ScenarioFile): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const branchNames = new Set<string>();
  file.branches.forEach((branch, i) => {
    if (branchNames.has(branch.name))
      problems.push({ path: `branches[${i}].name`, message: `duplicate branch "${branch.name}"` });
    branchNames.add(branch.name);
  });
  const groupNames = new Set<string>();
  file.workers.forEach((group, i) => {
    const name = group.name ?? defaultGroupName(group.pool, i);
    if (groupNames.has(name))
      problems.push({ path: `workers[${i}]`, message: `duplicate worker group name "${name}" (set \`name:\`)` });
    groupNames.add(name);
  });
  busyHoursList(file.busy_hours).forEach((window, i) => {
    if (window.from === window.to) {
      const path = Array.isArray(file.busy_hours) ? `busy_hours[${i}]` : 'busy_hours';
      problems.push({ path, message: '`from` and `to` are the same hour: the window is empty' });
    }
  });
  const pools = new Set(file.workers.map((group) => group.pool));
  const builders = new Map<string, number>();
  file.builders.forEach((builder, i) => {
    if (!builders.has(builder.name)) builders.set(builder.name, i);
  });
  file.builders.forEach((builder, i) => {
    const path = `builders[${i}]`;
    if (builders.get(builder.name) !== i)
      problems.push({
        path: `${path}.name`,
        message: `duplicate builder "${builder.name}" (first at builders[${builders.get(builder.name)}])`,
      });
    if (!pools.has(builder.pool))
      problems.push({
        path: `${path}.pool`,
        message: `no workers in pool "${builder.pool}" (pools with workers: ${[...pools].join(', ')})`,
      });
    if (builder.warm_minutes !== undefined && builder.warm_minutes > builder.minutes)
      problems.push({ path: `${path}.warm_minutes`, message: `expected at most \`minutes\` (${builder.minutes})` });
    if (builder.coalesce_limit !== undefined && builder.coalesce !== 'latest')
      problems.push({ path: `${path}.coalesce_limit`, message: 'only means something with `coalesce: latest`' });
    builder.branches?.forEach((name, j) => {
      if (!branchNames.has(name))
        problems.push({
          path: `${path}.branches[${j}]`,
          message: `expected one of the branches (${[...branchNames].join(', ')}), got "${name}"`,
        });
    });
    afterNames(builder).forEach((name, j) => {
      const afterPath = Array.isArray(builder.after) ? `${path}.after[${j}]` : `${path}.after`;
      const target = builders.get(name);
      if (target === undefined) {
        problems.push({ path: afterPath, message: `expected the name of a builder, got "${name}"` });
        return;
      }
      const missing = branchesMissing(builder.branches, file.builders[target]?.branches, [...branchNames]);
      if (missing.length > 0)
        problems.push({
          path: afterPath,
          message: `"${name}" does not run on ${missing.join(', ')}, where this builder runs`,
        });
    });
  });
  if (problems.length === 0) {
    const cycle = findCycle(file.builders);
    if (cycle)
      problems.push({
        path: `builders[${builders.get(cycle[0] as string)}].after`,
        message: `dependency cycle: ${cycle.join(' → ')}`,
      });
  }
  return problems;
}

function branchesMissing(mine: string[] | undefined, theirs: string[] | undefined, all: string[]): string[] {
  if (theirs === undefined) return [];
  return (mine ?? all).filter((branch) => !theirs.includes(branch));
}

function defaultGroupName(pool: string, index: number): string {
  return `${pool}-${index + 1}`;
}

function busyHoursList(busy: ScenarioFile['busy_hours']): BusyHours[] {
  if (busy === undefined) return [];
  return Array.isArray(busy) ? busy : [busy];
}

function compileScenario(file: ScenarioFile): Scenario {
  const builders: Builder[] = file.builders.map((b) => {
    const after = afterNames(b);
    return {
      name: b.name,
      pool: b.pool,
      coldMinutes: b.minutes,
      warmMinutes: b.warm_minutes ?? b.minutes,
      after,
      branches: b.branches ? new Set(b.branches) : null,
      priorityOffset: b.priority ?? 0,
      // Builds (nothing before them) want fast machines; what follows them leaves those free.
      prefer: b.prefer ?? (after.length === 0 ? 'fast' : 'slow'),
      coalesceLimit: b.coalesce === 'latest' ? (b.coalesce_limit ?? DEFAULTS.coalesceLimit) : null,
      failureRate: b.failure_rate ?? 0,
      maxAttempts: b.max_attempts ?? DEFAULTS.maxAttempts,
    };
  });
  return {
    seed: file.seed,
    durationHours: file.duration_hours,
    jitter: file.jitter ?? DEFAULTS.jitter,
    busyHours: busyHoursList(file.busy_hours),
    agingMinutes: file.scheduling?.aging_minutes ?? DEFAULTS.agingMinutes,
    fitBand: file.scheduling?.fit_band ?? DEFAULTS.fitBand,
    branches: file.branches.map((b) => ({
      name: b.name,
      priority: b.priority ?? DEFAULTS.branchPriority,
      pushesPerHour: b.pushes_per_hour,
      exact: b.exact ?? false,
    })),
    workers: file.workers.map((w, i) => ({
      pool: w.pool,
      count: w.count,
      speed: w.speed ?? DEFAULTS.speed,
      exceptionRate: w.exception_rate ?? 0,
      name: w.name ?? defaultGroupName(w.pool, i),
    })),
    builders: dependencyOrder(builders),
  };
}

/** Builders with every builder after the ones it runs after (the file's order where free). */
function dependencyOrder(builders: Builder[]): Builder[] {
  const placed = new Set<string>();
  const ordered: Builder[] = [];
  const byName = new Map(builders.map((b) => [b.name, b]));
  const place = (builder: Builder) => {
    if (placed.has(builder.name)) return;
    placed.add(builder.name);
    for (const name of builder.after) place(byName.get(name) as Builder);
    ordered.push(builder);
  };
  builders.forEach(place);
  return ordered;
}
