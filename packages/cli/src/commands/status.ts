import { type Command, Option } from 'commander';
import { addConnectionOptions, type ConnectionOptions, connect } from '../connection.ts';
import { formatJobDetail } from '../format/job-views.ts';
import { formatJobTable, formatPushHeader, formatPushTable } from '../format/push-views.ts';
import { styleFor } from '../format/style.ts';
import { formatWorkerTable } from '../format/worker-table.ts';
import { parseId, wholeNumber } from '../option-parsers.ts';

interface StatusOptions extends ConnectionOptions {
  push?: number;
  job?: number;
  limit: number;
  json?: boolean;
}

export function addStatusCommand(program: Command): void {
  const command = program
    .command('status')
    .summary('recent pushes and workers, or one push, or one job')
    .description('Show recent pushes and the workers, or one push, or one job')
    .addOption(new Option('--push <id>', 'one push and its jobs').argParser(parseId).conflicts('job'))
    .addOption(new Option('--job <id>', 'one job with its attempts and steps').argParser(parseId))
    .option('--limit <count>', 'how many recent pushes to list', wholeNumber(1, 500), 20)
    .option('--json', 'print the API objects as JSON instead of tables');
  addConnectionOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  $ switchyard status
  $ switchyard status --push 3
  $ switchyard status --job 12 --json`,
    )
    .action(async (options: StatusOptions) => {
      const client = connect(options);
      const style = styleFor(process.stdout);
      if (options.job !== undefined) {
        const job = await client.getJob(options.job);
        console.log(options.json ? toJson(job) : formatJobDetail(job, style));
      } else if (options.push !== undefined) {
        const push = await client.getPush(options.push);
        if (options.json) return console.log(toJson(push));
        const jobs = await Promise.all(push.jobs.map((job) => client.getJob(job.id)));
        console.log(`${formatPushHeader(push, style)}\n\n${formatJobTable(jobs, style)}`);
      } else {
        const [pushes, workers] = await Promise.all([
          client.listPushes({ limit: options.limit }),
          client.listWorkers(),
        ]);
        if (options.json) return console.log(toJson({ pushes, workers }));
        console.log(`${style('bold', 'Pushes')}\n${formatPushTable(pushes, style)}\n`);
        console.log(`${style('bold', 'Workers')}\n${formatWorkerTable(workers, style)}`);
      }
    });
}

function toJson(value: unknown): string {
  return JSON.stringify(value, null, 2);
}
