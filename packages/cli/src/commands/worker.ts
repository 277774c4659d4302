import { hostname } from 'node:os';
import { resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { addConnectionOptions, type ConnectionOptions } from '../connection.ts';
import { CliError } from '../errors.ts';
import { collectTag, parseByteSize, parseServerUrl } from '../option-parsers.ts';
import { listenForShutdown, whenAborted } from '../shutdown.ts';

interface WorkerOptions extends ConnectionOptions {
  name: string;
  pool: string;
  workDir: string;
  tag: Record<string, string>;
  cache?: string;
  repoStore?: string;
  toolCache?: string;
  toolCacheSize?: number;
  runAs?: string;
}

export function addWorkerCommand(program: Command): void {
  const command = program
    .command('worker')
    .summary('run a worker agent')
    .description('Run a worker agent: it claims jobs of one pool from the coordinator and runs their steps')
    .addOption(new Option('--name <name>', 'worker name, unique in the farm').default(hostname(), 'the host name'))
    .requiredOption('--pool <pool>', 'the pool whose jobs it runs, e.g. linux')
    .requiredOption('--work-dir <dir>', 'where it keeps its job directories and its trees of the repositories')
    .addOption(
      new Option(
        '--repo-store <dir>',
        'the repository stores; give every worker on a machine the same one (default: <work-dir>/repos)',
      ).env('SWITCHYARD_REPO_STORE'),
    )
    .addOption(
      new Option('--tool-cache <dir>', 'the tooltool cache, shareable too (default: <work-dir>/tool-cache)').env(
        'SWITCHYARD_TOOL_CACHE',
      ),
    )
    .addOption(
      new Option('--tool-cache-size <size>', 'bound of the tool cache; the least recently used go first (e.g. 50GiB)')
        .argParser(parseByteSize)
        .default(20 * 1024 ** 3, '20GiB'),
    )
    .addOption(
      new Option('--cache <url>', 'a regional cache (switchyard proxy) to fetch artifacts and tools through')
        .env('SWITCHYARD_CACHE')
        .argParser(parseServerUrl),
    )
    .addOption(
      new Option(
        '--run-as <user>',
        'run build steps as this unprivileged user (the worker starts as root); steps then cannot read the worker token',
      ).env('SWITCHYARD_RUN_AS'),
    )
    .addOption(
      new Option('--tag <key=value>', 'a tag builders can require (repeatable)')
        .argParser(collectTag)
        .default({}, 'none'),
    );
  addConnectionOptions(command)
    .addHelpText(
      'after',
      `
SIGINT or SIGTERM stops it: the running job's attempt is reported before it exits.
Build steps run as the worker's user unless --run-as names another: see docs/guide/security.md
for what a step can reach in each mode.

Example:
  $ switchyard worker --server http://farm:7420 --pool linux --work-dir /var/lib/switchyard-worker --tag gpu=yes`,
    )
    .action(async (options: WorkerOptions) => {
      const shutdown = listenForShutdown();
      const { resolveStepUser, startWorker } = await import('@switchyard/worker');
      const stepUser =
        options.runAs === undefined
          ? undefined
          : await resolveStepUser(options.runAs).catch((error: Error) => {
              throw new CliError(error.message);
            });
      const worker = startWorker({
        server: options.server,
        token: options.token,
        name: options.name,
        pool: options.pool,
        workDir: resolve(options.workDir),
        tags: options.tag,
        ...(options.cache !== undefined && { cache: options.cache }),
        ...(options.repoStore !== undefined && { repoStore: resolve(options.repoStore) }),
        ...(options.toolCache !== undefined && { toolCache: resolve(options.toolCache) }),
        toolCacheMaxBytes: options.toolCacheSize,
        ...(stepUser && { stepUser }),
      });
      process.stderr.write(`worker ${options.name} (pool ${options.pool}) working for ${options.server}\n`);
      await Promise.race([whenAborted(shutdown), worker.done]);
      if (shutdown.aborted) await worker.stop();
    });
}
