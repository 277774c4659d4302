import { ApiError, type ErrorCode } from '@switchyard/protocol';
import { diskFullOf, StoreError, type StoreErrorKind, unavailableOf } from '../store/errors.ts';

const CODE: Record<StoreErrorKind, ErrorCode> = {
  'not-found': 'not-found',
  conflict: 'conflict',
  'lease-lost': 'lease-lost',
  'name-in-use': 'name-in-use',
  forbidden: 'forbidden',
  'invalid-input': 'invalid-request',
  'log-sequence-gap': 'log-sequence-gap',
  'disk-full': 'disk-full',
  'singleton-lost': 'conflict',
  unavailable: 'database-unavailable',
};

/** The HTTP answer for a store's refusal: the only place where domain errors meet status codes. */
export function apiErrorOf(error: StoreError): ApiError {
  return new ApiError(CODE[error.kind], error.message, error.details);
}

/**
 * The store error a failure amounts to: a store's refusal, a full disk under the blob and log
 * files, which the services meet without the store, or a database out of reach; null for
 * anything else (a 500).
 */
export function storeErrorOf(error: unknown): StoreError | null {
  return error instanceof StoreError ? error : (diskFullOf(error) ?? unavailableOf(error));
}
