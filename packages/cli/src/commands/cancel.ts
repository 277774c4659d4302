import type { Command } from 'commander';
import { addConnectionOptions, type ConnectionOptions, connect } from '../connection.ts';
import { formatJobLabel } from '../format/labels.ts';
import { formatState } from '../format/states.ts';
import { styleFor } from '../format/style.ts';
import { parseId } from '../option-parsers.ts';

export function addCancelCommand(program: Command): void {
  const command = program
    .command('cancel')
    .summary('cancel a job')
    .description('Cancel a job that has not finished; a running attempt is stopped on its worker')
    .argument('<job-id>', 'the job', parseId);
  addConnectionOptions(command)
    .addHelpText('after', '\nExample:\n  $ switchyard cancel 12')
    .action(async (jobId: number, options: ConnectionOptions) => {
      const job = await connect(options).cancelJob(jobId);
      console.log(`${formatJobLabel(job)}  ${formatState(job.state, styleFor(process.stdout))}`);
    });
}
