import type { JobSummary } from '@switchyard/protocol/browser';
import { useQuery } from '@tanstack/react-query';
import { Link, useNavigate } from '@tanstack/react-router';
import { type MouseEvent, memo, useState } from 'react';
import { api } from '../app/api.ts';

const FAILED = new Set(['failure', 'exception']);
/** How many error lines the hover card shows: enough to recognise a failure, few enough to read at a glance. */
const SHOWN_ERRORS = 5;

/**
 * One job in the grid: a box coloured by state. Hovering (or focusing) it shows a card, a failed
 * job's with its first error lines; the card is read on the first hover and shown by CSS while
 * the pointer is over the symbol or the card, so its links can be clicked.
 */
export const JobSymbol = memo(function JobSymbol({ job, symbol }: { job: JobSummary; symbol: string }) {
  const [hovered, setHovered] = useState(false);
  const navigate = useNavigate();
  const failed = FAILED.has(job.state);
  return (
    <span className="sym-wrap">
      <a
        onMouseEnter={() => setHovered(true)}
        onFocus={() => setHovered(true)}
        href={`/jobs/${job.id}`}
        onClick={(event) => followInPage(event, navigate, job.id)}
        className={`sym state-${job.state}`}
        data-job-id={job.id}
        data-state={job.state}
        aria-label={`${job.builder} job ${job.id}: ${job.state}`}
      >
        {symbol}
      </a>
      {hovered && (failed ? <FailureCard job={job} /> : <span className="card">{`${job.builder}: ${job.state}`}</span>)}
    </span>
  );
});

/**
 * A symbol is a plain link that the page follows itself: a grid holds hundreds of them, each
 * mounted as its push arrives, and a router Link per symbol (which watches the router's state
 * to know whether it is active) cost more than the rest of the row. A click with a modifier
 * (new tab, new window) is left to the browser.
 */
function followInPage(event: MouseEvent<HTMLAnchorElement>, navigate: ReturnType<typeof useNavigate>, jobId: number) {
  if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  void navigate({ to: '/jobs/$jobId', params: { jobId: String(jobId) } });
}

function FailureCard({ job }: { job: JobSummary }) {
  const index = useQuery({ queryKey: ['log-index', job.id, null], queryFn: () => api().logIndex(job.id) });
  const errors = index.data?.errors.slice(0, SHOWN_ERRORS) ?? [];
  return (
    <span className="card failure-card" role="tooltip" data-testid="failure-card">
      <strong>
        {job.builder}: {job.state}
      </strong>
      {index.isPending && <span className="muted">reading the log…</span>}
      {index.data && errors.length === 0 && <span className="muted">no error lines found</span>}
      {errors.map((error) => (
        <Link
          key={error.line}
          to="/jobs/$jobId/log"
          params={{ jobId: String(job.id) }}
          hash={`L${error.line}`}
          className="error-line"
        >
          <span className="line-no">{error.line}</span> {error.text}
        </Link>
      ))}
    </span>
  );
}
