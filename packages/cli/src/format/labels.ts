import type { Job } from '@switchyard/protocol';

export function shortRevision(revision: string): string {
  return revision.slice(0, 7);
}

/** `demo/main@abc1234`: where a push landed. */
export function formatRef(source: { repo: string; branch: string; revision: string }): string {
  return `${source.repo}/${source.branch}@${shortRevision(source.revision)}`;
}

/** `job 12 build-linux demo/main@abc1234`: enough to recognise a job in a stream of lines. */
export function formatJobLabel(job: Pick<Job, 'id' | 'builder' | 'repo' | 'branch' | 'revision'>): string {
  return `job ${job.id} ${job.builder} ${formatRef(job)}`;
}

/** The name part of `Name <email>`, for narrow columns. */
export function authorName(author: string): string {
  return author.replace(/\s*<[^>]*>\s*$/, '') || author;
}
