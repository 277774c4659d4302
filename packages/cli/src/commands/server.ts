import { resolve } from 'node:path';
import type { Command } from 'commander';
import { assertPortFree, DEFAULT_PORT, launchCoordinator } from '../launch-coordinator.ts';
import { wholeNumber } from '../option-parsers.ts';
import { listenForShutdown, whenAborted } from '../shutdown.ts';

interface ServerOptions {
  config: string;
  data: string;
  database?: string;
  blobs?: string;
  port: number;
  host: string;
}

export function addServerCommand(program: Command): void {
  program
    .command('server')
    .summary('run the coordinator')
    .description('Run the coordinator: the API, the scheduler and the live event stream')
    .option('--config <file>', 'farm configuration (repos, builders, auth)', 'switchyard.yml')
    .option('--data <dir>', 'where the database, the logs and the artifacts are kept', '.switchyard/data')
    .option(
      '--database <url>',
      "a postgres:// URL for the farm's state instead of the SQLite file in --data (default: the config's database:)",
    )
    .option(
      '--blobs <url>',
      "an s3://bucket/prefix URL for artifacts, tools and logs instead of the blob directory in --data (default: the config's server.blobs:); endpoint and credentials from server.blobs or the AWS_* environment variables",
    )
    .option('--port <port>', 'port to listen on (0: any free port)', wholeNumber(0, 65535), DEFAULT_PORT)
    .option('--host <address>', 'address to listen on (0.0.0.0: every interface)', '127.0.0.1')
    .addHelpText(
      'after',
      `
SIGHUP reloads the configuration; SIGINT or SIGTERM stops the server. Logs are JSON lines on stdout.

Examples:
  $ switchyard server --config switchyard.yml --data /var/lib/switchyard --host 0.0.0.0
  $ switchyard server --database postgres://switchyard@db.example.org/farm --data /var/lib/switchyard
  $ AWS_ENDPOINT_URL_S3=http://minio:9000 switchyard server --database postgres://db/farm --blobs s3://farm-blobs/switchyard`,
    )
    .action(async (options: ServerOptions) => {
      const shutdown = listenForShutdown();
      await assertPortFree(options);
      const coordinator = await launchCoordinator({
        configPath: resolve(options.config),
        dataDir: resolve(options.data),
        database: options.database,
        blobs: options.blobs,
        port: options.port,
        host: options.host,
      });
      process.stderr.write(`switchyard coordinator listening on ${coordinator.url} (Ctrl-C stops it)\n`);
      await whenAborted(shutdown);
      await coordinator.close();
    });
}
