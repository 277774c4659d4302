import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TRANSFER_IDLE_MS, transferStalled } from './artifact-upload.ts';

export interface BlobSource {
  url: string;
  /** How the log names it: "the cache", "the coordinator". */
  label: string;
}

export interface DownloadRequest {
  sources: BlobSource[];
  token: string | undefined;
  sha256: string;
  size: number;
  /** Written here only once complete and verified. */
  file: string;
  signal: AbortSignal;
  /** A source that failed, and the one tried next. */
  onFallback: (failed: BlobSource, reason: string) => void;
}

/** No source delivered the blob; `cause` is the last one's failure, the origin's. */
export class BlobUnavailable extends Error {
  override readonly name = 'BlobUnavailable';
}

/**
 * Downloads a blob from the first source that delivers it intact: each is streamed to `file`
 * while hashed, and a short, long or corrupt body counts as that source failing (a regional
 * cache may be down or hold a damaged copy; the coordinator has the original). Resolves with
 * the source used; rejects with every source's failure when none worked.
 */
export async function downloadBlob(download: DownloadRequest): Promise<BlobSource> {
  const failures: string[] = [];
  let last: unknown;
  for (const [index, source] of download.sources.entries()) {
    try {
      await downloadVerified({ ...download, url: source.url, algorithm: 'sha256', digest: download.sha256 });
      return source;
    } catch (error) {
      await rm(download.file, { force: true });
      if (download.signal.aborted) throw error;
      last = error;
      const reason = (error as Error).message;
      failures.push(`${source.label}: ${reason}`);
      const next = download.sources[index + 1];
      if (next) download.onFallback(source, reason);
    }
  }
  throw new BlobUnavailable(failures.join('; '), { cause: last });
}

export interface VerifiedDownload {
  url: string;
  token: string | undefined;
  algorithm: 'sha256' | 'sha512';
  digest: string;
  size: number;
  /** Written while it arrives; the caller removes it when this fails. */
  file: string;
  signal: AbortSignal;
}

/** The server answered, but not with the file: how to take it (retry, try elsewhere) depends on the status. */
export class HttpStatusError extends Error {
  override readonly name = 'HttpStatusError';
  constructor(
    readonly status: number,
    url: string,
  ) {
    super(`HTTP ${status} for ${url}`);
  }
}

/** A complete answer that is not the file: too long, too short, or another digest. */
export class WrongContentError extends Error {
  override readonly name = 'WrongContentError';
}

const MAX_REDIRECTS = 5;

/**
 * Streams a URL to `file` while counting and hashing it; rejects unless exactly `size` bytes with
 * `digest` came. Redirects are followed (a tooltool server answers with one to its storage), and
 * the token goes only to the origin it was meant for.
 */
export async function downloadVerified(download: VerifiedDownload): Promise<void> {
  const response = await getFollowingRedirects(download.url, download.token, download.signal);
  if (response.statusCode !== 200) {
    response.resume();
    throw new HttpStatusError(response.statusCode ?? 0, download.url);
  }
  const hash = createHash(download.algorithm);
  let size = 0;
  const verify = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      // A body longer than the file is wrong already; reading on would only fill the disk.
      if (size > download.size) {
        callback(new WrongContentError(`more than the ${download.size} bytes expected`));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  await pipeline(response, verify, createWriteStream(download.file), { signal: download.signal });
  const digest = hash.digest('hex');
  if (size !== download.size || digest !== download.digest) {
    throw new WrongContentError(
      `got ${size} bytes with ${download.algorithm} ${digest}, expected ${download.size} bytes with ${download.digest}`,
    );
  }
}

async function getFollowingRedirects(
  url: string,
  token: string | undefined,
  signal: AbortSignal,
): Promise<IncomingMessage> {
  const origin = new URL(url).origin;
  let target = url;
  for (let hops = 0; ; hops += 1) {
    const response = await get(target, new URL(target).origin === origin ? token : undefined, signal);
    const location = response.headers.location;
    const status = response.statusCode ?? 0;
    if (![301, 302, 303, 307, 308].includes(status) || !location || hops === MAX_REDIRECTS) return response;
    response.resume();
    target = new URL(location, target).href;
  }
}

function get(url: string, token: string | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const request = send(target, { method: 'GET', headers, signal });
    request.setTimeout(TRANSFER_IDLE_MS, () => request.destroy(transferStalled()));
    request.on('error', reject);
    request.on('response', resolve);
    request.end();
  });
}
