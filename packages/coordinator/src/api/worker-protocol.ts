import { ApiError, SWITCHYARD_VERSION, WORKER_PROTOCOL_HEADER, WORKER_PROTOCOL_VERSION } from '@switchyard/protocol';

/** What a claim without the header speaks: workers from before protocol versions (see version.ts). */
const PROTOCOL_WITHOUT_HEADER = 1;

const UPGRADES_GUIDE = 'docs/guide/upgrades.md';

/**
 * Whether a coordinator of protocol `current` takes a claim whose Switchyard-Protocol header is
 * `header`: it takes `current` and `current - 1`, so that a rolling upgrade (coordinators first,
 * then workers) never leaves a worker idle. The refusal says which protocols it takes and what to
 * upgrade; the worker logs it and asks again slowly.
 */
export function workerProtocolRefusal(
  header: string | string[] | undefined,
  current: number = WORKER_PROTOCOL_VERSION,
): ApiError | undefined {
  const sent =
    header === undefined
      ? PROTOCOL_WITHOUT_HEADER
      : typeof header === 'string' && /^(0|[1-9][0-9]{0,8})$/.test(header)
        ? Number(header)
        : undefined;
  if (sent === undefined) {
    return new ApiError('invalid-request', `the ${WORKER_PROTOCOL_HEADER} header must be one whole number`, {
      header,
    });
  }
  const accepted = [current - 1, current];
  const details = { workerProtocol: sent, accepted };
  const coordinator = `this coordinator (Switchyard ${SWITCHYARD_VERSION}) takes worker protocols ${accepted.join(' and ')}`;
  if (sent < current - 1) {
    return new ApiError(
      'worker-too-old',
      `this worker speaks worker protocol ${sent}; ${coordinator}: upgrade the worker (${UPGRADES_GUIDE})`,
      details,
    );
  }
  if (sent > current) {
    return new ApiError(
      'worker-too-new',
      `this worker speaks worker protocol ${sent}, newer than ${coordinator}: upgrade the coordinators before the workers (${UPGRADES_GUIDE})`,
      details,
    );
  }
  return undefined;
}
