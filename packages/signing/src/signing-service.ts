/**
 * @module
 * What the signer does, without HTTP: which key may sign what, the cache in front of every
 * format, and the formats themselves. Every whole-file request goes through one cache key
 * (input digest + format + key + engines), and a request for a key already being computed
 * joins that computation instead of signing twice.
 *
 * `mar-contents` follows Mozilla's 2009 rules, per signable entry (`.exe`/`.dll`):
 * 1. look the entry's *compressed* bytes up (with the compressor's identity and settings);
 * 2. on a miss, decompress it and look the decompressed bytes up as an `authenticode` input
 *    (an installer signed earlier with the same key has put them there);
 * 3. on a miss, sign them; then recompress as the MAR had them and remember both.
 * Entries that need no signing are copied as they are, never decompressed.
 */
import { createHash } from 'node:crypto';
import { ApiError } from '@switchyard/protocol';
import { cacheKey } from './cache/cache-key.ts';
import type { CacheEntry, SignedCache } from './cache/signed-cache.ts';
import { SingleFlight } from './cache/single-flight.ts';
import { codecIdentity } from './compression/codecs.ts';
import { CompressionError, describeCompression, detectCompression } from './compression/compression.ts';
import type { EngineVersions } from './formats/engines.ts';
import type { FileFormatName, FormatName } from './formats/format-names.ts';
import { isSignableEntry } from './formats/signable-entry.ts';
import type { SigningKey } from './keys/signing-key.ts';
import { type MarEntry, MarFormatError, readMar } from './mar/mar-file.ts';
import { writeMar } from './mar/write-mar.ts';
import type { DigestAlgorithm } from './pool/pool-tasks.ts';
import { TaskInputError } from './pool/task-input-error.ts';
import type { WorkerPool } from './pool/worker-pool.ts';
import type { SignerMetrics } from './server/signer-metrics.ts';

export type CacheOutcome = 'hit' | 'miss' | 'joined';

/** What `mar-contents` did with the entries of one MAR. */
export interface EntryCounts {
  /** Signed now: decompressed, signed, recompressed. */
  signed: number;
  /** Found by their compressed bytes (or being signed for another MAR at that moment): neither decompressed nor signed. */
  compressedHits: number;
  /** Found by their decompressed bytes: decompressed and recompressed, not signed. */
  decompressedHits: number;
  /** Need no signing: copied, never decompressed. */
  copied: number;
}

export interface SignOutcome {
  output: CacheEntry;
  cache: CacheOutcome;
  entries?: EntryCounts;
}

export interface SigningServiceOptions {
  keys: Map<string, SigningKey>;
  cache: SignedCache;
  pool: WorkerPool;
  engines: EngineVersions;
  metrics: SignerMetrics;
}

const DIGEST_BYTES: Record<DigestAlgorithm, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

export class SigningService {
  private readonly whole = new SingleFlight<{ output: CacheEntry; hit: boolean; entries?: EntryCounts }>();
  private readonly perEntry = new SingleFlight<{ bytes: Buffer; via: 'compressed' | 'decompressed' | 'signed' }>();
  private readonly authenticode = new SingleFlight<{ bytes: Buffer; hit: boolean }>();
  constructor(private readonly options: SigningServiceOptions) {}

  get keys(): Map<string, SigningKey> {
    return this.options.keys;
  }

  /** The key `keyId` if it may sign `format`; a 404 or 403 that says which otherwise. */
  keyFor(format: FormatName, keyId: string): SigningKey {
    const key = this.options.keys.get(keyId);
    if (!key) throw new ApiError('not-found', `this signer has no key "${keyId}"`);
    if (!key.formats.has(format)) {
      throw new ApiError(
        'forbidden',
        `key "${keyId}" is not allowed for ${format} (it signs ${[...key.formats].join(', ')})`,
      );
    }
    return key;
  }

  /** The cached output for this input, if any and intact: answers the digest-first lookup. */
  lookup(format: FileFormatName, key: SigningKey, inputSha256: string): Promise<CacheEntry | null> {
    return this.options.cache.find(this.wholeKey(format, key, inputSha256));
  }

