import { serverFlag } from '../connection.ts';
import type { Style } from '../format/style.ts';

/** The "where to look next" block the demo prints once its jobs are done. */
export function formatNextSteps(url: string, logsJobId: number | undefined, style: Style): string {
  const server = serverFlag(url);
  const rows: Array<[string, string]> = [
    ['dashboard', `${url}/`],
    ['pushes', `${url}/api/v1/pushes`],
    ['API reference', `${url}/api/openapi.json`],
    ['metrics', `${url}/metrics`],
    ['status', `npx switchyard status${server}`],
  ];
  if (logsJobId !== undefined) {
    rows.push(['a build log', `npx switchyard logs ${logsJobId}${server}`]);
    rows.push(['its log, in a browser', `${url}/jobs/${logsJobId}/log`]);
  }
  rows.push(['live events', `npx switchyard watch${server}`]);
  const width = Math.max(...rows.map(([label]) => label.length));
  return [
    style('bold', 'Where to look next'),
    ...rows.map(([label, value]) => `  ${label.padEnd(width)}  ${value}`),
    '',
    'The farm keeps serving until Ctrl-C; try `npx switchyard retrigger <job>` meanwhile.',
    '',
    `${style('bold', 'Dashboard:')} ${url}/`,
  ].join('\n');
}
