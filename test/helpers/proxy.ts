import { freePort, runSwitchyard, type TestProcess } from './processes.ts';

export interface TestProxy extends TestProcess {
  url: string;
}

/** Starts `switchyard proxy` as a real process and waits until it answers. */
export async function startProxyProcess(options: {
  cacheDir: string;
  maxSize: string;
  upstreams: string[];
  port?: number;
  /** Further flags, e.g. --admin-token-file. */
  args?: string[];
}): Promise<TestProxy> {
  const port = options.port ?? (await freePort());
  const proc = runSwitchyard([
    'proxy',
    '--listen',
    `127.0.0.1:${port}`,
    '--cache-dir',
    options.cacheDir,
    '--max-size',
    options.maxSize,
    ...options.upstreams.flatMap((upstream) => ['--upstream', upstream]),
    ...(options.args ?? []),
  ]);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (proc.child.exitCode !== null) throw new Error(`proxy exited early:\n${proc.output()}`);
    try {
      await fetch(`${url}/_stats`);
      return { ...proc, url };
    } catch {
      if (Date.now() > deadline) throw new Error(`proxy did not answer within 30 s:\n${proc.output()}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
