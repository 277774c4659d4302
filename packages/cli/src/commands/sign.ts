import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CliError } from '../errors.ts';

const FILE_FORMATS = ['mar', 'mar-contents', 'gpg', 'authenticode'] as const;
type FileFormat = (typeof FILE_FORMATS)[number];

interface SignCommandOptions {
  format: FileFormat;
  key: string;
  signer?: string;
  token?: string;
  outDir?: string;
  jobs: number;
}

export function addSignCommand(program: Command): void {
  program
    .command('sign')
    .summary('sign files with the signing service')
    .description(
      'Sign files with the signing service: each is asked for by its digest first and uploaded only if the signer does not have it',
    )
    .argument('<files...>', 'the files to sign')
    .addOption(new Option('--format <format>', 'what to make').choices(FILE_FORMATS).makeOptionMandatory())
    .requiredOption('--key <id>', 'the signer key id (GET <signer>/api/v1/keys lists them)')
    .option('--signer <url>', 'the signer (default: $SWITCHYARD_SIGNER)')
    .option(
      '--token <token>',
      'a signing token (default: $SWITCHYARD_SIGNING_TOKEN; prefer the variable, a flag shows in ps)',
    )
    .option('--out-dir <dir>', 'write the signed files there instead of replacing the originals')
    .option('--jobs <n>', 'files signed at once', parseJobs, 4)
    .addHelpText(
      'after',
      `
Signed files replace the originals unless --out-dir is given; gpg writes <file>.asc beside the
file (or in --out-dir). Inside a job, $SWITCHYARD_SIGNER and $SWITCHYARD_SIGNING_TOKEN are set.

Example:
  $ switchyard sign --format mar-contents --key release-mar dist/update/*.mar`,
    )
    .action(async (files: string[], options: SignCommandOptions) => {
      const signer = options.signer ?? process.env.SWITCHYARD_SIGNER;
      const token = options.token ?? process.env.SWITCHYARD_SIGNING_TOKEN;
      if (!signer) throw new CliError('no signer: pass --signer or set SWITCHYARD_SIGNER');
      if (!token) throw new CliError('no signing token: set SWITCHYARD_SIGNING_TOKEN (or pass --token)');
      const { SignerClient } = await import('@switchyard/signing/client');
      const client = new SignerClient(signer, token);
      if (options.outDir) await mkdir(options.outDir, { recursive: true });
      const queue = files.map((file) => resolve(file));
      let done = 0;
      const signOne = async (file: string) => {
        const started = performance.now();
        const { output, result, uploaded } = await client.signFile(options.format, options.key, await readFile(file));
        const target = outputPath(file, options.format, options.outDir);
        await writeFile(target, output);
        done++;
        const how = result.cache === 'miss' ? 'signed' : `cache ${result.cache}`;
        const entries = result.entries
          ? `, entries: ${result.entries.signed} signed, ${result.entries.compressedHits + result.entries.decompressedHits} cached, ${result.entries.copied} untouched`
          : '';
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        process.stderr.write(
          `[${done}/${files.length}] ${basename(file)} → ${target} (${how}${uploaded ? '' : ', not uploaded'}${entries}, ${seconds} s)\n`,
        );
      };
      const workers = Array.from({ length: Math.min(options.jobs, queue.length) }, async () => {
        for (let file = queue.shift(); file !== undefined; file = queue.shift()) await signOne(file);
      });
      await Promise.all(workers);
    });
}

function outputPath(file: string, format: FileFormat, outDir: string | undefined): string {
  const name = format === 'gpg' ? `${basename(file)}.asc` : basename(file);
  if (outDir) return join(outDir, name);
  return format === 'gpg' ? `${file}.asc` : file;
}

function parseJobs(value: string): number {
  const jobs = Number(value);
  if (!Number.isSafeInteger(jobs) || jobs < 1 || jobs > 64)
    throw new InvalidArgumentError('expected a number from 1 to 64.');
  return jobs;
}
