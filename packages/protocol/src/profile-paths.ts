// Apart from the query schema in profiling.ts, so that `switchyard profile` loads no TypeBox at start-up.

/**
 * Where the coordinator, the proxy and the signer answer `switchyard profile`: the same paths on
 * all three, so one command profiles any of them. The proxy's own paths start with `_`, which no
 * upstream name can.
 */
export const PROFILE_PATHS = { cpu: '/_profile/cpu', heap: '/_profile/heap' } as const;
export type ProfileKind = keyof typeof PROFILE_PATHS;

/** How long a CPU profile may run: long enough to catch a slow phase, short enough to forget one. */
export const PROFILE_SECONDS = { min: 1, max: 300, default: 30 } as const;

/** The file extensions Chrome DevTools and speedscope recognise. */
export const PROFILE_EXTENSIONS = { cpu: '.cpuprofile', heap: '.heapsnapshot' } as const;
