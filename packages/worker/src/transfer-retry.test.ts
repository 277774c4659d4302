import { ApiRequestError } from '@switchyard/protocol';
import { describe, expect, it } from 'vitest';
import { BlobUnavailable, HttpStatusError, WrongContentError } from './artifact-download.ts';
import { transferStalled } from './artifact-upload.ts';
import {
  CoordinatorUnavailable,
  classifyTransferFailure,
  type TransferRetryOptions,
  withTransferRetries,
} from './transfer-retry.ts';

const systemError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:7420`), { code });

describe('classifyTransferFailure', () => {
  it.each([
    ['a refused connection', systemError('ECONNREFUSED')],
    ['a connection cut', systemError('ECONNRESET')],
    ['a body cut off', Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' })],
    ['fetch failing on a refused connection', new TypeError('fetch failed', { cause: systemError('ECONNREFUSED') })],
    ['503', new ApiRequestError(503, 'unavailable', 'restarting')],
    ['500', new HttpStatusError(500, 'http://coordinator/blob')],
    ['429', new ApiRequestError(429, 'too-many-requests', 'later')],
  ])('puts %s down to the coordinator', (_what, error) => {
    expect(classifyTransferFailure(error)).toBe('coordinator');
  });

  it.each([
    ['a stalled transfer', transferStalled()],
    ['an unreachable host', systemError('EHOSTUNREACH')],
    ['a name that does not resolve', systemError('ENOTFOUND')],
  ])('puts %s down to the network', (_what, error) => {
    expect(classifyTransferFailure(error)).toBe('network');
  });

  it.each([
    ['a 409 lease-lost', new ApiRequestError(409, 'lease-lost', 'gone')],
    ['a 404', new HttpStatusError(404, 'http://coordinator/blob')],
    ['content with another digest', new WrongContentError('got 3 bytes')],
    ['a full disk here', systemError('ENOSPC')],
  ])('takes %s as final', (_what, error) => {
    expect(classifyTransferFailure(error)).toBe('final');
  });

  it("judges a download that no source delivered by the origin's failure, the last", () => {
    const refused = new BlobUnavailable('the cache: 404; the coordinator: refused', {
      cause: systemError('ECONNREFUSED'),
    });
    expect(classifyTransferFailure(refused)).toBe('coordinator');
    const gone = new BlobUnavailable('the coordinator: 404', { cause: new HttpStatusError(404, 'http://c/blob') });
    expect(classifyTransferFailure(gone)).toBe('final');
  });
});

describe('withTransferRetries', () => {
  const options = (overrides: Partial<TransferRetryOptions> = {}) => {
    const lines: string[] = [];
    const settings: TransferRetryOptions = {
      what: 'uploading app.tar.gz',
      patienceMs: 60_000,
      signal: new AbortController().signal,
      log: (line) => lines.push(line),
      initialDelayMs: 2,
      ...overrides,
    };
    return { settings, lines };
  };

  /** Fails with each error in turn, then answers. */
  const failing = (...errors: Error[]) => {
    let tries = 0;
    const attempt = async () => {
      const error = errors[tries];
      tries += 1;
      if (error) throw error;
      return 'stored';
    };
    return { attempt, tries: () => tries };
  };

  it('tries again through an outage, however many tries it takes, logging each', async () => {
    const outage = Array.from({ length: 8 }, (_, i) =>
      i % 2 ? systemError('ECONNREFUSED') : new ApiRequestError(503, 'unavailable', 'starting'),
    );
    const { attempt, tries } = failing(...outage);
    const { settings, lines } = options();
    await expect(withTransferRetries(settings, attempt)).resolves.toBe('stored');
    expect(tries()).toBe(9);
    expect(lines).toHaveLength(8);
    expect(lines[1]).toMatch(/^uploading app\.tar\.gz failed \(connect ECONNREFUSED .*\); trying again in \d+\.\d s$/);
  });

  it('gives a final failure up at once', async () => {
    const { attempt, tries } = failing(new ApiRequestError(409, 'lease-lost', 'gone'));
    await expect(withTransferRetries(options().settings, attempt)).rejects.toMatchObject({ code: 'lease-lost' });
    expect(tries()).toBe(1);
  });

  it("gives up once failing for longer than its patience: CoordinatorUnavailable when it was the coordinator's", async () => {
    const refused = failing(...Array.from({ length: 1000 }, () => systemError('ECONNREFUSED')));
    const error = await withTransferRetries(options({ patienceMs: 30 }).settings, refused.attempt).catch((e) => e);
    expect(error).toBeInstanceOf(CoordinatorUnavailable);
    expect(error.message).toMatch(/^uploading app\.tar\.gz failed for \d+ s: connect ECONNREFUSED/);

    const unreachable = failing(...Array.from({ length: 1000 }, () => systemError('EHOSTUNREACH')));
    const other = await withTransferRetries(options({ patienceMs: 30 }).settings, unreachable.attempt).catch((e) => e);
    expect(other).not.toBeInstanceOf(CoordinatorUnavailable);
    expect(other.message).toMatch(/^uploading app\.tar\.gz failed for \d+ s: connect EHOSTUNREACH/);
  });

  it('stops when its signal aborts (the fence, a cancel), with the reason', async () => {
    const abort = new AbortController();
    const cancel = () => abort.abort(new Error('the job was cancelled'));
    const { settings } = options({ signal: abort.signal, initialDelayMs: 60_000, log: cancel });
    const running = withTransferRetries(settings, async () => {
      throw systemError('ECONNREFUSED');
    });
    await expect(running).rejects.toThrow('the job was cancelled');
  });
});
