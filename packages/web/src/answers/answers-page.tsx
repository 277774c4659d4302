import type { LastGreen } from '@switchyard/protocol/browser';
import { useQueries, useQuery } from '@tanstack/react-query';
import { Link, useSearch } from '@tanstack/react-router';
import { useMemo } from 'react';
import { api } from '../app/api.ts';
import { formatAge, formatDuration, formatPercent, shortRevision } from '../app/format.ts';
import { TimeChart } from './chart.tsx';

const DEFAULT_DAYS = 7;

/** The stats endpoints as charts and tables: the questions a release engineer asks of a farm. */
export function AnswersPage() {
  const search = useSearch({ from: '/answers' });
  const query = { days: search.days ?? DEFAULT_DAYS, repo: search.repo, branch: search.branch };
  const pushes = useQuery({ queryKey: ['stats', 'pushes', query], queryFn: () => api().pushTimes(query) });
  const waits = useQuery({ queryKey: ['stats', 'waits', query], queryFn: () => api().waitTimes(query) });
  const builders = useQuery({ queryKey: ['stats', 'builders', query], queryFn: () => api().builderStats(query) });
  const branches = pushes.data?.groups ?? [];
  const greens = useQueries({
    queries: branches.map((group) => ({
      queryKey: ['last-green', group.repo, group.branch],
      queryFn: (): Promise<LastGreen | null> =>
        api()
          .lastGreen(group.repo, group.branch)
          .catch(() => null),
    })),
  });

  const endToEnd = useMemo(() => {
    const recent = [...(pushes.data?.recent ?? [])].reverse();
    return {
      x: recent.map((p) => Date.parse(p.createdAt) / 1000),
      series: [{ label: 'end to end', values: recent.map((p) => p.endToEndMs) }],
    };
  }, [pushes.data]);
  const waitTrend = useMemo(() => {
    const pools = waits.data?.pools ?? [];
    const starts = [...new Set(pools.flatMap((p) => p.trend.buckets.map((b) => b.start)))].sort();
    return {
      x: starts.map((s) => Date.parse(s) / 1000),
      series: pools.slice(0, 3).map((p) => ({
        label: `${p.pool} median wait`,
        values: starts.map((s) => p.trend.buckets.find((b) => b.start === s)?.medianMs ?? null),
      })),
    };
  }, [waits.data]);

  return (
    <section className="answers">
      <h1>Answers</h1>
      <p className="muted">
        The last {query.days} days{query.repo ? ` of ${query.repo}` : ''}
        {query.branch ? ` on ${query.branch}` : ''}.{' '}
        {[1, 7, 30].map((days) => (
          <Link key={days} to="/answers" search={(prev) => ({ ...prev, days })} className="chip">
            {days} d
          </Link>
        ))}
      </p>

      <h2>Last green revision</h2>
      <div className="table-scroll">
        <table>
          <thead>
            <tr>
              <th>Branch</th>
              <th>Revision</th>
              <th>Completed</th>
            </tr>
          </thead>
          <tbody>
            {branches.map((group, i) => {
              const green = greens[i]?.data;
              return (
                <tr key={`${group.repo}/${group.branch}`}>
                  <td>
                    {group.repo}/{group.branch}
                  </td>
                  <td>
                    {green ? (
                      <Link to="/" search={{ repo: green.repo, branch: green.branch, push: green.push }}>
                        {shortRevision(green.revision)}
                      </Link>
                    ) : (
                      'none yet'
                    )}
                  </td>
                  <td>{green ? formatAge(green.completedAt) : '–'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>

      <h2>End-to-end time per push</h2>
      {branches.map((group) => (
        <p key={`${group.repo}/${group.branch}`}>
          {group.repo}/{group.branch}: median {formatDuration(group.endToEnd.medianMs)}, p90{' '}
          {formatDuration(group.endToEnd.p90Ms)}
          {group.trend.changePercent !== null &&
            ` · trend ${group.trend.changePercent > 0 ? '+' : ''}${group.trend.changePercent.toFixed(0)} %`}
        </p>
      ))}
      <TimeChart title="End to end (newest completed pushes)" x={endToEnd.x} series={endToEnd.series} />

      <h2>Wait time per pool</h2>
      {waits.data?.pools.map((p) => (
        <p key={p.pool}>
          {p.pool}: median {formatDuration(p.wait.medianMs)}, p90 {formatDuration(p.wait.p90Ms)} over {p.wait.count}{' '}
          jobs
        </p>
      ))}
      <TimeChart title="Median wait per pool" x={waitTrend.x} series={waitTrend.series} />

      <h2>Builders, slowest first</h2>
      <div className="table-scroll">
        <table>
          <thead>
            <tr>
              <th>Builder</th>
              <th>Runs</th>
              <th>Median</th>
              <th>p90</th>
              <th>Failures</th>
              <th>Exceptions</th>
            </tr>
          </thead>
          <tbody>
            {builders.data?.builders.map((b) => (
              <tr key={b.builder}>
                <td>{b.builder}</td>
                <td>{b.runs}</td>
                <td>{formatDuration(b.duration.medianMs)}</td>
                <td>{formatDuration(b.duration.p90Ms)}</td>
                <td>{formatPercent(b.failureRate)}</td>
                <td>{formatPercent(b.exceptionRate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
