import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseUpstream, type Upstream } from '@switchyard/proxy/upstreams';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CliError } from '../errors.ts';
import { parseByteSize } from '../option-parsers.ts';
import { listenForShutdown, whenAborted } from '../shutdown.ts';

interface ProxyCommandOptions {
  listen: { host: string; port: number };
  cacheDir: string;
  maxSize: number;
  memorySize?: number;
  upstream: Upstream[];
  adminTokenFile?: string;
}

export function addProxyCommand(program: Command): void {
  program
    .command('proxy')
    .summary('run a regional pull-through cache')
    .description(
      'Run a regional pull-through HTTP cache: http://<proxy>/<upstream>/<path> is <upstream url>/<path>, fetched once and served from disk after that',
    )
    .addOption(
      new Option('--listen <[host:]port>', 'address to listen on (0.0.0.0:7430: every interface)')
        .argParser(parseListen)
        .default({ host: '127.0.0.1', port: 7430 }, '127.0.0.1:7430'),
    )
    .requiredOption('--cache-dir <dir>', 'where the cached objects are kept (they survive a restart)')
    .addOption(
      new Option('--max-size <size>', 'the bound on the bytes in --cache-dir, e.g. 50GiB or 500MB')
        .argParser(parseByteSize)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option(
        '--memory-size <size>',
        'the bound on the memory for copies of hot bodies of up to 4 MiB, served without reading the disk; 0: none (default: 256MiB)',
      ).argParser(parseByteSize),
    )
    .addOption(
      new Option('--upstream <name=url>', 'an origin served under /<name>/ (repeatable)')
        .argParser(collectUpstream)
        .makeOptionMandatory(),
    )
    .option(
      '--admin-token-file <file>',
      'a file holding the token that may take profiles (switchyard profile); without it, nobody may',
    )
    .addHelpText(
      'after',
      `
Content-addressed paths (…/sha256/<hex>, …/sha512/<hex>) are kept for ever and checked against their
digest; everything else follows the HTTP caching rules (RFC 9111). Every answer says how it was served
in X-Switchyard-Cache (HIT, MISS, COLLAPSED, REVALIDATED, STALE or BYPASS). GET /_stats and /metrics
report hits, misses and the bandwidth saved per upstream, with per-route latencies and Node's process
metrics. SIGINT or SIGTERM stops it.

Example:
  $ switchyard proxy --listen 0.0.0.0:7430 --cache-dir /var/cache/switchyard --max-size 50GiB \\
      --upstream artifacts=http://coordinator:7420 --upstream tools=https://tools.example.org`,
    )
    .action(async (options: ProxyCommandOptions) => {
      const shutdown = listenForShutdown();
      const { startProxy } = await import('@switchyard/proxy');
      const adminToken = options.adminTokenFile === undefined ? undefined : await readToken(options.adminTokenFile);
      const proxy = await startProxy({
        adminToken,
        upstreams: options.upstream,
        cacheDir: resolve(options.cacheDir),
        maxBytes: options.maxSize,
        memoryBytes: options.memorySize,
        host: options.listen.host,
        port: options.listen.port,
      });
      const routes = options.upstream.map((upstream) => `  ${proxy.url}/${upstream.name}/ → ${upstream.base}/`);
      process.stderr.write(`switchyard proxy listening on ${proxy.url} (Ctrl-C stops it)\n${routes.join('\n')}\n`);
      await whenAborted(shutdown);
      await proxy.close();
    });
}

function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:(.+):)?(\d+)$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || port > 65535) {
    throw new InvalidArgumentError('expected a port or host:port, e.g. 7430 or 0.0.0.0:7430.');
  }
  return { host: (match[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port };
}

function collectUpstream(value: string, upstreams: Upstream[] = []): Upstream[] {
  try {
    const upstream = parseUpstream(value);
    if (upstreams.some((known) => known.name === upstream.name)) {
      throw new Error(`the upstream ${upstream.name} is given twice.`);
    }
    return [...upstreams, upstream];
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

async function readToken(file: string): Promise<string> {
  let token: string;
  try {
    token = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    throw new CliError(`--admin-token-file ${file}: cannot read it (${(error as NodeJS.ErrnoException).code})`);
  }
  if (token === '') throw new CliError(`--admin-token-file ${file}: the file is empty`);
  return token;
}
