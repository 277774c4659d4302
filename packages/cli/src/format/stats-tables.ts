import type { BuilderStats, LastGreen, PushTimes, Trend, WaitTimes, WorkerUtilisation } from '@switchyard/protocol';
import { formatDuration } from './duration.ts';
import type { Style } from './style.ts';
import { formatTable } from './table.ts';

/** `+12.5 %` slower, `-8 %` faster (red and green), `-` without two halves to compare. */
export function formatTrend(trend: Trend, style: Style): string {
  const change = trend.changePercent;
  if (change === null) return '-';
  const text = `${change > 0 ? '+' : ''}${change} %`;
  return change > 0 ? style('red', text) : change < 0 ? style('green', text) : text;
}

export function formatRatio(ratio: number | null): string {
  return ratio === null ? '-' : `${(ratio * 100).toFixed(1)} %`;
}

export function formatPushTimes(answer: PushTimes, style: Style): string {
  if (answer.groups.length === 0) return 'no push completed in the window';
  const groups = formatTable(
    ['REPO', 'BRANCH', 'PUSHES', 'MEDIAN', 'P90', 'MAX', 'TREND'],
    answer.groups.map((g) => [
      g.repo,
      g.branch,
      g.endToEnd.count,
      formatDuration(g.endToEnd.medianMs),
      formatDuration(g.endToEnd.p90Ms),
      formatDuration(g.endToEnd.maxMs),
      formatTrend(g.trend, style),
    ]),
    style,
  );
  const recent = formatTable(
    ['PUSH', 'REPO', 'BRANCH', 'REVISION', 'END TO END'],
    answer.recent.map((r) => [r.push, r.repo, r.branch, r.revision.slice(0, 12), formatDuration(r.endToEndMs)]),
    style,
  );
  return `${groups}\n\nRecent pushes:\n${recent}`;
}

export function formatWaitTimes(answer: WaitTimes, style: Style): string {
  if (answer.pools.length === 0) return 'no job started in the window';
  return formatTable(
    ['POOL', 'JOBS', 'MEDIAN WAIT', 'P90', 'MAX', 'TREND'],
    answer.pools.map((p) => [
      p.pool,
      p.wait.count,
      formatDuration(p.wait.medianMs),
      formatDuration(p.wait.p90Ms),
      formatDuration(p.wait.maxMs),
      formatTrend(p.trend, style),
    ]),
    style,
  );
}

export function formatBuilderStats(answer: BuilderStats, style: Style): string {
  if (answer.builders.length === 0) return 'no job finished in the window';
  return formatTable(
    ['BUILDER', 'RUNS', 'MEDIAN', 'P90', 'TREND', 'FAILURES', 'EXCEPTIONS'],
    answer.builders.map((b) => [
      b.builder,
      b.runs,
      formatDuration(b.duration.medianMs),
      formatDuration(b.duration.p90Ms),
      formatTrend(b.trend, style),
      formatRatio(b.failureRate),
      formatRatio(b.exceptionRate),
    ]),
    style,
  );
}

export function formatUtilisation(answer: WorkerUtilisation, style: Style): string {
  if (answer.workers.length === 0) return 'no worker was seen in the window';
  const workers = formatTable(
    ['WORKER', 'POOL', 'ATTEMPTS', 'BUSY', 'KNOWN', 'UTILISATION'],
    answer.workers.map((w) => [
      w.name,
      w.pool,
      w.attempts,
      formatDuration(w.busyMs),
      formatDuration(w.availableMs),
      formatRatio(w.utilisation),
    ]),
    style,
  );
  const pools = formatTable(
    ['POOL', 'WORKERS', 'UTILISATION'],
    answer.pools.map((p) => [p.pool, p.workers, formatRatio(p.utilisation)]),
    style,
  );
  return `${workers}\n\n${pools}`;
}

export function formatLastGreen(answer: LastGreen): string {
  return `${answer.repo}/${answer.branch}@${answer.revision}  push ${answer.push} by ${answer.author || 'unknown'}, ${answer.jobs} jobs green at ${answer.completedAt}`;
}
