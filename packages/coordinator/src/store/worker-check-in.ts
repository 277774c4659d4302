import type { ClaimRequest } from '@switchyard/protocol';
import type { RawBuilder } from 'kysely';
import { StoreError } from './errors.ts';
import type { WorkerRow } from './mappers.ts';
import type { ClaimAfterReport } from './port.ts';

/** What a check-in records on its worker's row, seen at `now`. */
export function workerValues(request: ClaimRequest, credential: string | null, now: number | RawBuilder<number>) {
  const warm = (request.warm ?? []).map((w) => ({ ...w, at: Date.parse(w.at) }));
  return {
    ...(credential !== null && { credential }),
    pool: request.pool,
    tags: JSON.stringify(request.tags ?? {}),
    version: request.version ?? null,
    instance: request.instance ?? null,
    online: 1,
    last_seen: now,
    warm: JSON.stringify(warm),
  };
}

/** Whether a worker bound to `bound` may act with `credential` (nothing is checked without auth or before the first claim binds it). */
export function credentialMayAct(bound: string | null, credential: string | null): boolean {
  return credential === null || bound === null || bound === credential;
}

/** Only the credential a worker was bound to by its first claim may act for it. */
export function checkCredential(worker: { name: string; credential: string | null }, credential: string | null): void {
  if (credentialMayAct(worker.credential, credential)) return;
  throw new StoreError(
    'forbidden',
    `worker ${worker.name} is bound to the token "${worker.credential}"; token "${credential}" may not act for it ` +
      `(give each machine its own token; an admin can release the binding: DELETE /api/v1/workers/${worker.name}/credential)`,
    { worker: worker.name },
  );
}

/**
 * Whether the claim sent with the reports that end `attemptId` checks its worker in with that
 * end: the usual check-in, of a worker known, online and freed by this end, with a credential
 * that may act for it. Anything else (a restart, a clash of names, a worker marked offline
 * meanwhile, a refused credential) is the full check-in's to settle (Store.checkIn).
 */
export function checkInFoldsIntoEnd(claim: ClaimAfterReport, worker: WorkerRow, attemptId: number): boolean {
  return (
    claim.workerName === worker.name &&
    worker.online === 1 &&
    worker.current_attempt === attemptId &&
    credentialMayAct(worker.credential, claim.credential)
  );
}
