import type { LogIndex } from '@switchyard/protocol/browser';
import { useQuery } from '@tanstack/react-query';
import { Link, useParams, useSearch } from '@tanstack/react-router';
import { api } from '../app/api.ts';
import { LogViewer } from './log-viewer.tsx';

/** While a job runs, its log index is read again this often: new lines, new sections, new errors. */
const FOLLOW_MS = 1000;

/** The log viewer's page: which job and attempt, and the index that says how long the log is. */
export function LogPage() {
  const jobId = Number(useParams({ from: '/jobs/$jobId/log' }).jobId);
  const { attempt } = useSearch({ from: '/jobs/$jobId/log' });
  const index = useQuery({
    queryKey: ['log-index', jobId, attempt ?? null],
    queryFn: (): Promise<LogIndex> => api().logIndex(jobId, attempt === undefined ? {} : { attempt }),
    refetchInterval: (query) => (query.state.data && !query.state.data.complete ? FOLLOW_MS : false),
    staleTime: 0,
  });
  return (
    <section className="log-page">
      <p className="crumbs">
        <Link to="/jobs/$jobId" params={{ jobId: String(jobId) }}>
          job {jobId}
        </Link>{' '}
        · log{index.data?.attempt ? ` of attempt ${index.data.attempt}` : ''}
        {index.data && !index.data.complete && (
          <>
            {' '}
            <span className="badge state-running">following</span>
          </>
        )}
      </p>
      {index.isPending && <p className="muted">Reading the log…</p>}
      {index.isError && <p className="problem">{String(index.error)}</p>}
      {index.data && index.data.attempt === null && <p className="muted">No attempt has started yet.</p>}
      {index.data && index.data.attempt !== null && (
        <LogViewer
          key={`${jobId}/${index.data.attempt}`}
          jobId={jobId}
          attempt={index.data.attempt}
          index={index.data}
        />
      )}
    </section>
  );
}
