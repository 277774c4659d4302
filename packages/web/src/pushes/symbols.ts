import type { JobSummary } from '@switchyard/protocol/browser';

/** One builder's jobs in a push row: its symbol, then one coloured box per job (retriggers add boxes). */
export interface BuilderGroup {
  builder: string;
  symbol: string;
  jobs: JobSummary[];
}

/**
 * A builder's short symbol, TBPL-style: the initials of its dash-, dot- or underscore-separated
 * words, digits kept whole (`test-unit` → `TU`, `build-linux64` → `BL64`, `lint` → `L`).
 */
export function builderSymbol(builder: string): string {
  const words = builder.split(/[-_./\s]+/).filter((word) => word !== '');
  if (words.length === 0) return '?';
  return words
    .map((word) => {
      const digits = /\d+$/.exec(word)?.[0] ?? '';
      const letters = word.slice(0, word.length - digits.length);
      return `${letters.slice(0, 1).toUpperCase()}${digits}`;
    })
    .join('');
}

/** A push's jobs grouped by builder, in the order the builders first appear (the config's order). */
export function groupByBuilder(jobs: readonly JobSummary[]): BuilderGroup[] {
  const groups = new Map<string, BuilderGroup>();
  for (const job of jobs) {
    let group = groups.get(job.builder);
    if (!group) {
      group = { builder: job.builder, symbol: builderSymbol(job.builder), jobs: [] };
      groups.set(job.builder, group);
    }
    group.jobs.push(job);
  }
  for (const group of groups.values()) group.jobs.sort((a, b) => a.id - b.id);
  return [...groups.values()];
}
