import { resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { listenForShutdown, whenAborted } from '../shutdown.ts';

interface SignerCommandOptions {
  config: string;
  listen?: { host: string; port: number };
}

interface TokenCommandOptions {
  config: string;
  job: number;
  attempt: number;
  formats: string[];
  ttl: number;
}

export function addSignerCommand(program: Command): void {
  const signer = program
    .command('signer')
    .summary('run the signing service')
    .description(
      'The signing service: MAR, mar-contents, gpg, authenticode and hash signatures with keys that never leave it, a signed-file cache, and short-lived job tokens',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ switchyard signer --config /etc/switchyard/signer.yaml
  $ switchyard signer token --config /etc/switchyard/signer.yaml --job 42 --formats mar,gpg`,
    );
  // `switchyard signer --config …` runs it; `serve` is the default subcommand so `token` can have its own --config.
  signer
    .command('serve', { isDefault: true })
    .description('Run the signing service (the default: `switchyard signer --config signer.yaml`)')
    .requiredOption(
      '--config <file>',
      'the signer config (keys, token secrets, cache, limits); see docs/guide/signing.md',
    )
    .addOption(
      new Option(
        '--listen <[host:]port>',
        "address to listen on (default: the config's listen, then 127.0.0.1:7440)",
      ).argParser(parseListen),
    )
    .addHelpText(
      'after',
      `
Jobs reach it with $SWITCHYARD_SIGNER and a token in $SWITCHYARD_SIGNING_TOKEN (\`switchyard sign\`).
GET /metrics for Prometheus, GET /openapi.json for the API. SIGINT or SIGTERM stops it.

Example:
  $ SWITCHYARD_SIGNING_SECRET=$(cat /etc/switchyard/signing-secret) \\
      switchyard signer --config /etc/switchyard/signer.yaml --listen 0.0.0.0:7440`,
    )
    .action(async (options: SignerCommandOptions) => {
      const shutdown = listenForShutdown();
      const { loadSignerConfig, startSigner } = await import('@switchyard/signing');
      const config = await loadSignerConfig(resolve(options.config));
      const running = await startSigner({ config, listen: options.listen });
      const keys = [...config.keys.values()].map((key) => `  ${key.id}: ${[...key.formats].join(', ')}`);
      process.stderr.write(`switchyard signer listening on ${running.url} (Ctrl-C stops it)\n${keys.join('\n')}\n`);
      await whenAborted(shutdown);
      await running.close();
    });

  signer
    .command('token')
    .description(
      "Mint a signing token with the config's first secret, as the coordinator does for each attempt (for operators and tests)",
    )
    .requiredOption('--config <file>', 'the signer config whose secret signs the token')
    .requiredOption('--job <id>', 'the job the token is for', parsePositiveInteger)
    .option('--attempt <n>', 'the attempt', parsePositiveInteger, 1)
    .requiredOption('--formats <list>', 'formats it allows, comma-separated (mar,gpg,…)', (value: string) =>
      value.split(','),
    )
    .option('--ttl <seconds>', 'how long it lasts', parsePositiveInteger, 3600)
    .action(async (options: TokenCommandOptions) => {
      const { loadSignerConfig, mintSigningToken, FORMATS } = await import('@switchyard/signing');
      const unknown = options.formats.filter((format) => !(FORMATS as readonly string[]).includes(format));
      if (unknown.length > 0)
        throw new InvalidArgumentError(`unknown format ${unknown.join(', ')} (${FORMATS.join(', ')})`);
      const config = await loadSignerConfig(resolve(options.config));
      const secret = config.secrets[0];
      if (!secret) throw new Error(`${options.config} has no token secret`);
      process.stdout.write(
        `${mintSigningToken({ secret, job: options.job, attempt: options.attempt, formats: options.formats, ttlSeconds: options.ttl })}\n`,
      );
    });
}

function parseListen(value: string): { host: string; port: number } {
  const match = /^(?:(.+):)?(\d+)$/.exec(value);
  const port = Number(match?.[2]);
  if (!match || port > 65535)
    throw new InvalidArgumentError('expected a port or host:port, e.g. 7440 or 0.0.0.0:7440.');
  return { host: (match[1] ?? '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port };
}

function parsePositiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) throw new InvalidArgumentError('expected a whole number above 0.');
  return number;
}
