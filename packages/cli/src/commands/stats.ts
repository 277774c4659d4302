import type { StatsQuery } from '@switchyard/protocol';
import { type Command, InvalidArgumentError } from 'commander';
import { addConnectionOptions, type ConnectionOptions, connect } from '../connection.ts';
import {
  formatBuilderStats,
  formatLastGreen,
  formatPushTimes,
  formatUtilisation,
  formatWaitTimes,
} from '../format/stats-tables.ts';
import { styleFor } from '../format/style.ts';

interface StatsOptions extends ConnectionOptions {
  days?: number;
  repo?: string;
  branch?: string;
  pool?: string;
  builder?: string;
  json?: boolean;
}

function parseDays(value: string): number {
  const days = Number(value);
  if (!Number.isFinite(days) || days <= 0 || days > 365) {
    throw new InvalidArgumentError('expected a number of days above 0, at most 365');
  }
  return days;
}

/** One `stats` subcommand: its filters, the API call, and the table it prints. */
function addAnswer<T>(
  stats: Command,
  name: string,
  summary: string,
  filters: Array<'repo' | 'branch' | 'pool' | 'builder'>,
  fetch: (options: StatsOptions, query: StatsQuery) => Promise<T>,
  table: (answer: T, style: ReturnType<typeof styleFor>) => string,
): void {
  const command = stats.command(name).summary(summary).description(summary);
  command.option('--days <n>', 'the window: the last N days (default 7)', parseDays);
  for (const filter of filters) command.option(`--${filter} <name>`, `only this ${filter}`);
  command.option('--json', 'the API answer as JSON');
  addConnectionOptions(command).action(async (options: StatsOptions) => {
    const query: StatsQuery = {
      days: options.days,
      repo: options.repo,
      branch: options.branch,
      pool: options.pool,
      builder: options.builder,
    };
    const answer = await fetch(options, query);
    console.log(options.json ? JSON.stringify(answer, null, 2) : table(answer, styleFor(process.stdout)));
  });
}

export function addStatsCommand(program: Command): void {
  const stats = program
    .command('stats')
    .summary('the answers: last green, end-to-end and wait times, slowest builders, utilisation')
    .description('What the farm has been doing, computed from its history')
    .addHelpText(
      'after',
      `
Examples:
  $ switchyard stats last-green app main
  $ switchyard stats pushes --branch main --days 30
  $ switchyard stats builders --repo app
  $ switchyard stats waits --pool linux
  $ switchyard stats workers --json`,
    );

  const lastGreen = stats
    .command('last-green')
    .summary('the newest revision of a branch whose every job succeeded')
    .description(
      'The newest revision of a branch whose every job succeeded (a retriggered job counts by its newest run)',
    )
    .argument('<repo>')
    .argument('<branch>')
    .option('--json', 'the API answer as JSON');
  addConnectionOptions(lastGreen).action(
    async (repo: string, branch: string, options: ConnectionOptions & { json?: boolean }) => {
      const answer = await connect(options).lastGreen(repo, branch);
      console.log(options.json ? JSON.stringify(answer, null, 2) : formatLastGreen(answer));
    },
  );

  addAnswer(
    stats,
    'pushes',
    'end-to-end time per push (push → last job final), per repo and branch, with its trend',
    ['repo', 'branch'],
    (options, query) => connect(options).pushTimes(query),
    formatPushTimes,
  );
  addAnswer(
    stats,
    'waits',
    'wait time (pending → started) per pool, with its trend',
    ['pool', 'repo', 'branch'],
    (options, query) => connect(options).waitTimes(query),
    formatWaitTimes,
  );
  addAnswer(
    stats,
    'builders',
    'per builder, slowest first: median and p90 durations, trend, failure and exception rates',
    ['repo', 'branch', 'builder', 'pool'],
    (options, query) => connect(options).builderStats(query),
    formatBuilderStats,
  );
  addAnswer(
    stats,
    'workers',
    'the share of their time workers spent running jobs, per worker and pool',
    ['pool'],
    (options, query) => connect(options).workerUtilisation(query),
    formatUtilisation,
  );
}
