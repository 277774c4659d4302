import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { archiveKind } from '@switchyard/protocol';
import { downloadVerified } from '../artifact-download.ts';
import { Backoff } from '../backoff.ts';
import { formatBytes } from '../format-bytes.ts';
import { sleep } from '../sleep.ts';
import { classifyTransferFailure } from '../transfer-retry.ts';
import { unpackArchive } from '../unpack.ts';
import { checkFile, type FileCheck } from './file-check.ts';
import { isManifestFilename, readManifest, type ToolManifestRecord, unpackDirectory } from './manifest.ts';
import { ToolCache } from './tool-cache.ts';

export interface FetchToolsOptions {
  /** The tooltool manifest. */
  manifest: string;
  /** Where the files go (and are unpacked). */
  dest: string;
  cacheDir: string;
  maxCacheBytes: number;
  /** Tool store bases, tried in order: a regional cache first, the origin after it. */
  urls: string[];
  /** Sent as a Bearer token, for `internal` tools. */
  token?: string;
  log: (line: string) => void;
  signal?: AbortSignal;
  /** The first retry's delay; it doubles, with jitter. @default 1000 */
  retryInitialMs?: number;
  /**
   * A worker's: keep trying a file for this long after its first failure, past tooltool's five
   * requests, so a coordinator restart doesn't fail the tools step. The lease's length: longer,
   * and the lease is gone anyway.
   */
  patienceMs?: number;
}

export type ToolSource = 'present' | 'cache' | 'download';

export interface FetchedTool {
  filename: string;
  size: number;
  source: ToolSource;
  /** Where a download came from. */
  url?: string;
  /** Entries written, for `unpack: true`. */
  unpacked?: number;
}

export interface ToolFetchReport {
  files: FetchedTool[];
  cacheHits: number;
  downloads: number;
  downloadedBytes: number;
  ms: number;
}

/** Some files could not be fetched (the others are in place); each is named with why. */
export class ToolFetchError extends Error {
  override readonly name = 'ToolFetchError';
  constructor(
    readonly failures: { filename: string; reason: string }[],
    readonly report: ToolFetchReport,
  ) {
    super(
      `could not fetch ${failures.length === 1 ? 'a tool' : `${failures.length} tools`}: ${failures
        .map((failure) => `${failure.filename}: ${failure.reason}`)
        .join('; ')}`,
    );
  }
}

/** tooltool's: each file gets this many requests in all, whatever the number of URLs. */
const MAX_ATTEMPTS = 5;

/**
 * Puts every file of a tooltool manifest into `dest`, as tooltool's fetch does: a file already
 * there is kept if its size and sha512 match (and deleted if not); otherwise it is copied from
 * the cache and checked again (a damaged cached copy is removed from the cache); otherwise it is
 * downloaded from `<url>/sha512/<digest>`, verified as it arrives, added to the cache, and put in
 * place. Processes sharing a cache download each file once: the download holds the digest's lock.
 */
export async function fetchTools(options: FetchToolsOptions): Promise<ToolFetchReport> {
  const started = Date.now();
  const signal = options.signal ?? new AbortController().signal;
  const manifest = await readManifest(options.manifest);
  if (options.urls.length === 0) throw new Error('no tool store URL to fetch from');
  const cache = new ToolCache(options.cacheDir, options.maxCacheBytes);
  await cache.open();
  await mkdir(options.dest, { recursive: true });
  const report: ToolFetchReport = { files: [], cacheHits: 0, downloads: 0, downloadedBytes: 0, ms: 0 };
  const failures: { filename: string; reason: string }[] = [];
  for (const record of manifest.records) {
    signal.throwIfAborted();
    try {
      const fetched = await fetchOne(record, cache, options, signal);
      report.files.push(fetched);
      if (fetched.source === 'cache') report.cacheHits += 1;
      if (fetched.source === 'download') {
        report.downloads += 1;
        report.downloadedBytes += fetched.size;
      }
    } catch (error) {
      if (signal.aborted) throw error;
      const reason = (error as Error).message;
      options.log(`${record.filename}: failed: ${reason}`);
      failures.push({ filename: record.filename, reason });
    }
  }
  report.ms = Date.now() - started;
  const present = report.files.filter((file) => file.source === 'present').length;
  options.log(
    `tools: ${report.files.length} of ${manifest.records.length} in place in ${(report.ms / 1000).toFixed(1)} s: ` +
      `${report.cacheHits} from the cache, ${report.downloads} downloaded (${formatBytes(report.downloadedBytes)}), ` +
      `${present} already there`,
  );
  if (failures.length > 0) throw new ToolFetchError(failures, report);
  return report;
}

