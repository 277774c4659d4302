import type { Worker } from '@switchyard/protocol/browser';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { Link } from '@tanstack/react-router';
import { useEffect, useRef } from 'react';
import { api } from '../app/api.ts';
import { formatAge, formatPercent } from '../app/format.ts';
import { useLiveEvents } from '../live/live-events.tsx';

/** At most this often the farm view reads its lists again while events keep arriving. */
const REFRESH_MS = 1000;

/** Workers by pool, each pool's queue in the order it will run, and how busy the pools have been. */
export function FarmPage() {
  const queryClient = useQueryClient();
  const workers = useQuery({ queryKey: ['workers'], queryFn: () => api().listWorkers() });
  const queue = useQuery({ queryKey: ['queue'], queryFn: () => api().queue() });
  const utilisation = useQuery({ queryKey: ['utilisation'], queryFn: () => api().workerUtilisation({ days: 1 }) });
  const pending = useRef<ReturnType<typeof setTimeout> | null>(null);
  useLiveEvents((events) => {
    const relevant = events.some((e) => e.type.startsWith('worker.') || e.type.startsWith('job.'));
    if (!relevant || pending.current !== null) return;
    // One read per second at most, and always one after the last change.
    pending.current = setTimeout(() => {
      pending.current = null;
      void queryClient.invalidateQueries({ queryKey: ['workers'] });
      void queryClient.invalidateQueries({ queryKey: ['queue'] });
    }, REFRESH_MS);
  });
  useEffect(
    () => () => {
      if (pending.current !== null) clearTimeout(pending.current);
    },
    [],
  );
  const pools = new Map<string, Worker[]>();
  for (const worker of workers.data ?? []) pools.set(worker.pool, [...(pools.get(worker.pool) ?? []), worker]);
  for (const pool of queue.data?.pools ?? []) if (!pools.has(pool.pool)) pools.set(pool.pool, []);
  const utilisationOf = new Map(utilisation.data?.pools.map((p) => [p.pool, p.utilisation]) ?? []);
  const workerUtilisation = new Map(utilisation.data?.workers.map((w) => [w.name, w.utilisation]) ?? []);
  return (
    <section className="farm">
      <h1>Farm</h1>
      {workers.isPending && <p className="muted">Loading workers…</p>}
      {pools.size === 0 && workers.data && <p className="muted">No workers have connected yet.</p>}
      {[...pools.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([pool, members]) => {
          const queued = queue.data?.pools.find((p) => p.pool === pool)?.jobs ?? [];
          return (
            <div className="pool" key={pool} data-pool={pool}>
              <h2>
                {pool}{' '}
                <span className="muted">
                  {members.length} workers · {queued.length} queued · {formatPercent(utilisationOf.get(pool) ?? null)}{' '}
                  busy today
                </span>
              </h2>
              <div className="table-scroll">
                <table>
                  <thead>
                    <tr>
                      <th>Worker</th>
                      <th>State</th>
                      <th>Job</th>
                      <th>Speed</th>
                      <th>Warm caches</th>
                      <th>Benched until</th>
                      <th>Busy</th>
                    </tr>
                  </thead>
                  <tbody>
                    {members.map((worker) => (
                      <tr key={worker.name}>
                        <td>{worker.name}</td>
                        <td className={`worker-${worker.state}`}>{worker.state}</td>
                        <td>
                          {worker.currentJob !== null ? (
                            <Link to="/jobs/$jobId" params={{ jobId: String(worker.currentJob) }}>
                              job {worker.currentJob}
                            </Link>
                          ) : (
                            '–'
                          )}
                        </td>
                        <td title="its durations relative to the builders' medians">
                          {worker.speed === null ? '–' : `${worker.speed.toFixed(2)}×`}
                        </td>
                        <td title={worker.warm.map((w) => `${w.repo}/${w.branch} ${w.builder}`).join('\n')}>
                          {worker.warm.length === 0
                            ? '–'
                            : worker.warm
                                .slice(0, 3)
                                .map((w) => w.builder)
                                .join(', ') + (worker.warm.length > 3 ? ` +${worker.warm.length - 3}` : '')}
                        </td>
                        <td>{worker.benchedUntil ? new Date(worker.benchedUntil).toLocaleTimeString() : '–'}</td>
                        <td>{formatPercent(workerUtilisation.get(worker.name) ?? null)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {queued.length > 0 && (
                <>
                  <h3>Queue</h3>
                  <ol className="queue">
                    {queued.map((entry) => (
                      <li key={entry.job.id}>
                        <Link to="/jobs/$jobId" params={{ jobId: String(entry.job.id) }}>
                          #{entry.position} {entry.job.builder}
                        </Link>{' '}
                        <span className="muted">
                          {entry.job.branch} · priority {entry.job.priority} → {entry.effectivePriority.toFixed(2)} ·
                          waiting {entry.job.pendingAt ? formatAge(entry.job.pendingAt).replace(' ago', '') : '–'}
                        </span>
                      </li>
                    ))}
                  </ol>
                </>
              )}
            </div>
          );
        })}
    </section>
  );
}
