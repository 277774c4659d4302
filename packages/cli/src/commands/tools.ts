import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_SERVER, isToolVisibility, TOOLS_BASE_PATH, type ToolVisibility } from '@switchyard/protocol';
import { formatSize } from '@switchyard/proxy/size';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { CliError } from '../errors.ts';
import { parseByteSize, parseServerUrl } from '../option-parsers.ts';
import { listenForShutdown } from '../shutdown.ts';

const DEFAULT_MAX_CACHE_BYTES = 20 * 2 ** 30;

interface FetchOptions {
  manifest: string;
  cacheDir: string;
  maxCacheSize: number;
  url?: string[];
  token?: string;
  dest: string;
}

interface AddOptions {
  manifest: string;
  visibility?: ToolVisibility;
  unpack?: boolean;
}

interface ValidateOptions {
  manifest: string;
  dir: string;
}

interface UploadOptions {
  manifest: string;
  dir: string;
  url: string;
  token?: string;
  visibility?: ToolVisibility;
}

interface PurgeOptions {
  cacheDir: string;
  keepFree?: number;
  all?: boolean;
}

export function addToolsCommand(program: Command): void {
  const tools = program
    .command('tools')
    .summary('fetch toolchains listed in a tooltool manifest, and make or upload one')
    .description(
      'Tooltool-compatible tools: a manifest (a JSON list of filename, size, sha512, unpack, visibility) names files kept in a tool store, fetched through a local cache',
    )
    .addHelpText(
      'after',
      `
Examples:
  $ switchyard tools add -m manifest.tt --visibility public --unpack clang.tar.zst
  $ switchyard tools upload -m manifest.tt --url http://farm:7420/api/v1/tools --token $PUSH_TOKEN
  $ switchyard tools fetch -m manifest.tt --dest build/tools`,
    );

  tools
    .command('fetch')
    .summary("put a manifest's files in place, from the cache or the tool store")
    .description(
      'Put every file of a manifest in --dest: kept if already there and valid, else copied from the cache, else downloaded from <url>/sha512/<digest>; each is checked against its size and sha512 before it is used, and unpacked when the manifest says so',
    )
    .addOption(manifestOption())
    .option('--dest <dir>', 'where the files go', '.')
    .addOption(cacheDirOption())
    .addOption(
      new Option('--max-cache-size <size>', 'the bound on the cache; the least recently used go first, e.g. 50GiB')
        .argParser(parseByteSize)
        .default(DEFAULT_MAX_CACHE_BYTES, '20GiB'),
    )
    .addOption(
      new Option(
        '--url <url>',
        `a tool store, tried in order (repeatable); default $SWITCHYARD_SERVER${TOOLS_BASE_PATH}, else ${DEFAULT_SERVER}${TOOLS_BASE_PATH}`,
      ).argParser(collectUrl),
    )
    .addOption(tokenOption())
    .addHelpText(
      'after',
      `
A regional cache goes first, the origin after it: through a \`switchyard proxy\` whose upstream
\`artifacts\` is the coordinator, the tool store is http://<proxy>:7430/artifacts${TOOLS_BASE_PATH}.
Exits 1 when a file could not be fetched.

Example:
  $ switchyard tools fetch -m manifest.tt --dest tools \\
      --url http://cache.eu:7430/artifacts${TOOLS_BASE_PATH} --url http://farm:7420${TOOLS_BASE_PATH}`,
    )
    .action(async (options: FetchOptions) => {
      const signal = listenForShutdown();
      const { fetchTools } = await import('@switchyard/worker/tools');
      await fetchTools({
        manifest: options.manifest,
        dest: resolve(options.dest),
        cacheDir: resolve(options.cacheDir),
        maxCacheBytes: options.maxCacheSize,
        urls: options.url ?? [defaultToolStore()],
        ...(options.token !== undefined && { token: options.token }),
        log: (line) => console.log(line),
        signal,
      });
    });

  tools
    .command('add')
    .summary('list files in a manifest (made if missing)')
    .description(
      'List files in a manifest by name, size and sha512; a name it already lists with other content is refused, and the same file again changes nothing',
    )
    .argument('<file...>', 'the files; each is listed under its base name')
    .addOption(manifestOption())
    .addOption(visibilityOption('who may download them from the tool store'))
    .option('--unpack', 'unpack them when fetched (.tar.gz, .tgz, .tar.xz, .tar.bz2, .tar.zst, .zip)')
    .addHelpText(
      'after',
      `
Example:
  $ switchyard tools add -m manifest.tt --visibility internal --unpack gcc-13.tar.xz`,
    )
    .action(async (files: string[], options: AddOptions) => {
      const { addToManifest } = await import('@switchyard/worker/tools');
      const result = await addToManifest(options.manifest, files, {
        ...(options.visibility && { visibility: options.visibility }),
        ...(options.unpack && { unpack: true }),
      });
      for (const record of result.added) {
        console.log(`added ${record.filename} (${formatSize(record.size)}, sha512 ${record.digest.slice(0, 16)}…)`);
      }
      for (const filename of result.unchanged) console.log(`${filename}: already listed with this content`);
    });

  tools
    .command('validate')
    .summary("check that a manifest's files are present and intact")
    .description("Check that each of a manifest's files is in --dir with its size and sha512")
    .addOption(manifestOption())
    .option('--dir <dir>', 'where the files are', '.')
    .addHelpText(
      'after',
      `
Exits 1 when a file is missing or differs.

Example:
  $ switchyard tools validate -m manifest.tt --dir build/tools`,
    )
    .action(async (options: ValidateOptions) => {
      const { validateManifest } = await import('@switchyard/worker/tools');
      const result = await validateManifest(options.manifest, options.dir);
      for (const file of result.files) console.log(`${file.status.padEnd(12)} ${file.filename}`);
      const bad = result.files.filter((file) => file.status !== 'ok').length;
      console.log(
        result.valid
          ? `${options.manifest}: all ${result.files.length} valid`
          : `${options.manifest}: ${bad} not valid`,
      );
      if (!result.valid) process.exitCode = 1;
    });

  tools
    .command('upload')
    .summary("upload a manifest's files to the tool store")
    .description(
      'Upload each file of a manifest to <url>/sha512/<digest>; the store answers before the body when it has the file already, so nothing is sent twice',
    )
    .addOption(manifestOption())
    .option('--dir <dir>', 'where the files are', '.')
    .addOption(
      new Option(
        '--url <url>',
        `the tool store (default: $SWITCHYARD_SERVER${TOOLS_BASE_PATH}, else ${DEFAULT_SERVER}${TOOLS_BASE_PATH})`,
      ).argParser(parseServerUrl),
    )
    .addOption(tokenOption('API token with the push scope'))
    .addOption(visibilityOption('for files the manifest gives none (default: internal)'))
    .addHelpText(
      'after',
      `
Example:
  $ switchyard tools upload -m manifest.tt --url http://farm:7420${TOOLS_BASE_PATH} --token $PUSH_TOKEN`,
    )
    .action(async (options: UploadOptions) => {
      const signal = listenForShutdown();
      const { uploadTools } = await import('@switchyard/worker/tools');
      const report = await uploadTools({
        manifest: options.manifest,
        dir: options.dir,
        url: options.url ?? defaultToolStore(),
        ...(options.token !== undefined && { token: options.token }),
        ...(options.visibility && { visibility: options.visibility }),
        log: (line) => console.log(line),
        signal,
      });
      const stored = report.files.filter((file) => file.status === 'stored').length;
      console.log(
        `${stored} uploaded (${formatSize(report.sentBytes)}), ${report.files.length - stored} already in the store`,
      );
    });

  tools
    .command('purge')
    .summary('empty the tool cache, or free disk space from it')
    .description(
      "tooltool's purge: remove the least recently used cached files until --keep-free is free, or all of them",
    )
    .addOption(cacheDirOption())
    .addOption(
      new Option('--keep-free <size>', 'remove files until this much disk space is free, e.g. 10GiB')
        .argParser(parseByteSize)
        .conflicts('all'),
    )
    .option('--all', 'remove every cached file')
    .addHelpText(
      'after',
      `
Example:
  $ switchyard tools purge --keep-free 10GiB`,
    )
    .action(async (options: PurgeOptions) => {
      if (options.keepFree === undefined && !options.all) {
        throw new CliError('say how much to purge: --keep-free SIZE, or --all');
      }
      const { ToolCache } = await import('@switchyard/worker/tools');
      const cache = new ToolCache(resolve(options.cacheDir), DEFAULT_MAX_CACHE_BYTES);
      const result = await cache.purge(options.keepFree ?? 0);
      console.log(`removed ${result.removed} cached files (${formatSize(result.freedBytes)}) from ${cache.dir}`);
    });
}

function manifestOption(): Option {
  return new Option('-m, --manifest <file>', 'the tooltool manifest').default('manifest.tt');
}

function cacheDirOption(): Option {
  return new Option('--cache-dir <dir>', 'the local tool cache, shared by every fetch on this machine')
    .env('SWITCHYARD_TOOL_CACHE')
    .default(join(homedir(), '.cache', 'switchyard', 'tools'), '~/.cache/switchyard/tools');
}

function tokenOption(description = 'API token, for internal tools'): Option {
  return new Option('--token <token>', description).env('SWITCHYARD_TOKEN');
}

function visibilityOption(description: string): Option {
  return new Option('--visibility <visibility>', description).argParser((value: string) => {
    if (!isToolVisibility(value)) throw new InvalidArgumentError('expected public or internal.');
    return value;
  });
}

function defaultToolStore(): string {
  return `${(process.env.SWITCHYARD_SERVER ?? DEFAULT_SERVER).replace(/\/+$/, '')}${TOOLS_BASE_PATH}`;
}

function collectUrl(value: string, urls: string[] = []): string[] {
  return [...urls, parseServerUrl(value)];
}
