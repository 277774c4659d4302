import { once } from 'node:events';
import { type Command, Option } from 'commander';
import { addConnectionOptions, type ConnectionOptions, connect } from '../connection.ts';
import { parseId } from '../option-parsers.ts';

interface LogsOptions extends ConnectionOptions {
  follow?: boolean;
  attempt?: number;
  stream?: 'stdout' | 'stderr';
}

export function addLogsCommand(program: Command): void {
  const command = program
    .command('logs')
    .summary("print a job's log")
    .description("Print a job's log as it arrives")
    .argument('<job-id>', 'the job', parseId)
    .option('-f, --follow', 'keep printing output until the job ends')
    .option('--attempt <number>', 'an earlier attempt (default: the latest)', parseId)
    .addOption(new Option('--stream <name>', 'only one output stream').choices(['stdout', 'stderr']));
  addConnectionOptions(command)
    .addHelpText(
      'after',
      `
Examples:
  $ switchyard logs 12 --follow
  $ switchyard logs 12 --attempt 1 --stream stderr`,
    )
    .action(async (jobId: number, options: LogsOptions) => {
      const client = connect(options);
      const log = client.log(jobId, { follow: options.follow, attempt: options.attempt, stream: options.stream });
      for await (const chunk of log) {
        if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
      }
    });
}
