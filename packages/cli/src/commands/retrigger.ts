import type { Command } from 'commander';
import { addConnectionOptions, type ConnectionOptions, connect, serverFlag } from '../connection.ts';
import { formatJobLabel } from '../format/labels.ts';
import { formatState } from '../format/states.ts';
import { styleFor } from '../format/style.ts';
import { parseId } from '../option-parsers.ts';

export function addRetriggerCommand(program: Command): void {
  const command = program
    .command('retrigger')
    .summary('run a finished job again')
    .description('Run a finished job again, as a new job of the same push')
    .argument('<job-id>', 'the finished job', parseId);
  addConnectionOptions(command)
    .addHelpText('after', '\nExample:\n  $ switchyard retrigger 12')
    .action(async (jobId: number, options: ConnectionOptions) => {
      const job = await connect(options).retriggerJob(jobId);
      console.log(
        `retriggered job ${jobId} as ${formatJobLabel(job)}  ${formatState(job.state, styleFor(process.stdout))}`,
      );
      console.log(`follow it: switchyard logs ${job.id} --follow${serverFlag(options.server)}`);
    });
}
