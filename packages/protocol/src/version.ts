/** The version every Switchyard process reports; kept equal to the root package.json's. */
export const SWITCHYARD_VERSION = '0.1.0';

/**
 * The worker protocol's version, apart from the package's: it counts changes to what a worker
 * and a coordinator say to each other, and is bumped when a coordinator would misunderstand or
 * refuse what the workers of the version before send. A coordinator of protocol N takes claims
 * from workers of N and N - 1 and refuses the rest with `worker-too-old` or `worker-too-new`, so
 * a farm upgrades its coordinators first, then its workers (docs/guide/upgrades.md).
 *
 * 2: workers send their protocol in the `Switchyard-Protocol` header.
 * 1: workers from before protocol versions, which send no header.
 */
export const WORKER_PROTOCOL_VERSION = 2;

/** The header a worker sends its protocol version in; a claim without it is of protocol 1. */
export const WORKER_PROTOCOL_HEADER = 'switchyard-protocol';
