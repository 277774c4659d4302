/**
 * @module
 * The profile endpoints as the coordinator, the proxy and the signer all answer them, over a
 * plain `ServerResponse` (Fastify routes hand over `reply.raw`). The caller checks who asks;
 * this checks what is asked, reserves the profiler, and streams the file.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ApiError, PROFILE_EXTENSIONS, PROFILE_SECONDS, type ProfileKind } from '@switchyard/protocol';
import { cpuProfileJson, ProfilerBusyError, reserveProfiler, takeCpuProfile, takeHeapSnapshot } from './profiler.ts';

export interface ProfileRequest {
  kind: ProfileKind;
  /** For a CPU profile: how long to sample (checked by the caller's schema or `cpuProfileSeconds`). */
  seconds: number;
  /** Which server this is, for the file name: coordinator, proxy or signer. */
  service: string;
  /** Where a heap snapshot is written on its way out (a real disk: the data or cache directory). */
  scratchDir: string;
}

/**
 * Reserves the profiler for one request, before anything is written: a profile already being
 * taken is a 409 the caller answers as it answers any ApiError. Then `send` takes the capture
 * and streams it; it never throws (a failure once the answer has begun cuts the connection).
 */
export function reserveProfile(request: ProfileRequest): {
  send(res: ServerResponse, stop?: AbortSignal): Promise<void>;
} {
  let release: () => void;
  try {
    release = reserveProfiler(request.kind === 'cpu' ? 'CPU profile' : 'heap snapshot');
  } catch (error) {
    if (error instanceof ProfilerBusyError) throw new ApiError('conflict', error.message, { taking: error.taking });
    throw error;
  }
  return {
    async send(res, stop) {
      // A client that leaves, or a server that stops, ends the capture early.
      const abort = new AbortController();
      const gone = () => abort.abort();
      res.once('close', gone);
      stop?.addEventListener('abort', gone);
      try {
        await sendCapture(res, request, abort.signal);
      } catch {
        res.destroy();
      } finally {
        res.off('close', gone);
        stop?.removeEventListener('abort', gone);
        release();
      }
    },
  };
}

async function sendCapture(res: ServerResponse, request: ProfileRequest, signal: AbortSignal): Promise<void> {
  const headers = {
    'content-type': 'application/json',
    'content-disposition': `attachment; filename="${profileFileName(request.service, request.kind, new Date())}"`,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  };
  if (request.kind === 'heap') {
    const snapshot = await takeHeapSnapshot(request.scratchDir);
    res.writeHead(200, { ...headers, 'content-length': snapshot.size });
    await pipeline(snapshot.body, res, { signal });
    return;
  }
  // The answer begins now, so the client knows the profiler runs: the body follows when it stops.
  res.writeHead(200, headers);
  res.flushHeaders();
  const profile = await takeCpuProfile(request.seconds, signal);
  if (profile === null) {
    res.destroy();
    return;
  }
  await pipeline(Readable.from(cpuProfileJson(profile), { objectMode: false }), res, { signal });
}

/** e.g. `switchyard-coordinator-20250301T101500Z.cpuprofile`: sortable, and what DevTools expects. */
export function profileFileName(service: string, kind: ProfileKind, at: Date): string {
  const stamp = at
    .toISOString()
    .replace(/\.\d+Z$/, 'Z')
    .replace(/[-:]/g, '');
  return `switchyard-${service}-${stamp}${PROFILE_EXTENSIONS[kind]}`;
}

/**
 * The `seconds` of a CPU profile request from its query, for a server without a schema
 * validator (the proxy): plain decimal digits within PROFILE_SECONDS, else a 400.
 */
export function cpuProfileSeconds(query: URLSearchParams): number {
  for (const name of query.keys()) {
    if (name !== 'seconds') throw new ApiError('invalid-request', `unknown query parameter "${name}": only seconds`);
  }
  const raw = query.get('seconds');
  if (raw === null) return PROFILE_SECONDS.default;
  const seconds = /^[0-9]{1,4}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(seconds >= PROFILE_SECONDS.min && seconds <= PROFILE_SECONDS.max)) {
    throw new ApiError(
      'invalid-request',
      `querystring.seconds: expected a whole number of seconds from ${PROFILE_SECONDS.min} to ${PROFILE_SECONDS.max}, got "${raw}"`,
    );
  }
  return seconds;
}

/**
 * The admin check of the proxy and the signer, which have no farm tokens: the bearer must be
 * the configured admin token (compared by digest, in constant time). Without one configured,
 * nobody may profile.
 */
export function checkAdminToken(authorization: string | undefined, adminTokenSha256: Buffer | null): void {
  if (adminTokenSha256 === null) {
    throw new ApiError('forbidden', 'profiling is off: this server was started without an admin token');
  }
  const match = /^Bearer\s+(\S+)$/i.exec(authorization ?? '');
  if (!match) throw new ApiError('unauthenticated', 'send the admin token as Authorization: Bearer …');
  const digest = createHash('sha256')
    .update(match[1] as string)
    .digest();
  if (!timingSafeEqual(digest, adminTokenSha256)) throw new ApiError('forbidden', 'not the admin token');
}
