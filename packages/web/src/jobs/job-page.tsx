import { ApiRequestError, type Attempt, type JobDetail } from '@switchyard/protocol/browser';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { Link, useNavigate, useParams } from '@tanstack/react-router';
import { useEffect } from 'react';
import { api } from '../app/api.ts';
import { formatBytes, formatDuration, shortRevision } from '../app/format.ts';
import { allows, useSession } from '../app/session.ts';
import { typingIn } from '../app/shortcuts.tsx';
import { useLiveEvents } from '../live/live-events.tsx';

/** A job: its attempts, steps, artifacts, the scheduler's reasons, actions, and its builder's recent history. */
export function JobPage() {
  const jobId = Number(useParams({ from: '/jobs/$jobId' }).jobId);
  const queryClient = useQueryClient();
  const job = useQuery({ queryKey: ['job', jobId], queryFn: () => api().getJob(jobId) });
  const artifacts = useQuery({ queryKey: ['artifacts', jobId], queryFn: () => api().listArtifacts(jobId) });
  const similar = useQuery({ queryKey: ['similar', jobId], queryFn: () => api().similarJobs(jobId) });
  useLiveEvents((events) => {
    const touched = events.some((e) => (e.data as { job?: { id: number } }).job?.id === jobId);
    if (touched) {
      void queryClient.invalidateQueries({ queryKey: ['job', jobId] });
      void queryClient.invalidateQueries({ queryKey: ['artifacts', jobId] });
    }
  });
  useLogKey(jobId);
  if (job.isPending) return <p className="muted">Loading job {jobId}…</p>;
  if (job.isError) return <p className="problem">{String(job.error)}</p>;
  const detail = job.data;
  return (
    <section className="job" data-job-id={detail.id} data-state={detail.state}>
      <h1>
        <span className={`badge state-${detail.state}`} data-testid="job-state">
          {detail.state}
        </span>{' '}
        {detail.builder} <span className="muted">job {detail.id}</span>
      </h1>
      <p>
        <Link to="/" search={{ repo: detail.repo, branch: detail.branch, push: detail.pushId }}>
          {detail.repo}/{detail.branch} {shortRevision(detail.revision)}
        </Link>{' '}
        by {detail.author} · pool {detail.pool} · priority {detail.priority}
        {detail.reason && ` · ${detail.reason}`}
        {detail.retriggeredFrom !== null && (
          <>
            {' '}
            · retrigger of{' '}
            <Link to="/jobs/$jobId" params={{ jobId: String(detail.retriggeredFrom) }}>
              job {detail.retriggeredFrom}
            </Link>
          </>
        )}
      </p>
      <p className="muted" data-testid="job-times">
        {[
          ['created', detail.createdAt],
          ['pending', detail.pendingAt],
          ['started', detail.startedAt],
          ['finished', detail.finishedAt],
        ]
          .filter((entry): entry is [string, string] => entry[1] !== null)
          .map(([what, at]) => `${what} ${new Date(at).toLocaleTimeString()}`)
          .join(' · ')}
        {detail.durationMs !== null && ` · took ${formatDuration(detail.durationMs)}`} · attempt {detail.attemptCount}{' '}
        of at most {detail.maxAttempts}
      </p>
      <Actions job={detail} />
      <p>
        <Link to="/jobs/$jobId/log" params={{ jobId: String(detail.id) }} search={{}} className="button">
          Log
        </Link>
      </p>
      <Scheduling job={detail} />
      <h2>Attempts</h2>
      {detail.attempts.length === 0 && <p className="muted">No attempt yet.</p>}
      {detail.attempts.map((attempt) => (
        <AttemptView key={attempt.id} jobId={detail.id} attempt={attempt} />
      ))}
      <h2>Artifacts</h2>
      {artifacts.data?.length === 0 && <p className="muted">None.</p>}
      <ul className="artifacts">
        {artifacts.data?.map((artifact) => (
          <li key={artifact.name}>
            <a href={`/api/v1/jobs/${detail.id}/artifacts/${encodeURIComponent(artifact.name)}`}>{artifact.name}</a>{' '}
            <span className="muted">{formatBytes(artifact.size)}</span>
          </li>
        ))}
      </ul>
      <h2>Similar jobs</h2>
      <p className="muted">
        {detail.builder} on {detail.branch}, newest first: a failure among greens is likely intermittent.
      </p>
      <ul className="similar" data-testid="similar-jobs">
        {similar.data?.map((other) => (
          <li key={other.id}>
            <Link to="/jobs/$jobId" params={{ jobId: String(other.id) }} className={`sym state-${other.state}`}>
              {other.state}
            </Link>{' '}
            job {other.id} · {shortRevision(other.revision)} · {formatDuration(other.durationMs)}
          </li>
        ))}
      </ul>
    </section>
  );
}

