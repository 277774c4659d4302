import type { Command } from 'commander';
import type { DemoOptions } from '../demo/run-demo.ts';
import { DEFAULT_PORT } from '../launch-coordinator.ts';
import { wholeNumber } from '../option-parsers.ts';

export function addDemoCommand(program: Command): void {
  program
    .command('demo')
    .summary('run a demo farm on this machine (what `npm start` does)')
    .description('Run a whole farm on this machine: a demo repository, a coordinator, two workers and a few pushes')
    .option('--port <port>', 'port for the coordinator (0: any free port)', wholeNumber(0, 65535), DEFAULT_PORT)
    .option('--dir <dir>', 'where the demo lives; deleted and recreated on every run', '.switchyard/demo')
    .option('--no-keep-running', 'exit once the demo jobs are final: 0 if they all succeeded')
    .addHelpText(
      'after',
      `
The demo makes a git repository with a build and two test suites, writes a farm config for it,
starts the coordinator and two workers in this process, pushes five revisions (three on main,
two on release/1.0) and shows every job change as it happens. Then it keeps serving the API
until Ctrl-C, so you can try the other commands against it.

Examples:
  $ npm start
  $ switchyard demo --port 7500 --dir /tmp/switchyard-demo
  $ switchyard demo --no-keep-running`,
    )
    .action(async (options: DemoOptions) => {
      // Loaded here, not at start-up: the demo brings a coordinator and two workers with it.
      const { runDemo } = await import('../demo/run-demo.ts');
      await runDemo(options);
    });
}
