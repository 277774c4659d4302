import { join } from 'node:path';
import {
  ApiRequestError,
  TOOL_FILENAME_HEADER,
  TOOL_VISIBILITY_HEADER,
  type ToolVisibility,
  toRequestError,
} from '@switchyard/protocol';
import { uploadWithExpect } from '../artifact-upload.ts';
import { Backoff } from '../backoff.ts';
import { classifyFailure, describeFailure } from '../failure-kind.ts';
import { formatBytes } from '../format-bytes.ts';
import { sleep } from '../sleep.ts';
import { readManifest } from './manifest.ts';
import { validateManifest } from './manifest-edit.ts';

export interface UploadToolsOptions {
  manifest: string;
  /** Where the manifest's files are. */
  dir: string;
  /** The tool store's base: the files go to `<url>/sha512/<digest>`. */
  url: string;
  /** A token with the `push` scope. */
  token?: string;
  /** For records that name none. @default 'internal' */
  visibility?: ToolVisibility;
  log: (line: string) => void;
  signal?: AbortSignal;
  /** The first retry's delay. @default 1000 */
  retryInitialMs?: number;
}

export interface UploadedTool {
  filename: string;
  size: number;
  visibility: ToolVisibility;
  /** `stored`: its bytes were sent; `already-stored`: the store had them, nothing was sent. */
  status: 'stored' | 'already-stored';
}

export interface ToolUploadReport {
  files: UploadedTool[];
  sentBytes: number;
}

const MAX_ATTEMPTS = 5;

/**
 * Uploads every file of a manifest to a tool store, each with `Expect: 100-continue`: the store
 * answers before the body when it already has those bytes, so an upload that is repeated sends
 * nothing again. The files are checked against the manifest first, as tooltool does.
 */
export async function uploadTools(options: UploadToolsOptions): Promise<ToolUploadReport> {
  const signal = options.signal ?? new AbortController().signal;
  const manifest = await readManifest(options.manifest);
  const validation = await validateManifest(options.manifest, options.dir);
  const bad = validation.files.filter((file) => file.status !== 'ok');
  if (bad.length > 0) {
    throw new Error(
      `not uploading: these files in ${options.dir} do not match ${options.manifest}: ${bad
        .map((file) => `${file.filename} (${file.status})`)
        .join(', ')}`,
    );
  }
  const report: ToolUploadReport = { files: [], sentBytes: 0 };
  const base = options.url.replace(/\/+$/, '');
  for (const record of manifest.records) {
    const visibility = record.visibility ?? options.visibility ?? 'internal';
    const url = `${base}/sha512/${record.digest}`;
    const backoff = new Backoff({ initialMs: options.retryInitialMs ?? 1000, maxMs: 30_000 });
    for (let attempt = 1; ; attempt += 1) {
      const failure = await uploadWithExpect({
        url,
        token: options.token,
        file: join(options.dir, record.filename),
        size: record.size,
        headers: { [TOOL_VISIBILITY_HEADER]: visibility, [TOOL_FILENAME_HEADER]: record.filename },
        signal,
      }).then(
        (answer) => {
          if (answer.status !== 200 && answer.status !== 201) return toRequestError(answer.status, answer.body);
          const status = answer.bodySent ? 'stored' : 'already-stored';
          report.files.push({ filename: record.filename, size: record.size, visibility, status });
          if (answer.bodySent) report.sentBytes += record.size;
          options.log(
            answer.bodySent
              ? `${record.filename}: uploaded ${formatBytes(record.size)} (${visibility})`
              : `${record.filename}: already stored; no bytes sent`,
          );
          return null;
        },
        (error: unknown) => (signal.aborted ? Promise.reject(error) : (error as Error)),
      );
      if (failure === null) break;
      if (classifyFailure(failure) !== 'transient' || attempt >= MAX_ATTEMPTS) {
        throw new Error(`could not upload ${record.filename} to ${url}: ${explain(failure)}`);
      }
      options.log(`${record.filename}: upload failed (${describeFailure(failure)}); trying again`);
      await sleep(backoff.next(), signal);
      signal.throwIfAborted();
    }
  }
  return report;
}

function explain(failure: Error): string {
  if (failure instanceof ApiRequestError && failure.status === 409) {
    return `${failure.message} (the store holds these bytes with another visibility)`;
  }
  return describeFailure(failure);
}
