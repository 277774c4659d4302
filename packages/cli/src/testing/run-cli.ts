import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/switchyard.js', import.meta.url));

export interface CliRun {
  child: ChildProcess;
  /** Everything written so far. */
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code once the process has exited. */
  exited: Promise<number | null>;
  /** Resolves once stdout or stderr contains `text`; rejects if the process exits first. */
  waitFor: (text: string) => Promise<void>;
}

/** Starts `switchyard <args>` as its own process, the way a user runs it, with no switchyard settings from the environment. */
export function startCli(args: readonly string[], options: { cwd?: string } = {}): CliRun {
  const env = { ...process.env };
  delete env.SWITCHYARD_SERVER;
  delete env.SWITCHYARD_TOKEN;
  const child = spawn(process.execPath, [BIN, ...args], { cwd: options.cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const notify = () => {
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
    notify();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
    notify();
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const waitFor = (text: string) =>
    new Promise<void>((resolve, reject) => {
      const check = () => {
        if (stdout.includes(text) || stderr.includes(text)) {
          listeners.delete(check);
          resolve();
        }
      };
      listeners.add(check);
      check();
      exited.then((code) =>
        reject(new Error(`exited (${code}) before printing ${JSON.stringify(text)}:\n${stdout}\n${stderr}`)),
      );
    });
  return { child, stdout: () => stdout, stderr: () => stderr, exited, waitFor };
}

/** Runs `switchyard <args>` to the end. */
export async function runCli(
  args: readonly string[],
  options: { cwd?: string } = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const run = startCli(args, options);
  const code = await run.exited;
  return { code, stdout: run.stdout(), stderr: run.stderr() };
}
