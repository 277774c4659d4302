import { JOB_STATES, type Job, type Push } from '@switchyard/protocol';
import { formatAge } from './age.ts';
import { formatDuration } from './duration.ts';
import { authorName, formatRef, shortRevision } from './labels.ts';
import { formatState, summarizeStates } from './states.ts';
import type { Style } from './style.ts';
import { formatTable } from './table.ts';

/** Recent pushes, one line each, with their jobs summed up by state. */
export function formatPushTable(pushes: readonly Push[], style: Style, now: Date = new Date()): string {
  if (pushes.length === 0) return style('dim', 'no pushes yet');
  const rows = pushes.map((push) => [
    push.id,
    push.repo,
    push.branch,
    shortRevision(push.revision),
    authorName(push.author),
    formatAge(push.createdAt, now),
    summarizeStates(
      push.jobs.map((job) => job.state),
      JOB_STATES,
      style,
    ),
  ]);
  return formatTable(['PUSH', 'REPO', 'BRANCH', 'REV', 'AUTHOR', 'AGE', 'JOBS'], rows, style);
}

/** One push: where it landed, who made it, and what it was about. */
export function formatPushHeader(push: Push, style: Style, now: Date = new Date()): string {
  const subject = push.message.split('\n')[0] ?? '';
  const lines = [
    `${style('bold', `push ${push.id}`)}  ${formatRef(push)}  ${style('dim', formatAge(push.createdAt, now))}`,
    `author   ${push.author || '-'}`,
    `message  ${subject || '-'}`,
  ];
  if (push.files.length > 0) lines.push(`files    ${push.files.length}`);
  return lines.join('\n');
}

/** The jobs of a push as it was created: id, builder and first state. */
export function formatNewJobTable(push: Push, style: Style): string {
  const rows = push.jobs.map((job) => [job.id, job.builder, formatState(job.state, style)]);
  return formatTable(['JOB', 'BUILDER', 'STATE'], rows, style);
}

/** The jobs of one push with where and how long they ran. */
export function formatJobTable(jobs: readonly Job[], style: Style): string {
  if (jobs.length === 0) return style('dim', 'no jobs: no builder matches this branch');
  const rows = jobs.map((job) => [
    job.id,
    job.builder,
    formatState(job.state, style),
    job.reason ?? '',
    job.worker ?? '',
    `${job.attemptCount}/${job.maxAttempts}`,
    formatDuration(job.durationMs),
  ]);
  return formatTable(['JOB', 'BUILDER', 'STATE', 'REASON', 'WORKER', 'ATTEMPTS', 'DURATION'], rows, style);
}
