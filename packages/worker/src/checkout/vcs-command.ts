import { spawn } from 'node:child_process';

export interface VcsCommand {
  /** `git` or `hg`. */
  program: string;
  args: string[];
  cwd?: string;
  signal?: AbortSignal;
  /** Written to the command's stdin. */
  input?: string;
  /** @default COMMAND_TIMEOUT_MS */
  timeoutMs?: number;
}

/**
 * A clone of a big repository over a slow link can take long, but never this long: a fetch from
 * a server that stopped answering would otherwise hang the job, and hold the store's lock
 * (refreshed all along) against every other checkout of the repository on the machine.
 */
const COMMAND_TIMEOUT_MS = 3_600_000;

export interface VcsOutput {
  stdout: string;
  stderr: string;
}

/** A git or hg command that failed: what it printed tells a network error from a damaged store. */
export class VcsCommandError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number | null,
    readonly stderr: string,
  ) {
    super(`${command} failed (${exitCode === null ? 'killed' : `exit ${exitCode}`}): ${lastLines(stderr)}`);
  }
}

/**
 * The environment every store command runs with: never a prompt for credentials on a terminal
 * nobody watches, no user or system config that could add hooks or change what lands on disk,
 * and plain output to parse.
 */
const QUIET_ENV = {
  GIT_TERMINAL_PROMPT: '0',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_ADVICE: '0',
  HGPLAIN: '1',
  LC_ALL: 'C',
};

/** Runs one command to its end; rejects with a VcsCommandError when it fails. */
export function runVcs(command: VcsCommand): Promise<VcsOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(command.program, command.args, {
      cwd: command.cwd,
      env: { ...process.env, ...QUIET_ENV },
      stdio: ['pipe', 'pipe', 'pipe'],
      signal: command.signal,
    });
    const timeoutMs = command.timeoutMs ?? COMMAND_TIMEOUT_MS;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      // SIGTERM: git and hg remove their lock files on it, which SIGKILL would leave to look like damage.
      child.kill('SIGTERM');
    }, timeoutMs);
    timer.unref();
    // A command that exits without reading its input must not fail the write.
    child.stdin.on('error', () => {});
    child.stdin.end(command.input ?? '');
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.on('error', (error) => {
      clearTimeout(timer);
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(`\`${command.program}\` is not installed (or not on PATH)`));
      } else {
        reject(error);
      }
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      const output = { stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() };
      if (timedOut) {
        reject(
          new Error(
            `${describe(command)} did not finish in ${timeoutMs / 1000} s: stopped (${lastLines(output.stderr)})`,
          ),
        );
        return;
      }
      // git can succeed while complaining about its own objects (a bad pack it fell back from):
      // that is a damaged store all the same.
      if (code === 0 && !reportsDamage(output.stderr)) resolve(output);
      else reject(new VcsCommandError(describe(command), code, output.stderr));
    });
  });
}

/** Like runVcs, but a failure is an answer ("no"), not an error. */
export async function vcsSucceeds(command: VcsCommand): Promise<boolean> {
  try {
    await runVcs(command);
    return true;
  } catch (error) {
    if (error instanceof VcsCommandError) return false;
    throw error;
  }
}

/**
 * Failures worth trying again: the network or the server, not the request. Taken from what
 * git and hg print for refused, reset, timed-out and cut-off connections and for HTTP 5xx.
 */
const NETWORK_FAILURE =
  /unable to access|could not resolve host|connection (refused|reset|timed out)|timed? ?out|early EOF|remote end hung up|RPC failed|returned error: 5\d\d|HTTP 5\d\d|unexpected disconnect|transfer closed|SSL|gnutls|stream ended unexpectedly|abort: error: |abort: HTTP Error 5\d\d|network is unreachable/i;

/** A store (or tree) that can't be trusted any more: missing or damaged objects, leftover locks. */
const DAMAGE =
  /bad object|corrupt|missing (blob|tree|commit|object)|unable to read|cannot be accessed|index-pack failed|loose object|did not receive expected object|not a git repository|invalid object|inflate|packfile|bad tree object|unable to create .*\.lock|index file (smaller|open failed)|integrity check failed|no node|revlog|unknown revision .*0{40}|abandoned transaction|is not a shared repository|data\/.*@/i;

/** The program's own error lines (not a server's `remote:` ones) name damage. */
function reportsDamage(stderr: string): boolean {
  return stderr.split('\n').some((line) => /^(error|fatal):/.test(line) && DAMAGE.test(line));
}

/** The server answered, and said no: asking again gets the same answer. */
const REFUSED_BY_SERVER = /returned error: 4\d\d|HTTP Error 4\d\d|Authentication failed|authorization failed/i;

export function isNetworkFailure(error: unknown): boolean {
  return (
    error instanceof VcsCommandError && NETWORK_FAILURE.test(error.stderr) && !REFUSED_BY_SERVER.test(error.stderr)
  );
}

export function isDamage(error: unknown): boolean {
  return error instanceof VcsCommandError && DAMAGE.test(error.stderr);
}

/** `git fetch`, `hg pull`: the program and its subcommand, past the options that take a value. */
function describe(command: VcsCommand): string {
  const takesValue = new Set(['-C', '-c', '-R', '--config']);
  for (let i = 0; i < command.args.length; i += 1) {
    const arg = command.args[i] as string;
    if (takesValue.has(arg)) i += 1;
    else if (!arg.startsWith('-')) return `${command.program} ${arg}`;
  }
  return command.program;
}

function lastLines(text: string): string {
  const lines = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
  return lines.slice(-4).join(' / ') || '(nothing on stderr)';
}

/**
 * Shows a URL without its password, so a token embedded in it does not end up in a log; over
 * http a user name alone is a token too (`https://TOKEN@host/`), where ssh's is only a login.
 */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    else if (parsed.username && parsed.protocol !== 'ssh:') parsed.username = '***';
    else return url;
    return parsed.toString();
  } catch {
    return url;
  }
}
