import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { TRANSFER_IDLE_MS } from './artifact-upload.ts';

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

/**
 * Downloads a blob from the first source that delivers it intact: each is streamed to `file`
 * while hashed, and a short, long or corrupt body counts as that source failing (a regional
 * cache may be down or hold a damaged copy; the coordinator has the original). Resolves with
 * the source used; rejects with every source's failure when none worked.
 */
export async function downloadBlob(download: DownloadRequest): Promise<BlobSource> {
  const failures: string[] = [];
  for (const [index, source] of download.sources.entries()) {
    try {
      await fetchVerified(source.url, download);
      return source;
    } catch (error) {
      await rm(download.file, { force: true });
      if (download.signal.aborted) throw error;
      const reason = (error as Error).message;
      failures.push(`${source.label}: ${reason}`);
      const next = download.sources[index + 1];
      if (next) download.onFallback(source, reason);
    }
  }
  throw new Error(failures.join('; '));
}

async function fetchVerified(url: string, download: DownloadRequest): Promise<void> {
  const response = await get(url, download.token, download.signal);
  if (response.statusCode !== 200) {
    response.resume();
    throw new Error(`HTTP ${response.statusCode} for ${url}`);
  }
  const hash = createHash('sha256');
  let size = 0;
  const verify = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      size += chunk.length;
      // A body longer than the artifact is wrong already; reading on would only fill the disk.
      if (size > download.size) {
        callback(new Error(`more than the ${download.size} bytes expected`));
        return;
      }
      hash.update(chunk);
      callback(null, chunk);
    },
  });
  await pipeline(response, verify, createWriteStream(download.file), { signal: download.signal });
  const sha256 = hash.digest('hex');
  if (size !== download.size || sha256 !== download.sha256) {
    throw new Error(`got ${size} bytes with sha256 ${sha256}, expected ${download.size} bytes with ${download.sha256}`);
  }
}

function get(url: string, token: string | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
    const request = send(target, { method: 'GET', headers, signal });
    request.setTimeout(TRANSFER_IDLE_MS, () =>
      request.destroy(new Error(`no progress for ${TRANSFER_IDLE_MS / 1000} s`)),
    );
    request.on('error', reject);
    request.on('response', resolve);
    request.end();
  });
}