function Actions({ job }: { job: JobDetail }) {
  const session = useSession().data;
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const retrigger = useMutation({
    mutationFn: () => api().retriggerJob(job.id),
    onSuccess: (created) => navigate({ to: '/jobs/$jobId', params: { jobId: String(created.id) } }),
  });
  const cancel = useMutation({
    mutationFn: () => api().cancelJob(job.id),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['job', job.id] }),
  });
  const final = !['waiting', 'pending', 'running'].includes(job.state);
  const mayAct = allows(session, 'cancel');
  const problem = retrigger.error ?? cancel.error;
  return (
    <div className="actions">
      {final ? (
        <button type="button" onClick={() => retrigger.mutate()} disabled={retrigger.isPending}>
          Retrigger
        </button>
      ) : (
        <button type="button" onClick={() => cancel.mutate()} disabled={cancel.isPending}>
          Cancel
        </button>
      )}
      {!mayAct && session?.auth && (
        <span className="muted">
          {session.signedIn
            ? `${session.name} lacks the cancel scope`
            : 'sign in with a token that has the cancel scope'}
        </span>
      )}
      {problem && (
        <p role="alert" className="problem" data-testid="action-problem">
          {problem instanceof ApiRequestError ? problem.message : String(problem)}
        </p>
      )}
    </div>
  );
}

function Scheduling({ job }: { job: JobDetail }) {
  const s = job.scheduling;
  if (!s.waitingBecause && !s.chosenBecause && s.queuePosition === null) return null;
  return (
    <dl className="facts">
      {s.queuePosition !== null && (
        <>
          <dt>Queue</dt>
          <dd>
            #{s.queuePosition} in {job.pool}, effective priority {s.effectivePriority?.toFixed(2)}
          </dd>
        </>
      )}
      {s.waitingBecause && (
        <>
          <dt>Waiting because</dt>
          <dd>{s.waitingBecause}</dd>
        </>
      )}
      {s.chosenBecause && (
        <>
          <dt>Chosen because</dt>
          <dd>{s.chosenBecause}</dd>
        </>
      )}
    </dl>
  );
}

function AttemptView({ jobId, attempt }: { jobId: number; attempt: Attempt }) {
  const timings = attempt.timings ?? {};
  const checkout = Object.entries(timings).filter(([, ms]) => ms !== undefined);
  return (
    <div className="attempt">
      <h3>
        Attempt {attempt.number} on {attempt.worker}:{' '}
        <span className={`badge state-${attempt.state}`}>{attempt.state}</span>{' '}
        <span className="muted">
          {new Date(attempt.startedAt).toLocaleString()} · {formatDuration(attempt.durationMs)}
        </span>
      </h3>
      {(attempt.reason || attempt.message) && (
        <p className="muted">{[attempt.reason, attempt.message].filter(Boolean).join(': ')}</p>
      )}
      {checkout.length > 0 && (
        <p className="muted">
          Before the steps:{' '}
          {checkout.map(([name, ms]) => `${name.replace(/Ms$/, '')} ${formatDuration(ms)}`).join(', ')}
        </p>
      )}
      <table className="steps">
        <thead>
          <tr>
            <th>Step</th>
            <th>State</th>
            <th>Exit</th>
            <th>Duration</th>
          </tr>
        </thead>
        <tbody>
          {attempt.steps.map((step) => (
            <tr key={step.index}>
              <td>
                <Link to="/jobs/$jobId/log" params={{ jobId: String(jobId) }} search={{ attempt: attempt.number }}>
                  {step.name}
                </Link>
              </td>
              <td className={`state-text-${step.state}`}>{step.state}</td>
              <td>{step.exitCode ?? step.signal ?? '–'}</td>
              <td>{formatDuration(step.durationMs)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** `l` opens the log. */
function useLogKey(jobId: number): void {
  const navigate = useNavigate();
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (event.key !== 'l' || typingIn(event.target)) return;
      void navigate({ to: '/jobs/$jobId/log', params: { jobId: String(jobId) }, search: {} });
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [jobId, navigate]);
}
