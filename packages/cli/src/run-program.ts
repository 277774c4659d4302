import { DEFAULT_SERVER } from '@switchyard/protocol';
import type { Command } from 'commander';
import { describeFailure } from './errors.ts';

/** Runs `program` on this process's arguments, says what failed the way a person can act on it, and exits. */
export async function runProgram(program: Command): Promise<never> {
  let server = DEFAULT_SERVER;
  program.hook('preAction', (_program, actionCommand) => {
    server = actionCommand.opts().server ?? server;
  });

  // `switchyard logs 12 | head` closes stdout early; that is the reader's choice, not an error.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? 0);
  });

  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    console.error(describeFailure(error, server));
    process.exitCode = 1;
  }
  // Every command resolves only when it is done, so exit now: a lingering keep-alive socket or timer in
  // an in-process coordinator or worker must not hold the terminal.
  process.exit();
}
