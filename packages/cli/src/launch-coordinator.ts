import { createServer } from 'node:net';
import type { CoordinatorOptions } from '@switchyard/coordinator';
import { DEFAULT_SERVER } from '@switchyard/protocol';
import { CliError, isAddressInUse } from './errors.ts';

export const DEFAULT_PORT = Number(new URL(DEFAULT_SERVER).port);

interface ListenAddress {
  port: number;
  host: string;
}

/**
 * Starts a coordinator in this process. The coordinator package (Fastify, SQLite) is loaded only
 * here, so the client commands start quickly.
 */
export async function launchCoordinator(options: CoordinatorOptions & ListenAddress) {
  const { startCoordinator } = await import('@switchyard/coordinator');
  try {
    return await startCoordinator(options);
  } catch (error) {
    if (isAddressInUse(error)) throw portInUse(options);
    throw error;
  }
}

/** Fails early, before any work, when the port is taken (often by a server that is still running). */
export async function assertPortFree(address: ListenAddress): Promise<void> {
  if (address.port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', (error) => reject(isAddressInUse(error) ? portInUse(address) : error));
    probe.listen({ ...address, exclusive: true }, () => probe.close(() => resolve()));
  });
}

function portInUse({ port, host }: ListenAddress): CliError {
  return new CliError(`port ${port} on ${host} is already in use (another switchyard?): choose another with --port`);
}
