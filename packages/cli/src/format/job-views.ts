import type { JobDetail } from '@switchyard/protocol';
import { formatAge } from './age.ts';
import { formatDuration } from './duration.ts';
import { formatJobLabel } from './labels.ts';
import { formatState } from './states.ts';
import type { Style } from './style.ts';
import { formatTable } from './table.ts';

/** A job in full: its state, its attempts, and the steps of each attempt. */
export function formatJobDetail(job: JobDetail, style: Style, now: Date = new Date()): string {
  const state = job.reason ? `${formatState(job.state, style)} (${job.reason})` : formatState(job.state, style);
  const started = job.startedAt ? `, started ${formatAge(job.startedAt, now)}` : '';
  const lines = [
    `${style('bold', formatJobLabel(job))}  ${state}`,
    `push      ${job.pushId}`,
    `pool      ${job.pool}${job.worker ? `, worker ${job.worker}` : ''}`,
    `created   ${formatAge(job.createdAt, now)}${started}`,
    `duration  ${formatDuration(job.durationMs)}`,
  ];
  if (job.dependsOn.length > 0) lines.push(`after     job ${job.dependsOn.join(', ')}`);
  if (job.retriggeredFrom !== null) lines.push(`retrigger of job ${job.retriggeredFrom}`);
  if (job.coalescedInto !== null) lines.push(`ran as    job ${job.coalescedInto} (coalesced)`);
  const { scheduling } = job;
  if (scheduling.waitingBecause !== null) {
    const place = scheduling.queuePosition === null ? '' : `, #${scheduling.queuePosition} in the queue`;
    lines.push(`priority  ${job.priority}${place}`, `waiting   ${scheduling.waitingBecause}`);
  }
  if (scheduling.chosenBecause !== null) lines.push(`chosen    ${scheduling.chosenBecause}`);
  lines.push('', formatAttemptTable(job, style));
  if (job.attempts.some((attempt) => attempt.steps.length > 0)) lines.push('', formatStepTable(job, style));
  return lines.join('\n');
}

function formatAttemptTable(job: JobDetail, style: Style): string {
  if (job.attempts.length === 0) return style('dim', `no attempts yet (${job.state})`);
  const rows = job.attempts.map((attempt) => [
    attempt.number,
    attempt.worker,
    formatState(attempt.state, style),
    [attempt.reason, attempt.message].filter(Boolean).join(': '),
    formatDuration(attempt.durationMs),
  ]);
  return formatTable(['ATTEMPT', 'WORKER', 'STATE', 'REASON', 'DURATION'], rows, style);
}

function formatStepTable(job: JobDetail, style: Style): string {
  const rows = job.attempts.flatMap((attempt) =>
    attempt.steps.map((step) => [
      attempt.number,
      step.name,
      formatState(step.state, style),
      step.signal ?? (step.exitCode === null ? '' : step.exitCode),
      formatDuration(step.durationMs),
    ]),
  );
  return formatTable(['ATTEMPT', 'STEP', 'STATE', 'EXIT', 'DURATION'], rows, style);
}
