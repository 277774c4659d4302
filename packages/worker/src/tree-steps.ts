import { join } from 'node:path';
import { type AttemptTimings, type JobSpec, TOOLS_BASE_PATH } from '@switchyard/protocol';
import { CheckoutRefused, checkout, redactUrl } from './checkout/index.ts';
import { formatBytes } from './format-bytes.ts';
import { type InProcessStep, logTo, startInProcessStep } from './in-process-step.ts';
import type { OutputSink } from './step-runner.ts';
import { fetchTools, ManifestError } from './tools/index.ts';

export interface TreeStepContext {
  job: JobSpec;
  /** The worker's tree of the job's repository: where the steps run. */
  srcDir: string;
  repoStore: string;
  toolCache: { dir: string; maxBytes: number };
  /** Tool store bases, tried in order. */
  toolUrls: string[];
  token: string | undefined;
  /** Filled in as the phases end, for the attempt's report. */
  timings: AttemptTimings;
  /** How long a tool download keeps trying through failures: the lease's length (see transfer-retry.ts). */
  leaseSeconds: number;
}

/**
 * The worker's tree of a repository, `<workDir>/trees/<repo>`: it outlives the job, so the
 * next job's checkout writes only what differs. One per worker, so no two jobs share one.
 * Shallow jobs have their own (`<repo>@shallow`, `@` being no repo name's): their store is
 * another one, and sharing a tree would rebuild it at every switch between the two.
 */
export function treeDirectory(workDir: string, job: Pick<JobSpec, 'repo' | 'depth'>): string {
  return join(workDir, 'trees', job.depth === undefined ? job.repo.name : `${job.repo.name}@shallow`);
}

/** Tools come through the regional cache when there is one (its `artifacts` upstream is the coordinator). */
export function toolStoreUrls(server: string, cache: string | undefined): string[] {
  const origin = `${server.replace(/\/+$/, '')}${TOOLS_BASE_PATH}`;
  return cache ? [`${cache.replace(/\/+$/, '')}/artifacts${TOOLS_BASE_PATH}`, origin] : [origin];
}

/**
 * The implicit first step: a pristine tree of exactly the job's revision, from the machine's
 * repository store. A failure of the network or the store is the infrastructure's
 * (`checkout-failed`: another attempt, maybe elsewhere, may well succeed); a revision that can't
 * be had is the job's failure.
 */
export function startCheckoutStep(context: TreeStepContext, output: OutputSink): InProcessStep {
  const log = logTo(output);
  return startInProcessStep(async (signal) => {
    const { job, srcDir, repoStore } = context;
    const vcs = job.repo.vcs ?? 'git';
    log(`checking out ${job.revision} of ${redactUrl(job.repo.url)} (${vcs}) into ${srcDir}`);
    try {
      const report = await checkout({
        storeDir: repoStore,
        url: job.repo.url,
        revision: job.revision,
        dest: srcDir,
        vcs,
        sparse: job.sparse,
        depth: job.depth,
        log,
        signal,
      });
      const { lockMs, fetchMs, checkoutMs, cleanMs, totalMs } = report.timings;
      Object.assign(context.timings, { lockMs, fetchMs, checkoutMs, cleanMs });
      const store = report.createdStore ? 'new store' : report.fetched ? 'store updated' : 'store warm';
      const recovered = report.recovered.length > 0 ? `; recovered: ${report.recovered.join(', ')}` : '';
      log(
        `checkout ${totalMs} ms (${store}${recovered}): lock ${lockMs} ms, fetch ${fetchMs} ms, checkout ${checkoutMs} ms, clean ${cleanMs} ms`,
      );
      return null;
    } catch (error) {
      if (signal.aborted) throw error;
      const message = `could not check out ${job.revision} from ${redactUrl(job.repo.url)}: ${(error as Error).message}`;
      log(message);
      // A revision the repository lacks is the push's mistake: another attempt would only repeat it.
      if (error instanceof CheckoutRefused) return { result: 'failure', message };
      return { result: 'exception', reason: 'checkout-failed', message };
    }
  }, output);
}

/**
 * After the checkout: the files of the builder's tooltool manifest, from the worker's tool
 * cache or the tool store, verified, into the tree. A manifest that is missing or invalid is
 * the job's own failure; a store that can't deliver is the infrastructure's (`tools-failed`).
 */
export function startToolsStep(context: TreeStepContext, output: OutputSink): InProcessStep {
  const log = logTo(output);
  return startInProcessStep(async (signal) => {
    const { job, srcDir, toolCache, toolUrls, token } = context;
    const manifest = job.tools as string;
    try {
      const report = await fetchTools({
        manifest: join(srcDir, manifest),
        dest: srcDir,
        cacheDir: toolCache.dir,
        maxCacheBytes: toolCache.maxBytes,
        urls: toolUrls,
        token,
        log,
        signal,
        patienceMs: context.leaseSeconds * 1000,
      });
      context.timings.toolsMs = report.ms;
      log(
        `tools from ${manifest}: ${report.files.length} files, ${report.cacheHits} from the cache, ` +
          `${report.downloads} downloaded (${formatBytes(report.downloadedBytes)}) in ${report.ms} ms`,
      );
      return null;
    } catch (error) {
      if (signal.aborted) throw error;
      const message = `could not fetch the tools of ${manifest}: ${(error as Error).message}`;
      log(message);
      if (error instanceof ManifestError) return { result: 'failure', message };
      return { result: 'exception', reason: 'tools-failed', message };
    }
  }, output);
}
