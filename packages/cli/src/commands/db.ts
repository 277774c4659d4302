import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../errors.ts';
import { styleFor } from '../format/style.ts';
import { formatTable } from '../format/table.ts';

interface CopyOptions {
  from: string;
  to: string;
  force?: boolean;
}

export function addDbCommand(program: Command): void {
  const db = program
    .command('db')
    .summary("move the farm's database")
    .description("Work on the farm's database")
    .addHelpText(
      'after',
      `
Example:
  $ switchyard db copy --from .switchyard/data/switchyard.db --to postgres://switchyard@db.example.org/farm`,
    );
  db.command('copy')
    .summary('copy a farm’s whole history into another database')
    .description(
      "Copy a farm's whole history — pushes, jobs, attempts, steps, events with their ids, workers, webhook subscriptions with their cursors and deliveries, the broker's cursor, artifact, blob and tool records — from its SQLite file into PostgreSQL",
    )
    .requiredOption('--from <file>', 'the SQLite file, e.g. .switchyard/data/switchyard.db')
    .requiredOption('--to <url>', 'the PostgreSQL database, postgres://user@host:5432/database')
    .option('--force', 'replace a farm the target already holds (otherwise a non-empty target is refused)')
    .addHelpText(
      'after',
      `
Stop the coordinator first: what it writes during the copy is not copied. Logs and artifact bytes
stay in the data directory, so start the coordinator on the copy with the same --data:
  $ switchyard server --data .switchyard/data --database postgres://switchyard@db.example.org/farm

Example:
  $ switchyard db copy --from .switchyard/data/switchyard.db --to postgres://switchyard@db.example.org/farm`,
    )
    .action(async (options: CopyOptions) => {
      const { copyDatabase, isPostgresUrl, TargetNotEmptyError } = await import('@switchyard/coordinator');
      if (!isPostgresUrl(options.to)) throw new CliError(`--to expects a postgres:// URL, got "${options.to}"`);
      const progress = process.stderr.isTTY
        ? (table: string, copied: number, total: number) =>
            process.stderr.write(`\r${table}: ${copied}/${total}\u001b[K`)
        : undefined;
      try {
        const copied = await copyDatabase(resolve(options.from), options.to, {
          force: options.force === true,
          onProgress: progress,
        });
        if (progress) process.stderr.write('\r\u001b[K');
        const rows = copied.map(({ table, rows }): [string, number] => [table, rows]);
        console.log(formatTable(['table', 'rows'], rows, styleFor(process.stdout)));
        const total = copied.reduce((sum, { rows }) => sum + rows, 0);
        console.log(`copied ${total} rows from ${options.from}`);
      } catch (error) {
        if (error instanceof TargetNotEmptyError) throw new CliError(error.message);
        throw error;
      }
    });
}