  async sign(
    format: FileFormatName,
    key: SigningKey,
    inputSha256: string,
    input: () => Promise<Buffer>,
  ): Promise<SignOutcome> {
    const { metrics } = this.options;
    const stop = metrics.durations.startTimer({ format });
    metrics.inFlight.inc();
    try {
      const cacheKeyOfInput = this.wholeKey(format, key, inputSha256);
      const attempt = () =>
        this.whole.run(cacheKeyOfInput, async () => {
          const cached = await this.options.cache.get(cacheKeyOfInput);
          if (cached) return { output: cached.entry, hit: true };
          const produced = await this.produce(format, key, await input());
          const output = await this.options.cache.put(cacheKeyOfInput, produced.bytes);
          metrics.cacheBytes.set(this.options.cache.stats.bytes);
          return { output, hit: false, entries: produced.entries };
        });
      let flight = attempt();
      // A request that joined another one's signing must not inherit that one's failure (its body
      // may have been the wrong one): it tries again, with its own body if it comes to that.
      if (flight.joined) flight = await flight.result.then(() => flight, attempt);
      const { output, hit, entries } = await flight.result;
      const joined = flight.joined;
      const cache: CacheOutcome = joined ? 'joined' : hit ? 'hit' : 'miss';
      metrics.cacheLookups.inc({ format, result: cache });
      return { output, cache, ...(entries && !joined ? { entries } : {}) };
    } catch (error) {
      throw asInputError(error);
    } finally {
      metrics.inFlight.dec();
      stop();
    }
  }

  /** A signature over a digest computed by the caller (autograph's /sign/hash): RSA PKCS#1 v1.5. */
  async signDigest(key: SigningKey, hash: DigestAlgorithm, digestHex: string): Promise<Buffer> {
    const digest = Buffer.from(digestHex, 'hex');
    if (digest.length !== DIGEST_BYTES[hash] || digest.toString('hex') !== digestHex.toLowerCase()) {
      throw new ApiError(
        'invalid-request',
        `a ${hash} digest is ${DIGEST_BYTES[hash]} bytes (${DIGEST_BYTES[hash] * 2} hex digits)`,
      );
    }
    const stop = this.options.metrics.durations.startTimer({ format: 'hash' });
    try {
      const signature = await this.options.pool.runBytes({ kind: 'sign-digest', keyId: key.id, hash, digest });
      this.options.metrics.signatures.inc({ format: 'hash', key: key.id });
      return signature;
    } finally {
      stop();
    }
  }

  /** An output by its own digest, checked against it. */
  output(sha256: string): Promise<Buffer | null> {
    return this.options.cache.getOutput(sha256);
  }

  private wholeKey(format: FileFormatName, key: SigningKey, inputSha256: string): string {
    const { engines } = this.options;
    const parts: Record<string, string | number> = {
      format,
      input: inputSha256,
      key: key.id,
      fingerprint: key.fingerprint,
    };
    if (format === 'mar' || format === 'mar-contents')
      Object.assign(parts, { mar: key.marAlgorithm ?? 0, crypto: engines.crypto });
    if (format === 'gpg') parts.openpgp = engines.openpgp;
    if (format === 'authenticode') Object.assign(parts, this.authenticodeIdentity(key));
    if (format === 'mar-contents') {
      const contents = this.contentsKeyOf(key);
      Object.assign(parts, {
        contentsKey: contents.id,
        contents: JSON.stringify(this.authenticodeIdentity(contents)),
        xz: codecIdentity({ kind: 'xz', x86: true, check: 4, preset: 6 }),
        bz2: codecIdentity({ kind: 'bz2', level: 9 }),
      });
    }
    return cacheKey(parts);
  }

  private authenticodeIdentity(key: SigningKey) {
    return {
      osslsigncode: this.options.engines.osslsigncode,
      digest: 'sha256',
      timestamp: key.timestampUrl ?? 'none',
      certificates: key.certificates ?? '',
    };
  }

  private contentsKeyOf(key: SigningKey): SigningKey {
    const contents = key.contentsKey ? this.options.keys.get(key.contentsKey) : undefined;
    if (!contents) throw new Error(`key "${key.id}" has no contents key`);
    return contents;
  }

  private async produce(
    format: FileFormatName,
    key: SigningKey,
    input: Buffer,
  ): Promise<{ bytes: Buffer; entries?: EntryCounts }> {
    const { pool, metrics } = this.options;
    switch (format) {
      case 'mar': {
        const bytes = await pool.runBytes({ kind: 'sign-mar', keyId: key.id, mar: input });
        metrics.signatures.inc({ format, key: key.id });
        return { bytes };
      }
      case 'gpg': {
        const signature = (await pool.run({ kind: 'gpg', keyId: key.id, data: input })) as string;
        metrics.signatures.inc({ format, key: key.id });
        return { bytes: Buffer.from(signature) };
      }
      case 'authenticode':
        return { bytes: await this.signPe(key, input, sha256(input)).then((signed) => signed.bytes) };
      case 'mar-contents':
        return this.signMarContents(key, input);
    }
  }

