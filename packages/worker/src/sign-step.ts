import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ApiRequestError, type AttemptSigning, type SigningSummary, type SignSpec } from '@switchyard/protocol';
import { SignerClient } from '@switchyard/signing/client';
import { glob, isDynamicPattern } from 'tinyglobby';
import type { AttemptConclusion } from './attempt-conclusion.ts';
import { describeFailure } from './failure-kind.ts';
import { formatBytes } from './format-bytes.ts';
import { type InProcessStep, logTo, startInProcessStep } from './in-process-step.ts';
import type { OutputSink } from './step-runner.ts';
import { classifyTransferFailure, withTransferRetries } from './transfer-retry.ts';

export interface SignStepContext {
  sign: readonly SignSpec[];
  /** What the claim gave for the signer; absent when the coordinator has no `signing:` section. */
  signing: AttemptSigning | undefined;
  /** Where the steps ran: `files` and `to` are relative to it. */
  srcDir: string;
  /** How long a signer that is away may take to come back: the lease's length. */
  patienceMs: number;
  /** Told what was signed, for the attempt's end report (`signing.finished`). */
  onSummary: (summary: SigningSummary) => void;
}

/** One file to sign, and where its signed form goes. */
export interface FileToSign {
  spec: SignSpec;
  /** Relative to the directory the steps ran in, as the log shows it. */
  path: string;
  file: string;
  output: string;
}

/** Files signed at once: the signer signs several in parallel, and an upload overlaps another's signing. */
const CONCURRENCY = 4;

/**
 * Finds the files of a job's `sign:` entries and where each signed file goes: in place of the
 * original, or in `to`; a detached gpg signature beside it as `<file>.asc` (or in `to`). A
 * missing file that is not optional is a problem for the job.
 */
export async function selectFilesToSign(
  specs: readonly SignSpec[],
  directory: string,
): Promise<{ files: FileToSign[]; problems: string[] }> {
  const files: FileToSign[] = [];
  const problems: string[] = [];
  for (const spec of specs) {
    const paths = (
      await glob(spec.files, { cwd: directory, onlyFiles: true, dot: true, expandDirectories: false })
    ).sort();
    if (paths.length === 0) {
      if (!spec.optional) {
        problems.push(`sign ${spec.files}: no file ${isDynamicPattern(spec.files) ? 'matches' : 'at'} ${spec.files}`);
      }
      continue;
    }
    for (const path of paths) {
      const file = join(directory, path);
      const name = spec.format === 'gpg' ? `${basename(path)}.asc` : basename(path);
      const output =
        spec.to !== undefined ? join(directory, spec.to, name) : spec.format === 'gpg' ? `${file}.asc` : file;
      files.push({ spec, path, file, output });
    }
  }
  return { files, problems };
}

/**
 * After the build steps: has each file of the job's `sign:` entries signed by the signing
 * service with the attempt's signing token, asking by digest first so a file the signer knows
 * never travels. A refusal (a key or format the token does not allow, a file the format can't
 * take) fails the job; a signer that stays away for the lease's length ends the attempt
 * `signer-unavailable`, which is retried and not held against the worker.
 */
export function startSignFiles(context: SignStepContext, output: OutputSink): InProcessStep {
  const log = logTo(output);
  return startInProcessStep(async (signal): Promise<AttemptConclusion | null> => {
    const started = performance.now();
    if (!context.signing) {
      const message = 'this job signs files, but the coordinator gave it no signer (no `signing:` in its config)';
      log(message);
      return { result: 'failure', message };
    }
    const { files, problems } = await selectFilesToSign(context.sign, context.srcDir);
    if (problems.length > 0) {
      for (const problem of problems) log(problem);
      return { result: 'failure', message: problems.join('; ') };
    }
    const client = new SignerClient(context.signing.url, context.signing.token);
    const summary: SigningSummary = { files: 0, formats: [], cacheHits: 0, notUploaded: 0, seconds: 0 };
    const queue = [...files];
    const signOne = async (target: FileToSign) => {
      const fileStarted = performance.now();
      const input = await readFile(target.file);
      const signed = await withTransferRetries(
        { what: `signing ${target.path}`, patienceMs: context.patienceMs, signal, log },
        () => client.signFile(target.spec.format, target.spec.key, input),
      );
      if (target.output !== target.file) await mkdir(join(target.output, '..'), { recursive: true });
      await writeFile(target.output, signed.output);
      summary.files += 1;
      if (!summary.formats.includes(target.spec.format)) summary.formats.push(target.spec.format);
      if (signed.result.cache !== 'miss') summary.cacheHits += 1;
      if (!signed.uploaded) summary.notUploaded += 1;
      const how = signed.result.cache === 'miss' ? 'signed' : `from the signer's cache (${signed.result.cache})`;
      const seconds = ((performance.now() - fileStarted) / 1000).toFixed(1);
      log(
        `${target.path}: ${target.spec.format} with ${target.spec.key}, ${how}${signed.uploaded ? '' : ', not uploaded'}, ${formatBytes(input.length)} → ${target.output === target.file ? 'in place' : target.output.slice(context.srcDir.length + 1)} (${seconds} s)`,
      );
    };
    try {
      await Promise.all(
        Array.from({ length: Math.min(CONCURRENCY, queue.length) }, async () => {
          for (let next = queue.shift(); next !== undefined && !signal.aborted; next = queue.shift()) {
            await signOne(next);
          }
        }),
      );
    } catch (error) {
      if (signal.aborted) throw error;
      const message = `signing failed: ${describeFailure(error)}`;
      log(message);
      if (error instanceof ApiRequestError && error.status < 500) return { result: 'failure', message };
      if (classifyTransferFailure((error as Error).cause ?? error) !== 'final') {
        return { result: 'exception', reason: 'signer-unavailable', message };
      }
      throw error;
    }
    summary.formats.sort();
    summary.seconds = Math.round((performance.now() - started) / 100) / 10;
    context.onSummary(summary);
    return null;
  }, output);
}
