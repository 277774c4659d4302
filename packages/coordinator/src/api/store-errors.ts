import { ApiError, type ErrorCode } from '@switchyard/protocol';
import type { StoreError, StoreErrorKind } from '../store/errors.ts';

const CODE: Record<StoreErrorKind, ErrorCode> = {
  'not-found': 'not-found',
  conflict: 'conflict',
  'lease-lost': 'lease-lost',
  'name-in-use': 'name-in-use',
  'invalid-input': 'invalid-request',
  'log-sequence-gap': 'log-sequence-gap',
};

/** The HTTP answer for a store's refusal: the only place where domain errors meet status codes. */
export function apiErrorOf(error: StoreError): ApiError {
  return new ApiError(CODE[error.kind], error.message, error.details);
}
