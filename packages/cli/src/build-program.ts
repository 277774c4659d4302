import { Command } from 'commander';
import packageJson from '../package.json' with { type: 'json' };

/** Adds a command, with its options and help, to the program. */
export type AddCommand = (program: Command) => void;

/**
 * The `switchyard` program with `commands`, and `intro` at the end of its help: every command
 * (program.ts), or those of the worker package (worker-package.ts), which must not import the
 * others. Settings made here before the commands are added are inherited by them.
 */
export function buildProgram(commands: readonly AddCommand[], intro: string): Command {
  const program = new Command('switchyard')
    .description('Switchyard, a self-hosted build farm: pushes in, builds, tests and live status out.')
    .version(packageJson.version)
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      `
${intro}

Client commands talk to --server (default: $SWITCHYARD_SERVER, then http://127.0.0.1:7420).`,
    );
  for (const add of commands) add(program);
  return program;
}
