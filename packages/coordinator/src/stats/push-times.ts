import type { PushTimes } from '@switchyard/protocol';
import { distribution, groupBy, trend, type Window, windowView } from './distribution.ts';
import { currentJobs, type OutcomeJob } from './push-outcome.ts';

export interface PushHistory {
  id: number;
  repo: string;
  branch: string;
  revision: string;
  createdAt: number;
  jobs: OutcomeJob[];
}

const RECENT = 20;

/**
 * End-to-end time per push: from the push to the last of its jobs finishing, for pushes created
 * in the window whose jobs are all final. Per repository and branch, with its trend.
 */
export function pushTimes(pushes: readonly PushHistory[], window: Window): PushTimes {
  const completed = pushes
    .filter((push) => push.createdAt >= window.from && push.createdAt < window.to)
    .flatMap((push) => {
      const jobs = currentJobs(push.jobs);
      if (jobs.length === 0 || jobs.some((job) => job.finishedAt === null)) return [];
      const last = Math.max(...jobs.map((job) => job.finishedAt as number));
      return [{ push, endToEndMs: last - push.createdAt }];
    });
  const groups = groupBy(completed, ({ push }) => `${push.repo}\u0000${push.branch}`);
  return {
    window: windowView(window),
    groups: [...groups.values()].map((entries) => ({
      repo: (entries[0] as (typeof entries)[number]).push.repo,
      branch: (entries[0] as (typeof entries)[number]).push.branch,
      endToEnd: distribution(entries.map((e) => e.endToEndMs)),
      trend: trend(
        entries.map((e) => ({ at: e.push.createdAt, value: e.endToEndMs })),
        window,
      ),
    })),
    recent: [...completed]
      .sort((a, b) => b.push.id - a.push.id)
      .slice(0, RECENT)
      .map(({ push, endToEndMs }) => ({
        push: push.id,
        repo: push.repo,
        branch: push.branch,
        revision: push.revision,
        createdAt: new Date(push.createdAt).toISOString(),
        endToEndMs,
      })),
  };
}
