import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SwitchyardClient } from '@switchyard/protocol';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SWITCHYARD_BIN = join(ROOT, 'packages', 'cli', 'bin', 'switchyard.js');

/** A child process of the test, with its output kept for failure messages. */
export interface TestProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

const live = new Set<TestProcess>();

/**
 * Runs `switchyard args`; with `launcher`, as the command it runs (`[...launcher, node, bin,
 * ...args]`), which then is the child process itself (it must exec, not fork).
 */
export function runSwitchyard(args: string[], env: NodeJS.ProcessEnv = {}, launcher: string[] = []): TestProcess {
  const command = [...launcher, process.execPath, SWITCHYARD_BIN, ...args];
  const child = spawn(command[0] as string, command.slice(1), {
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    output += d.toString();
  });
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  const proc: TestProcess = {
    child,
    output: () => output,
    exited,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
  live.add(proc);
  void exited.then(() => live.delete(proc));
  return proc;
}

/** Runs a switchyard command to completion. */
export async function switchyardCommand(args: string[], env: NodeJS.ProcessEnv = {}) {
  const proc = runSwitchyard(args, env);
  const code = await proc.exited;
  return { code, output: proc.output() };
}

/** Kills every process a test started and waits for them; returns how many were still alive. */
export async function killAll(): Promise<number> {
  const remaining = [...live];
  await Promise.all(remaining.map((p) => p.kill('SIGKILL')));
  return remaining.length;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  server.close();
  await once(server, 'close');
  return port;
}

export interface TestServer extends TestProcess {
  url: string;
  client: SwitchyardClient;
}

export async function startServer(options: {
  config: string;
  data: string;
  /** `--database`: a postgres:// URL (see databases.ts); without it, the SQLite file in `data`. */
  database?: string;
  /** `--blobs`: an s3:// URL (see moto.ts); without it, the blob directory in `data`. */
  blobs?: string;
  port?: number;
  env?: NodeJS.ProcessEnv;
  token?: string;
  /** Runs the server through this command (see runSwitchyard). */
  launcher?: string[];
}): Promise<TestServer> {
  const port = options.port ?? (await freePort());
  const database = options.database === undefined ? [] : ['--database', options.database];
  const blobs = options.blobs === undefined ? [] : ['--blobs', options.blobs];
  const proc = runSwitchyard(
    [
      'server',
      '--config',
      options.config,
      '--data',
      options.data,
      ...database,
      ...blobs,
      '--port',
      String(port),
      '--host',
      '127.0.0.1',
    ],
    options.env,
    options.launcher,
  );
  const url = `http://127.0.0.1:${port}`;
  const client = new SwitchyardClient({ server: url, token: options.token });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`server exited early:\n${proc.output()}`);
    try {
      // Any HTTP answer will do: with `public_read: false` this one is a 401.
      await fetch(`${url}/api/v1/server`);
      break;
    } catch {
      if (Date.now() > deadline) throw new Error(`server did not answer within 30 s:\n${proc.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { ...proc, url, client };
}

export function startWorker(options: {
  server: string;
  name: string;
  pool: string;
  workDir: string;
  tags?: string[];
  env?: NodeJS.ProcessEnv;
}): TestProcess {
  const tags = (options.tags ?? []).flatMap((t) => ['--tag', t]);
  return runSwitchyard(
    [
      'worker',
      '--server',
      options.server,
      '--name',
      options.name,
      '--pool',
      options.pool,
      '--work-dir',
      options.workDir,
      ...tags,
    ],
    options.env,
  );
}