  private async signMarContents(key: SigningKey, input: Buffer): Promise<{ bytes: Buffer; entries: EntryCounts }> {
    const mar = readMar(input);
    const contentsKey = this.contentsKeyOf(key);
    const counts: EntryCounts = { signed: 0, compressedHits: 0, decompressedHits: 0, copied: 0 };
    const entries = await Promise.all(
      mar.entries.map(async (entry): Promise<MarEntry> => {
        if (!isSignableEntry(entry.name)) {
          counts.copied++;
          this.options.metrics.entryLookups.inc({ result: 'copied' });
          return entry;
        }
        const { bytes, via } = await this.signEntry(contentsKey, entry);
        const result = via === 'compressed' ? 'compressed-hit' : via === 'decompressed' ? 'decompressed-hit' : 'signed';
        this.options.metrics.entryLookups.inc({ result });
        if (via === 'compressed') counts.compressedHits++;
        else if (via === 'decompressed') counts.decompressedHits++;
        else counts.signed++;
        return { ...entry, data: bytes };
      }),
    );
    const unsigned = writeMar(entries, mar.sections, []).bytes;
    const bytes = await this.options.pool.runBytes({ kind: 'sign-mar', keyId: key.id, mar: unsigned });
    this.options.metrics.signatures.inc({ format: 'mar-contents', key: key.id });
    return { bytes, entries: counts };
  }

  private signEntry(contentsKey: SigningKey, entry: MarEntry) {
    let compression: ReturnType<typeof detectCompression>;
    try {
      compression = detectCompression(entry.data);
    } catch (error) {
      throw new TaskInputError(`entry "${entry.name}": ${(error as Error).message}`);
    }
    const entryKey = cacheKey({
      format: 'mar-contents-entry',
      input: sha256(entry.data),
      compression: describeCompression(compression),
      codec: codecIdentity(compression),
      key: contentsKey.id,
      fingerprint: contentsKey.fingerprint,
      ...this.authenticodeIdentity(contentsKey),
    });
    const flight = this.perEntry.run(entryKey, async () => {
      const cached = await this.options.cache.get(entryKey);
      if (cached) return { bytes: cached.bytes, via: 'compressed' as const };
      const { pool, metrics } = this.options;
      this.options.metrics.decompressions.inc();
      const plain = await pool.runBytes({ kind: 'decompress', compression, data: entry.data }).catch((error: Error) => {
        throw new TaskInputError(`entry "${entry.name}" does not decompress: ${error.message}`);
      });
      const signed = await this.signPe(contentsKey, plain, sha256(plain), entry.name);
      const bytes = await pool.runBytes({ kind: 'compress', compression, data: signed.bytes });
      await this.options.cache.put(entryKey, bytes);
      metrics.cacheBytes.set(this.options.cache.stats.bytes);
      return { bytes, via: signed.hit ? ('decompressed' as const) : ('signed' as const) };
    });
    // Another MAR is signing the same entry right now: for this one it is found by its compressed bytes.
    return flight.joined ? flight.result.then(({ bytes }) => ({ bytes, via: 'compressed' as const })) : flight.result;
  }

  /** Authenticode over a PE, cached under the same key as an `authenticode` request for the same bytes. */
  private signPe(key: SigningKey, input: Buffer, inputSha256: string, entryName?: string) {
    const peKey = this.wholeKey('authenticode', key, inputSha256);
    const flight = this.authenticode.run(peKey, async () => {
      const cached = await this.options.cache.get(peKey);
      if (cached) return { bytes: cached.bytes, hit: true };
      const bytes = await this.options.pool
        .runBytes({ kind: 'authenticode', keyId: key.id, data: input })
        .catch((error: Error) => {
          throw error instanceof TaskInputError && entryName
            ? new TaskInputError(`entry "${entryName}": ${error.message}`)
            : error;
        });
      this.options.metrics.signatures.inc({ format: 'authenticode', key: key.id });
      await this.options.cache.put(peKey, bytes);
      return { bytes, hit: false };
    });
    return flight.joined ? flight.result.then(({ bytes }) => ({ bytes, hit: true })) : flight.result;
  }
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Problems with the input itself become 400s that say what is wrong with it. */
function asInputError(error: unknown): unknown {
  if (error instanceof MarFormatError || error instanceof TaskInputError || error instanceof CompressionError) {
    return new ApiError('invalid-request', error.message);
  }
  return error;
}
