import type { Metrics, PolicyName, SimulationReport, Summary } from '@switchyard/simulator';
import type { Style } from './style.ts';
import { formatTable } from './table.ts';

/** `switchyard simulate`'s table per policy: a row per branch and one for the whole farm. */
export function formatSimulationReport(report: SimulationReport, style: Style): string {
  const sections: string[] = [];
  for (const [policy, metrics] of Object.entries(report.policies)) {
    if (!metrics) continue;
    const rows = [
      ...Object.entries(metrics.branches).map(([branch, m]) => row(branch, m)),
      row(style('bold', 'all'), metrics.overall),
    ];
    sections.push(
      `${style('bold', policy)}\n${formatTable(
        ['BRANCH', 'JOBS', 'COALESCED', 'UTIL', 'WAIT MIN mean / median / p90', 'END-TO-END MIN mean / median / p90'],
        rows,
        style,
      )}`,
    );
  }
  const comparison = compareToSmart(report);
  if (comparison) sections.push(comparison);
  return sections.join('\n\n');
}

function row(label: string, m: Metrics): (string | number)[] {
  return [
    label,
    m.jobs,
    m.coalesced,
    `${(m.utilisation * 100).toFixed(1)} %`,
    summary(m.wait_minutes),
    summary(m.e2e_minutes),
  ];
}

function summary(s: Summary): string {
  const one = (v: number | null) => (v === null ? '–' : v.toFixed(1));
  return `${one(s.mean)} / ${one(s.median)} / ${one(s.p90)}`;
}

/** One line per other policy: how pooled-smart's mean end-to-end time and p90 wait compare. */
function compareToSmart(report: SimulationReport): string | null {
  const smart = report.policies['pooled-smart']?.overall;
  if (!smart) return null;
  const lines: string[] = [];
  for (const [policy, metrics] of Object.entries(report.policies) as [PolicyName, { overall: Metrics }][]) {
    if (policy === 'pooled-smart') continue;
    const other = metrics.overall;
    lines.push(
      `pooled-smart vs ${policy}: mean end-to-end ${change(smart.e2e_minutes.mean, other.e2e_minutes.mean)}, ` +
        `p90 wait ${change(smart.wait_minutes.p90, other.wait_minutes.p90)}`,
    );
  }
  return lines.length > 0 ? lines.join('\n') : null;
}

function change(mine: number | null, theirs: number | null): string {
  if (mine === null || theirs === null) return 'n/a';
  if (theirs === 0) return mine === 0 ? '±0 %' : `${mine.toFixed(1)} min vs 0`;
  const percent = ((mine - theirs) / theirs) * 100;
  return `${percent > 0 ? '+' : percent < 0 ? '−' : '±'}${Math.abs(percent).toFixed(1)} % (${mine.toFixed(1)} vs ${theirs.toFixed(1)} min)`;
}
