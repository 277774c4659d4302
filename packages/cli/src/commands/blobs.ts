import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError } from '../errors.ts';

interface CopyOptions {
  from: string;
  to?: string;
  config: string;
}

export function addBlobsCommand(program: Command): void {
  const blobs = program
    .command('blobs')
    .summary("move the farm's blobs")
    .description("Work on the farm's blob store (artifacts, tools, completed logs)")
    .addHelpText(
      'after',
      `
Example:
  $ switchyard blobs copy --from .switchyard/data/blobs --to s3://farm-blobs/switchyard`,
    );
  blobs
    .command('copy')
    .summary('copy a blob directory into S3')
    .description(
      'Copy every blob of a blob directory into an S3 bucket under the same digests (s3://bucket/prefix/sha256/<hex>), hashing each again on the way; blobs already there are skipped, so it can be run again',
    )
    .requiredOption('--from <dir>', "the blob directory: server.blob_dir, by default the data directory's blobs/")
    .option('--to <url>', "the bucket, s3://bucket/prefix (default: the config's server.blobs url)")
    .option(
      '--config <file>',
      'farm configuration whose server.blobs gives the endpoint, region and credentials (else the AWS_* variables)',
      'switchyard.yml',
    )
    .addHelpText(
      'after',
      `
The directory is only read. Copy while the coordinator runs, stop it, copy again (only what it
stored meanwhile is sent), then start it on S3:
  $ switchyard server --data /var/lib/switchyard --blobs s3://farm-blobs/switchyard

Example:
  $ AWS_ENDPOINT_URL_S3=http://minio:9000 switchyard blobs copy --from /var/lib/switchyard/blobs --to s3://farm-blobs/switchyard`,
    )
    .action(async (options: CopyOptions) => {
      const { blobsTarget, copyBlobs, loadConfigFile, openBlobStore } = await import('@switchyard/coordinator');
      const configFile = resolve(options.config);
      const server = existsSync(configFile) ? (await loadConfigFile(configFile)).raw.server : undefined;
      let target: ReturnType<typeof blobsTarget>;
      try {
        target = blobsTarget(server, options.to, process.env);
      } catch (error) {
        throw new CliError((error as Error).message.replace(/^--blobs/, '--to'));
      }
      if (target.kind !== 's3') throw new CliError(`--to expects an s3:// URL, and ${configFile} has no server.blobs`);
      const from = resolve(options.from);
      if (!existsSync(from)) throw new CliError(`--from: no directory ${from}`);
      const store = await openBlobStore(target, process.cwd());
      const progress = process.stderr.isTTY
        ? (done: number) => process.stderr.write(`\r${done} blobs\u001b[K`)
        : undefined;
      const copied = await copyBlobs(from, store, progress);
      if (progress) process.stderr.write('\r\u001b[K');
      console.log(
        `copied ${copied.copied} blobs (${copied.bytes} bytes) to ${store.location}; ${copied.skipped} were there already`,
      );
      if (copied.damaged.length > 0) {
        throw new CliError(
          `${copied.damaged.length} files hold bytes whose sha256 is not their name, and were not copied: ${copied.damaged.join(', ')}`,
        );
      }
    });
}
