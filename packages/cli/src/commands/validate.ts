import type { Command } from 'commander';
import { plural } from '../format/plural.ts';

export function addValidateCommand(program: Command): void {
  program
    .command('validate')
    .summary('check a farm configuration file')
    .description('Check a farm configuration file without starting anything')
    .argument('<config>', 'the configuration file, e.g. switchyard.yml')
    .addHelpText(
      'after',
      `
Exits 0 when the file is valid; otherwise prints what is wrong and where, and exits 1.

Example:
  $ switchyard validate switchyard.yml`,
    )
    .action(async (configPath: string) => {
      const { loadConfigFile } = await import('@switchyard/coordinator');
      const { raw } = await loadConfigFile(configPath);
      const pools = [...new Set(raw.builders.map((builder) => builder.pool))].sort();
      const counts = `${plural(raw.repos.length, 'repo')}, ${plural(raw.builders.length, 'builder')}`;
      console.log(`${configPath} is valid: ${counts} (pools: ${pools.join(', ') || 'none'})`);
    });
}
