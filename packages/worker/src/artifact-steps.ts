import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  ApiRequestError,
  type JobInput,
  type JobSpec,
  type SwitchyardClient,
  toRequestError,
} from '@switchyard/protocol';
import { type BlobSource, downloadBlob } from './artifact-download.ts';
import { selectArtifactFiles } from './artifact-files.ts';
import { fileSha256, uploadWithExpect } from './artifact-upload.ts';
import type { AttemptConclusion } from './attempt-conclusion.ts';
import { classifyFailure, describeFailure } from './failure-kind.ts';
import { formatBytes } from './format-bytes.ts';
import { type InProcessStep, logTo, startInProcessStep } from './in-process-step.ts';
import type { OutputSink } from './step-runner.ts';
import { withTransferRetries } from './transfer-retry.ts';
import { unpackArchive } from './unpack.ts';

export interface ArtifactStepContext {
  client: SwitchyardClient;
  token: string | undefined;
  /** A regional cache (`switchyard proxy`) whose upstream `artifacts` is the coordinator. */
  cache: string | undefined;
  job: JobSpec;
  jobDir: string;
  /** Where the steps run: artifacts are found, and fetched into, relative to it. */
  srcDir: string;
  /** How long a transfer keeps trying through failures: the lease's length (see transfer-retry.ts). */
  leaseSeconds: number;
  /** The coordinator said 409 lease-lost: the job is someone else's now. */
  onLeaseLost: () => void;
}

/**
 * Before the steps: each `fetch:` entry's artifact, from the job of the same push that made it,
 * through the cache when there is one (the coordinator otherwise, or when the cache fails),
 * checked against its sha256, then unpacked or saved under `to`.
 */
export function startFetchArtifacts(context: ArtifactStepContext, output: OutputSink): InProcessStep {
  const log = logTo(output);
  return startInProcessStep(async (signal) => {
    const { client, job } = context;
    const specs = job.fetch ?? [];
    const retrying = (what: string) => ({ what, patienceMs: context.leaseSeconds * 1000, signal, log });
    const inputs = await withTransferRetries(retrying('listing the inputs'), () => client.jobInputs(job.id, signal));
    const downloads = join(context.jobDir, 'downloads');
    await mkdir(downloads, { recursive: true });
    for (const [index, spec] of specs.entries()) {
      const input: JobInput | undefined = inputs[index];
      if (!input?.found) {
        const message = `cannot fetch ${spec.artifact} from ${spec.from}: ${input?.problem ?? 'the coordinator did not resolve it'}`;
        log(message);
        return { result: 'failure', message };
      }
      const { found } = input;
      log(
        `fetching ${found.name} of job ${input.job} (${spec.from}): ${formatBytes(found.size)}, sha256 ${found.sha256}`,
      );
      const sources: BlobSource[] = [{ url: `${client.server}${found.url}`, label: 'the coordinator' }];
      if (context.cache)
        sources.unshift({ url: `${context.cache.replace(/\/+$/, '')}/artifacts${found.url}`, label: 'the cache' });
      const file = join(downloads, found.sha256);
      const started = performance.now();
      const source = await withTransferRetries(retrying(`fetching ${found.name}`), () =>
        downloadBlob({
          sources,
          token: context.token,
          sha256: found.sha256,
          size: found.size,
          file,
          signal,
          onFallback: (failed, reason) => log(`${failed.label} failed (${reason}); trying the next source`),
        }),
      );
      const took = `${Math.round(performance.now() - started)} ms`;
      log(`downloaded from ${source.label} in ${took}; sha256 verified`);
      const destination = resolve(context.srcDir, spec.to);
      if (spec.unpack) {
        const entries = await unpackArchive(file, found.name, destination);
        await rm(file, { force: true });
        log(`unpacked ${entries} entries into ${spec.to}`);
      } else {
        await mkdir(destination, { recursive: true });
        await rename(file, join(destination, found.name));
        log(`saved as ${join(spec.to, found.name)}`);
      }
    }
    return null;
  }, output);
}

/**
 * After the steps succeeded: every declared artifact, hashed first and then uploaded with
 * `Expect: 100-continue` and its digest, so content the coordinator holds already is never
 * sent again. A required artifact that is missing fails the job.
 */
export function startUploadArtifacts(context: ArtifactStepContext, output: OutputSink): InProcessStep {
  const log = logTo(output);
  return startInProcessStep(async (signal): Promise<AttemptConclusion | null> => {
    const { client, job } = context;
    const selection = await selectArtifactFiles(job.artifacts ?? [], context.srcDir);
    for (const path of selection.skipped) log(`optional artifact ${path}: no such file, skipped`);
    if (selection.problems.length > 0) {
      for (const problem of selection.problems) log(problem);
      return { result: 'failure', message: `missing artifacts: ${selection.problems.join('; ')}` };
    }
    for (const artifact of selection.files) {
      const sha256 = await fileSha256(artifact.file, signal);
      log(`uploading ${artifact.path} as ${artifact.name}: ${formatBytes(artifact.size)}, sha256 ${sha256}`);
      const url = client.url(`/api/v1/jobs/${job.id}/artifacts/${encodeURIComponent(artifact.name)}`);
      const retrying = { what: `uploading ${artifact.name}`, patienceMs: context.leaseSeconds * 1000, signal, log };
      // Each try asks with the digest first: what the coordinator took before it went away is not sent again.
      try {
        const answer = await withTransferRetries(retrying, async () => {
          const reply = await uploadWithExpect({
            url,
            token: context.token,
            file: artifact.file,
            size: artifact.size,
            sha256,
            signal,
          });
          if (reply.status !== 200 && reply.status !== 201) throw toRequestError(reply.status, reply.body);
          return reply;
        });
        log(answer.bodySent ? `stored ${artifact.name}` : `${artifact.name}: already stored; no bytes sent`);
      } catch (error) {
        if (!(error instanceof ApiRequestError)) throw error;
        if (classifyFailure(error) === 'lease-lost') {
          context.onLeaseLost();
          return null;
        }
        if (error.status === 413) {
          const message = `artifact ${artifact.name} (${formatBytes(artifact.size)}) is too large: ${error.message}`;
          log(message);
          return { result: 'failure', message };
        }
        throw new Error(`could not upload ${artifact.name}: ${describeFailure(error)}`);
      }
    }
    return null;
  }, output);
}
