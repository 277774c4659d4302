import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { basename, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PROFILE_PATHS, PROFILE_SECONDS, toRequestError } from '@switchyard/protocol';
import { formatSize } from '@switchyard/proxy/size';
import type { Command } from 'commander';
import { addConnectionOptions, type ConnectionOptions } from '../connection.ts';
import { wholeNumber } from '../option-parsers.ts';
import { listenForShutdown } from '../shutdown.ts';

interface ProfileOptions extends ConnectionOptions {
  seconds: number;
  heap?: boolean;
  out?: string;
}

export function addProfileCommand(program: Command): void {
  const command = program
    .command('profile')
    .summary('take a CPU profile or heap snapshot of a running server')
    .description(
      'Ask a running coordinator, proxy or signer for a CPU profile (or a heap snapshot) of itself and save it, for Chrome DevTools or speedscope',
    )
    .option(
      '--seconds <n>',
      `how long to sample, ${PROFILE_SECONDS.min} to ${PROFILE_SECONDS.max}`,
      wholeNumber(PROFILE_SECONDS.min, PROFILE_SECONDS.max),
      PROFILE_SECONDS.default,
    )
    .option('--heap', 'take a heap snapshot instead (pauses the server while it is taken)')
    .option('--out <file>', 'where to save it (default: the name the server gives, in this directory)');
  addConnectionOptions(command)
    .addHelpText(
      'after',
      `
--server may be a coordinator, a proxy or a signer; --token must be an admin token there (the
coordinator: a token with the admin scope; a proxy: its --admin-token-file; a signer: its admin:).
One profile at a time per server (409 otherwise). A .cpuprofile opens in Chrome DevTools
(Performance, "Load profile") and in speedscope; a .heapsnapshot in Chrome DevTools (Memory, "Load").
A heap snapshot holds whatever the server's memory holds: keep it as you keep credentials.

Examples:
  $ switchyard profile --server http://coordinator:7420 --seconds 30
  $ switchyard profile --server http://coordinator:7420 --heap --out coordinator.heapsnapshot
  $ switchyard profile --server http://proxy:7430 --token "$(cat /etc/switchyard/proxy-admin-token)"`,
    )
    .action(async (options: ProfileOptions) => {
      const kind = options.heap ? 'heap' : 'cpu';
      const url = new URL(PROFILE_PATHS[kind], options.server);
      if (kind === 'cpu') url.searchParams.set('seconds', String(options.seconds));
      const stop = listenForShutdown();
      const response = await post(url, options.token, stop);
      if (response.statusCode !== 200) {
        const chunks: Buffer[] = [];
        for await (const chunk of response) chunks.push(chunk as Buffer);
        throw toRequestError(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8'));
      }
      const suggested = /filename="([^"/\\]+)"/.exec(response.headers['content-disposition'] ?? '')?.[1];
      const out = resolve(
        options.out ?? basename(suggested ?? `switchyard.${kind === 'cpu' ? 'cpuprofile' : 'heapsnapshot'}`),
      );
      process.stderr.write(
        kind === 'cpu'
          ? `sampling ${options.server} for ${options.seconds} s (Ctrl-C stops it)…\n`
          : `taking a heap snapshot of ${options.server}…\n`,
      );
      // Written beside the target and renamed when complete: an interrupted capture leaves no half file.
      const partial = `${out}.partial`;
      try {
        await pipeline(response, createWriteStream(partial, { mode: 0o600 }), { signal: stop });
        if (!response.complete) throw new Error('the server ended the answer before the file was complete');
        await rename(partial, out);
      } catch (error) {
        await rm(partial, { force: true });
        throw stop.aborted ? new Error('stopped: no profile saved') : error;
      }
      process.stderr.write(`saved ${formatSize((await stat(out)).size)}: open it in Chrome DevTools or speedscope\n`);
      console.log(out);
    });
}

/** POST with node:http: fetch gives up on a body that takes more than 300 s to begin, as a long profile's does. */
async function post(url: URL, token: string | undefined, signal: AbortSignal): Promise<IncomingMessage> {
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const request = send(url, {
    method: 'POST',
    headers: token ? { authorization: `Bearer ${token}` } : {},
    signal,
  });
  request.end();
  const [response] = (await once(request, 'response', { signal })) as [IncomingMessage];
  return response;
}
