import { ApiRequestError } from '@switchyard/protocol';
import { describe, expect, test } from 'vitest';
import { CliError, describeFailure, isAddressInUse } from './errors.ts';

const server = 'http://127.0.0.1:7420';

function systemError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`connect ${code}`), { code });
}

describe('describeFailure', () => {
  test('an API error shows the message, the status and the code', () => {
    const error = new ApiRequestError(404, 'not-found', 'job 999 does not exist');
    expect(describeFailure(error, server)).toBe('error: job 999 does not exist (HTTP 404 not-found)');
  });

  test('a refused connection, as fetch reports it, says which coordinator could not be reached', () => {
    const error = new TypeError('fetch failed', { cause: systemError('ECONNREFUSED') });
    expect(describeFailure(error, server)).toBe(
      'error: cannot reach the coordinator at http://127.0.0.1:7420 (is `switchyard server` running?)',
    );
  });

  test('also when the refusal is one of several addresses tried', () => {
    const cause = new AggregateError([systemError('ECONNREFUSED'), systemError('ECONNREFUSED')], 'connect failed');
    expect(describeFailure(new TypeError('fetch failed', { cause }), server)).toMatch(/cannot reach the coordinator/);
  });

  test('another network failure gives its reason', () => {
    const error = new TypeError('fetch failed', { cause: new Error('bad port') });
    expect(describeFailure(error, 'http://127.0.0.1:1')).toBe(
      'error: request to the coordinator at http://127.0.0.1:1 failed: bad port',
    );
  });

  test('anything else is its message on one line', () => {
    expect(describeFailure(new CliError('not inside a git checkout'), server)).toBe('error: not inside a git checkout');
    expect(describeFailure('thrown text', server)).toBe('error: thrown text');
  });
});

describe('isAddressInUse', () => {
  test('finds EADDRINUSE on the error or its cause', () => {
    expect(isAddressInUse(systemError('EADDRINUSE'))).toBe(true);
    expect(isAddressInUse(new Error('port busy', { cause: systemError('EADDRINUSE') }))).toBe(true);
    expect(isAddressInUse(systemError('EACCES'))).toBe(false);
  });
});
