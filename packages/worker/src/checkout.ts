import { join } from 'node:path';
import { type OutputSink, type RunningStep, type StepOutcome, startStep, stepSucceeded } from './step-runner.ts';

export interface CheckoutSpec {
  url: string;
  revision: string;
  /** The job directory; the tree lands in its `src` subdirectory. */
  jobDir: string;
  killGraceMs: number;
  output: OutputSink;
}

/** A clone of a big repository over a slow link can take long, but never this long. */
const GIT_COMMAND_TIMEOUT_SECONDS = 3600;

/**
 * The implicit first step of a job: a pristine tree of exactly `revision` in `<jobDir>/src`.
 * Runs as a step so that it is logged, timed out and cancelled like one.
 */
export function startCheckout(spec: CheckoutSpec): RunningStep {
  const srcDir = join(spec.jobDir, 'src');
  const commands = [
    { cwd: spec.jobDir, args: ['clone', '--no-checkout', '--quiet', '--', spec.url, 'src'] },
    { cwd: srcDir, args: ['-c', 'advice.detachedHead=false', 'checkout', '--quiet', spec.revision] },
  ];
  // Never ask for credentials on a terminal nobody is watching: fail instead.
  const env = { ...process.env, GIT_TERMINAL_PROMPT: '0' };
  let current: RunningStep | null = null;
  let cancelled: { reason: string; graceMs: number | undefined } | null = null;

  const run = async (): Promise<StepOutcome> => {
    let outcome: StepOutcome | null = null;
    for (const { cwd, args } of commands) {
      // Cancelled between two commands: the first one's success must not pass for the checkout's.
      if (outcome && cancelled) return { ...outcome, cancelled: true };
      spec.output.write('header', Buffer.from(`$ git ${args.map(redactUrl).join(' ')}\n`));
      current = startStep({
        file: 'git',
        args,
        cwd,
        env,
        timeoutSeconds: GIT_COMMAND_TIMEOUT_SECONDS,
        killGraceMs: spec.killGraceMs,
        output: spec.output,
      });
      outcome = await current.finished;
      if (!stepSucceeded(outcome)) break;
    }
    return outcome!;
  };

  return {
    finished: run(),
    cancel(reason, graceMs) {
      cancelled = { reason, graceMs };
      current?.cancel(reason, graceMs);
    },
  };
}

/** Shows a URL without its password, so a token embedded in it does not end up in the log. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (!parsed.password) return url;
    parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}
