import { ApiRequestError, type LogIndex } from '@switchyard/protocol/browser';
import { type QueryClient, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useParams, useSearch } from '@tanstack/react-router';
import { useEffect, useRef } from 'react';
import { api } from '../app/api.ts';
import { applyLogUpdate, LiveLines } from './live-lines.ts';
import { logIndexQuery } from './log-index-query.ts';
import { LogViewer } from './log-viewer.tsx';

/** After a dropped connection, a followed log is asked for again this much later. */
const RECONNECT_MS = 1000;

/** The log viewer's page: which job and attempt, and the index that says how long the log is. */
export function LogPage() {
  const jobId = Number(useParams({ from: '/jobs/$jobId/log' }).jobId);
  const { attempt } = useSearch({ from: '/jobs/$jobId/log' });
  const index = useQuery(logIndexQuery(jobId, attempt));
  const live = useFollowedLog(jobId, attempt, index.data);
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
          live={live}
        />
      )}
    </section>
  );
}

/**
 * While the log is not complete, follows it on the server (`/log/follow`) from its last line on,
 * or from its first when no attempt has started yet: each update brings the lines written since
 * into `LiveLines` and its counts, sections and error lines into the cached index.
 */
function useFollowedLog(jobId: number, attempt: number | undefined, index: LogIndex | undefined): LiveLines {
  const queryClient = useQueryClient();
  // One run of lines per job and attempt asked for: another link on the same page starts afresh.
  const held = useRef<{ key: string; lines: LiveLines } | null>(null);
  const key = `${jobId}/${attempt ?? 'latest'}`;
  if (held.current?.key !== key) held.current = { key, lines: new LiveLines() };
  const live = held.current.lines;
  const latest = useRef(index);
  latest.current = index;
  const following = index !== undefined && !index.complete;
  useEffect(() => {
    if (!following) return;
    const abort = new AbortController();
    void follow(queryClient, live, jobId, attempt, latest.current as LogIndex, abort.signal);
    return () => abort.abort();
  }, [following, queryClient, live, jobId, attempt]);
  return live;
}

async function follow(
  queryClient: QueryClient,
  live: LiveLines,
  jobId: number,
  attemptAsked: number | undefined,
  start: LogIndex,
  signal: AbortSignal,
): Promise<void> {
  const key = ['log-index', jobId, attemptAsked ?? null];
  // The last line may still be growing: it comes again, and everything after it.
  let from = Math.max(1, start.lineCount);
  let attempt = start.attempt ?? attemptAsked;
  while (!signal.aborted) {
    try {
      for await (const update of api().followLog(jobId, { from, attempt, signal })) {
        live.put(update.from, update.lines);
        queryClient.setQueryData<LogIndex>(key, (index) => applyLogUpdate(index, update, jobId));
        from = Math.max(1, update.lineCount);
        attempt = update.attempt ?? attempt;
        if (update.complete) return;
      }
    } catch (error) {
      if (signal.aborted || (error instanceof ApiRequestError && error.status < 500)) return;
    }
    await new Promise((resolve) => setTimeout(resolve, RECONNECT_MS));
  }
}
