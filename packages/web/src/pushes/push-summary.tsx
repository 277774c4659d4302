import { isFinalJobState, type JobDetail, type Push } from '@switchyard/protocol/browser';
import { useQueries } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { api } from '../app/api.ts';
import { formatDuration } from '../app/format.ts';

/** A push's summary: end-to-end time, what still waits and why, and what was coalesced into what. */
export function PushSummaryPanel({ push }: { push: Push }) {
  const details = useQueries({
    queries: push.jobs.map((job) => ({
      queryKey: ['job', job.id, job.state],
      queryFn: () => api().getJob(job.id),
    })),
  });
  const jobs = details.map((d) => d.data).filter((d): d is JobDetail => d !== undefined);
  const done = push.jobs.length > 0 && push.jobs.every((job) => isFinalJobState(job.state));
  const finishedAt = Math.max(0, ...jobs.map((job) => (job.finishedAt ? Date.parse(job.finishedAt) : 0)));
  const endToEnd = done && finishedAt > 0 ? finishedAt - Date.parse(push.createdAt) : null;
  const waiting = jobs.filter((job) => !isFinalJobState(job.state) && job.state !== 'running');
  const coalesced = jobs.filter((job) => job.state === 'coalesced');
  return (
    <div className="summary" data-testid="push-summary">
      <p>
        <strong>End to end:</strong>{' '}
        {endToEnd !== null
          ? formatDuration(endToEnd)
          : `still going, ${formatDuration(Date.now() - Date.parse(push.createdAt))} so far`}
      </p>
      {waiting.length > 0 && (
        <>
          <h3>Waiting</h3>
          <ul>
            {waiting.map((job) => (
              <li key={job.id}>
                <Link to="/jobs/$jobId" params={{ jobId: String(job.id) }}>
                  {job.builder}
                </Link>{' '}
                {job.state}
                {job.scheduling.queuePosition !== null && `, #${job.scheduling.queuePosition} in ${job.pool}`}:{' '}
                {job.scheduling.waitingBecause ??
                  (job.state === 'waiting' ? `waiting for ${job.dependsOn.join(', ')}` : 'about to start')}
              </li>
            ))}
          </ul>
        </>
      )}
      {coalesced.length > 0 && (
        <>
          <h3>Coalesced</h3>
          <ul>
            {coalesced.map((job) => (
              <li key={job.id}>
                {job.builder} (job {job.id}) was covered by{' '}
                {job.coalescedInto !== null ? (
                  <Link to="/jobs/$jobId" params={{ jobId: String(job.coalescedInto) }}>
                    job {job.coalescedInto}
                  </Link>
                ) : (
                  'a newer job'
                )}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