async function fetchOne(
  record: ToolManifestRecord,
  cache: ToolCache,
  options: FetchToolsOptions,
  signal: AbortSignal,
): Promise<FetchedTool> {
  const { log } = options;
  const target = join(options.dest, record.filename);
  const size = formatBytes(record.size);
  const fetched: FetchedTool = { filename: record.filename, size: record.size, source: 'present' };
  const found = await checkFile(target, record, signal);
  if (found === 'ok') {
    log(`${record.filename}: already there (${size})`);
  } else {
    if (found !== 'missing') {
      log(`${record.filename}: the file there has ${describeCheck(found)}; replacing it`);
      await rm(target, { force: true });
    }
    if (await placeFromCache(record, cache, target, log)) {
      fetched.source = 'cache';
    } else {
      const lock = await cache.lock(record.digest, {
        signal,
        onWait: () => log(`${record.filename}: waiting for another fetch of it into the cache`),
      });
      try {
        // Whoever held the lock may have just put it there.
        if (await placeFromCache(record, cache, target, log)) {
          fetched.source = 'cache';
        } else {
          fetched.source = 'download';
          fetched.url = await download(record, cache, target, options, signal);
        }
      } finally {
        await lock.release();
      }
    }
    log(
      fetched.source === 'cache'
        ? `${record.filename}: from the cache (${size})`
        : `${record.filename}: downloaded ${size} from ${fetched.url}`,
    );
  }
  if (record.unpack) {
    fetched.unpacked = await unpack(record.filename, options.dest, signal);
    log(`${record.filename}: unpacked (${fetched.unpacked} entries)`);
  }
  return fetched;
}

/** Copies the cached file into place and checks it; a damaged cached copy is removed. */
async function placeFromCache(
  record: ToolManifestRecord,
  cache: ToolCache,
  target: string,
  log: (line: string) => void,
): Promise<boolean> {
  const cached = await cache.lookup(record.digest);
  if (!cached) return false;
  const temp = tempBeside(target);
  try {
    // Evicted by another process since the lookup: a miss.
    if (
      !(await copyFile(cached, temp, constants.COPYFILE_FICLONE).then(
        () => true,
        () => false,
      ))
    )
      return false;
    const check = await checkFile(temp, record);
    if (check === 'ok') {
      await rename(temp, target);
      return true;
    }
    log(`${record.filename}: the cached copy has ${describeCheck(check)}; removed from the cache, fetching it again`);
    await cache.remove(record.digest);
    return false;
  } finally {
    await rm(temp, { force: true });
  }
}

/**
 * Downloads the file into the cache's temporary directory, trying the URLs in order; a network
 * error or a 5xx is tried again after a jittered, growing delay, up to MAX_ATTEMPTS requests in
 * all, or for `patienceMs` when given. A wrong body or a 4xx rules that URL out. Returns the URL
 * it came from.
 */
async function download(
  record: ToolManifestRecord,
  cache: ToolCache,
  target: string,
  options: FetchToolsOptions,
  signal: AbortSignal,
): Promise<string> {
  const backoff = new Backoff({ initialMs: options.retryInitialMs ?? 1000, maxMs: 30_000 });
  const failures: string[] = [];
  let candidates = options.urls;
  let attempts = 0;
  let failingSince: number | null = null;
  const mayTry = () =>
    attempts < MAX_ATTEMPTS ||
    (options.patienceMs !== undefined && performance.now() - (failingSince ?? 0) < options.patienceMs);
  while (candidates.length > 0 && mayTry()) {
    const retry: string[] = [];
    for (const base of candidates) {
      if (!mayTry()) break;
      attempts += 1;
      const url = `${base.replace(/\/+$/, '')}/sha512/${record.digest}`;
      const temp = cache.tempPath(record.digest);
      try {
        await downloadVerified({
          url,
          token: options.token,
          algorithm: 'sha512',
          digest: record.digest,
          size: record.size,
          file: temp,
          signal,
        });
        const placing = tempBeside(target);
        try {
          await copyFile(temp, placing, constants.COPYFILE_FICLONE);
          await rename(placing, target);
        } finally {
          await rm(placing, { force: true });
        }
        await cache.insert(record.digest, temp);
        return url;
      } catch (error) {
        await rm(temp, { force: true });
        if (signal.aborted) throw error;
        failingSince ??= performance.now();
        const reason = (error as Error).message;
        failures.push(`${url}: ${reason}`);
        options.log(`${record.filename}: ${url}: ${reason}`);
        if (classifyTransferFailure(error) !== 'final') retry.push(base);
      }
    }
    candidates = retry;
    if (candidates.length > 0 && mayTry()) {
      const delay = backoff.next();
      options.log(`${record.filename}: trying again in ${(delay / 1000).toFixed(1)} s`);
      await sleep(delay, signal);
      signal.throwIfAborted();
    }
  }
  // Through a long outage, the same failure many times over: the last few say it.
  throw new Error(failures.slice(-MAX_ATTEMPTS).join('; '));
}

/**
 * tooltool's unpack: the archive holds one directory named after it (`clang.tar.zst` → `clang/`),
 * which is removed first so nothing of an older version stays.
 */
async function unpack(filename: string, dest: string, signal: AbortSignal): Promise<number> {
  if (archiveKind(filename) === null) {
    throw new Error(
      `unpack is set, but "${filename}" is not a .tar, .tar.gz, .tgz, .tar.xz, .tar.bz2, .tar.zst or .zip`,
    );
  }
  const stem = unpackDirectory(filename);
  if (isManifestFilename(stem)) await rm(join(dest, stem), { recursive: true, force: true });
  return unpackArchive(join(dest, filename), filename, dest, signal);
}

/** A hidden name next to the target, so the rename into place is atomic. */
function tempBeside(target: string): string {
  return join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.part`);
}

function describeCheck(check: FileCheck): string {
  return check === 'wrong-size' ? 'the wrong size' : check === 'wrong-digest' ? 'the wrong sha512' : 'nothing';
}
