import type { JobSummary } from '@switchyard/protocol/browser';
import { useQuery } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useState } from 'react';
import { api } from '../app/api.ts';

const FAILED = new Set(['failure', 'exception']);
/** How many error lines the hover card shows: enough to recognise a failure, few enough to read at a glance. */
const SHOWN_ERRORS = 5;

/**
 * One job in the grid: a box coloured by state. Hovering (or focusing) it shows a card, a failed
 * job's with its first error lines; the card is read on the first hover and shown by CSS while
 * the pointer is over the symbol or the card, so its links can be clicked.
 */
export function JobSymbol({ job, symbol }: { job: JobSummary; symbol: string }) {
  const [hovered, setHovered] = useState(false);
  const failed = FAILED.has(job.state);
  return (
    <span className="sym-wrap">
      <Link
        onMouseEnter={() => setHovered(true)}
        onFocus={() => setHovered(true)}
        to="/jobs/$jobId"
        params={{ jobId: String(job.id) }}
        className={`sym state-${job.state}`}
        data-job-id={job.id}
        data-state={job.state}
        aria-label={`${job.builder} job ${job.id}: ${job.state}`}
      >
        {symbol}
      </Link>
      {hovered && (failed ? <FailureCard job={job} /> : <span className="card">{`${job.builder}: ${job.state}`}</span>)}
    </span>
  );
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
