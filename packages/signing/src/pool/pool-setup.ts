import type { SigningKey } from '../keys/signing-key.ts';
import type { PoolSetup } from './pool-tasks.ts';

/** What the worker threads need to know of the keys: how to open them, never the keys themselves. */
export function poolSetup(keys: Map<string, SigningKey>, scratchDir: string): PoolSetup {
  return {
    scratchDir,
    keys: Object.fromEntries(
      [...keys.values()].map((key) => [
        key.id,
        {
          material: key.material,
          marAlgorithm: key.marAlgorithm,
          certificates: key.certificates,
          timestampUrl: key.timestampUrl,
        },
      ]),
    ),
  };
}
