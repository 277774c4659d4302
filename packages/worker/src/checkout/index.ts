import { performance } from 'node:perf_hooks';
import { CheckoutRefused } from './checkout-refused.ts';
import { gitCheckout } from './git-checkout.ts';
import { hgCheckout } from './hg-checkout.ts';

export { CheckoutRefused } from './checkout-refused.ts';
export { redactUrl } from './vcs-command.ts';

export type Vcs = 'git' | 'hg';

export interface CheckoutRequest {
  /** The store root, shared by every worker (and script) on the machine: one store per repository in it. */
  storeDir: string;
  url: string;
  /** The exact revision: a full commit id (git), or 12 to 40 hex digits (hg). */
  revision: string;
  /** The working tree, made or brought up to date in place. */
  dest: string;
  /** @default 'git' */
  vcs?: Vcs;
  /** Cone-mode sparse checkout of these directories (git). */
  sparse?: string[];
  /** Fetch only this much history (git); such a store is kept apart, keyed by URL. */
  depth?: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
  /** Tries of each network operation. @default 3 */
  networkAttempts?: number;
  /** The backoff unit between them. @default 1500 */
  retryDelayMs?: number;
}

/** Milliseconds spent in each phase, for the job's log and the attempt's timing fields. */
export interface CheckoutTimings {
  /** Waiting for another checkout to let go of the store or the tree. */
  lockMs: number;
  /** Network: the first clone into the store, or the fetch of what it lacked. */
  fetchMs: number;
  /** Writing the tree: the files that differ from what is on disk. */
  checkoutMs: number;
  /** Removing untracked and ignored files an earlier job left. */
  cleanMs: number;
  totalMs: number;
}

export interface CheckoutReport {
  /** The root commit (git, hg) or a hash of the URL (shallow git) the store is keyed by. */
  storeKey: string;
  storePath: string;
  createdStore: boolean;
  /** Whether the network was used: false when the store already held the revision. */
  fetched: boolean;
  /** What was found damaged or abandoned and rebuilt on the way: empty on a normal run. */
  recovered: string[];
  timings: CheckoutTimings;
}

export interface ResolvedCheckout extends Required<Omit<CheckoutRequest, 'signal' | 'sparse' | 'depth'>> {
  sparse: string[] | undefined;
  depth: number | undefined;
  signal: AbortSignal | undefined;
}

/**
 * A pristine working tree of exactly `revision` at `dest`, from a store per repository that
 * keeps everything already fetched: what a fresh clone guarantees (tracked files exactly as at
 * the revision, nothing untracked or ignored left over), writing only what differs on disk.
 * Safe with other checkouts of the same store running at once; a store or tree in any doubt
 * (abandoned lock, damaged objects) is deleted and made again rather than repaired.
 */
export async function checkout(request: CheckoutRequest): Promise<CheckoutReport> {
  const resolved: ResolvedCheckout = {
    storeDir: request.storeDir,
    url: request.url,
    revision: request.revision,
    dest: request.dest,
    vcs: request.vcs ?? 'git',
    sparse: request.sparse?.length ? request.sparse : undefined,
    depth: request.depth,
    log: request.log ?? (() => {}),
    signal: request.signal,
    networkAttempts: request.networkAttempts ?? 3,
    retryDelayMs: request.retryDelayMs ?? 1500,
  };
  validate(resolved);
  const started = performance.now();
  const timer = new PhaseTimer();
  const report = resolved.vcs === 'hg' ? await hgCheckout(resolved, timer) : await gitCheckout(resolved, timer);
  report.timings.totalMs = Math.round(performance.now() - started);
  return report;
}

function validate(request: ResolvedCheckout): void {
  if (request.vcs === 'git' && !/^([0-9a-f]{40}|[0-9a-f]{64})$/.test(request.revision)) {
    throw new CheckoutRefused(
      `revision "${request.revision}" is not a full git commit id (40 or 64 lower-case hex digits)`,
    );
  }
  if (request.vcs === 'hg' && !/^[0-9a-f]{12,40}$/.test(request.revision)) {
    throw new CheckoutRefused(
      `revision "${request.revision}" is not a Mercurial changeset id (12 to 40 lower-case hex digits)`,
    );
  }
  if (request.vcs === 'hg' && (request.sparse || request.depth !== undefined)) {
    throw new CheckoutRefused('sparse and depth are supported for git repositories only');
  }
  if (request.depth !== undefined && (!Number.isInteger(request.depth) || request.depth < 1)) {
    throw new CheckoutRefused(`depth must be a positive whole number, not ${request.depth}`);
  }
  for (const path of request.sparse ?? []) {
    if (path.startsWith('/') || path.split('/').includes('..') || path.length === 0) {
      throw new CheckoutRefused(`sparse path "${path}" must be a directory inside the repository (relative, no "..")`);
    }
  }
}

/** Adds up the time spent in each phase; a phase may be entered more than once (a rebuilt store). */
export class PhaseTimer {
  readonly timings: CheckoutTimings = { lockMs: 0, fetchMs: 0, checkoutMs: 0, cleanMs: 0, totalMs: 0 };

  async time<T>(phase: Exclude<keyof CheckoutTimings, 'totalMs'>, work: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await work();
    } finally {
      this.timings[phase] += Math.round(performance.now() - started);
    }
  }
}
