import { Gauge, type Registry } from 'prom-client';
import { StoreError } from '../store/errors.ts';
import type { StatsStore } from '../store/port.ts';

/**
 * The answers as Prometheus gauges, computed over the last 7 days when scraped:
 * end-to-end time and the last green push per repo and branch, wait per pool, duration and failure and exception rates
 * per builder, utilisation per worker.
 */
/** How far back a scrape looks for a branch's last green push. */
const LAST_GREEN_SEARCH = 1000;

export function registerStatsMetrics(registry: Registry, stats: StatsStore): void {
  const seconds = (ms: number | null) => (ms === null ? Number.NaN : ms / 1000);
  new Gauge({
    name: 'switchyard_push_end_to_end_seconds',
    help: 'Push → last job final, over the last 7 days, by repo, branch and statistic (median, p90)',
    labelNames: ['repo', 'branch', 'stat'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const group of (await stats.pushTimes({})).groups) {
        this.set({ repo: group.repo, branch: group.branch, stat: 'median' }, seconds(group.endToEnd.medianMs));
        this.set({ repo: group.repo, branch: group.branch, stat: 'p90' }, seconds(group.endToEnd.p90Ms));
      }
    },
  });
  new Gauge({
    name: 'switchyard_last_green_timestamp_seconds',
    help: 'When the newest push whose every job succeeded completed, by repo and branch (branches pushed to in the last 7 days)',
    labelNames: ['repo', 'branch'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const group of (await stats.pushTimes({})).groups) {
        // Bounded, so a branch that has never been green costs a scrape no more than a page or two.
        const green = await stats.lastGreen(group.repo, group.branch, LAST_GREEN_SEARCH).catch((error: unknown) => {
          // A branch with no green push yet has no sample; anything else is a real failure.
          if (error instanceof StoreError && error.kind === 'not-found') return null;
          throw error;
        });
        if (green) this.set({ repo: group.repo, branch: group.branch }, Date.parse(green.completedAt) / 1000);
      }
    },
  });
  new Gauge({
    name: 'switchyard_wait_seconds',
    help: 'Pending → started, over the last 7 days, by pool and statistic (median, p90)',
    labelNames: ['pool', 'stat'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const pool of (await stats.waitTimes({})).pools) {
        this.set({ pool: pool.pool, stat: 'median' }, seconds(pool.wait.medianMs));
        this.set({ pool: pool.pool, stat: 'p90' }, seconds(pool.wait.p90Ms));
      }
    },
  });
  new Gauge({
    name: 'switchyard_builder_duration_seconds',
    help: 'Job duration (start → finish) over the last 7 days, by builder and statistic (median, p90)',
    labelNames: ['builder', 'stat'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const builder of (await stats.builderStats({})).builders) {
        this.set({ builder: builder.builder, stat: 'median' }, seconds(builder.duration.medianMs));
        this.set({ builder: builder.builder, stat: 'p90' }, seconds(builder.duration.p90Ms));
      }
    },
  });
  new Gauge({
    name: 'switchyard_builder_outcome_ratio',
    help: 'Share of jobs ending in failure or exception over the last 7 days, by builder and outcome',
    labelNames: ['builder', 'outcome'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const builder of (await stats.builderStats({})).builders) {
        this.set({ builder: builder.builder, outcome: 'failure' }, builder.failureRate ?? Number.NaN);
        this.set({ builder: builder.builder, outcome: 'exception' }, builder.exceptionRate ?? Number.NaN);
      }
    },
  });
  new Gauge({
    name: 'switchyard_worker_utilisation_ratio',
    help: 'Share of its time a worker spent running attempts over the last 7 days',
    labelNames: ['worker', 'pool'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const worker of (await stats.workerUtilisation({})).workers) {
        this.set({ worker: worker.name, pool: worker.pool }, worker.utilisation ?? Number.NaN);
      }
    },
  });
}
