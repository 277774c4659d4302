/**
 * The signing benchmark: Mozilla's release in small (see signing-workload.ts), signed three ways
 * in one run, each on the same worker-thread count:
 * - cold: a new signer with an empty cache, through its HTTP API as jobs would call it, en-US
 *   first and then `--concurrency` locales at a time (Mozilla's order: installer, then MAR);
 * - warm: the signer restarted on the cache the cold run left;
 * - naive: no cache, every signable entry of every locale decompressed, signed and recompressed.
 * Against the floor: the unique work alone, in-process (see `floor`).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectCompression } from '../packages/signing/src/compression/compression.ts';
import { loadSignerConfig, type SignerConfig } from '../packages/signing/src/config/load-signer-config.ts';
import { isSignableEntry } from '../packages/signing/src/formats/signable-entry.ts';
import { readMar } from '../packages/signing/src/mar/mar-file.ts';
import { writeMar } from '../packages/signing/src/mar/write-mar.ts';
import { poolSetup } from '../packages/signing/src/pool/pool-setup.ts';
import { WorkerPool } from '../packages/signing/src/pool/worker-pool.ts';
import { createTestKeys, startTestSigner, TEST_KEY_IDS, type TestKeys } from '../packages/signing/src/testing/index.ts';
import { describeMachine } from './machine.ts';
import { numberOption } from './options.ts';
import { buildRelease, FIREFOX_XZ, type Release } from './signing-workload.ts';

const shape = {
  locales: numberOption('locales', 100),
  entries: numberOption('entries', 60),
  binaries: numberOption('binaries', 8),
  binaryKib: numberOption('binary-kib', 64),
  installerKib: numberOption('installer-kib', 64),
};
const concurrency = numberOption('concurrency', 4);
const workers = numberOption('workers', cpus().length);
const cores = cpus().length;

interface RunFigures {
  seconds: number;
  signatures: number;
  uploads: number;
}

const log = (line: string) => process.stderr.write(`${line}\n`);

async function signRelease(dir: string, keys: TestKeys, release: Release): Promise<RunFigures> {
  const signer = await startTestSigner({ dir, keys, workers, cacheMaxSize: '8GiB', maxUploadSize: '512MiB' });
  try {
    const installers = signer.client(['authenticode']);
    const mars = signer.client(['mar-contents']);
    let uploads = 0;
    const signLocale = async (index: number) => {
      const locale = release.locales[index];
      if (!locale) return;
      const installer = await installers.signFile('authenticode', TEST_KEY_IDS.authenticode, locale.installer);
      const mar = await mars.signFile('mar-contents', TEST_KEY_IDS.mar, locale.mar);
      uploads += Number(installer.uploaded) + Number(mar.uploaded);
    };
    const started = performance.now();
    await signLocale(0);
    let next = 1;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < release.locales.length) await signLocale(next++);
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const made = (await signer.signer.metrics.signatures.get()).values.reduce((sum, value) => sum + value.value, 0);
    return { seconds, signatures: made, uploads };
  } finally {
    await signer.close();
  }
}

/** The pieces the signer uses, without its cache, its HTTP API or its request deduplication. */
async function engines(config: SignerConfig) {
  const pool = new WorkerPool(workers, poolSetup(config.keys, join(config.cacheDir, 'scratch')));
  await pool.ready();
  return {
    pool,
    authenticode: (data: Buffer) => pool.runBytes({ kind: 'authenticode', keyId: TEST_KEY_IDS.authenticode, data }),
    signMar: (mar: Buffer) => pool.runBytes({ kind: 'sign-mar', keyId: TEST_KEY_IDS.mar, mar }),
  };
}

async function naive(config: SignerConfig, release: Release): Promise<RunFigures> {
  const { pool, authenticode, signMar } = await engines(config);
  let signatures = 0;
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let locale = release.locales[next++]; locale; locale = release.locales[next++]) {
        await authenticode(locale.installer);
        const mar = readMar(locale.mar);
        const entries = await Promise.all(
          mar.entries.map(async (entry) => {
            if (!isSignableEntry(entry.name)) return entry;
            const compression = detectCompression(entry.data);
            const plain = await pool.runBytes({ kind: 'decompress', compression, data: entry.data });
            const data = await pool.runBytes({ kind: 'compress', compression, data: await authenticode(plain) });
            signatures++;
            return { ...entry, data };
          }),
        );
        await signMar(writeMar(entries, mar.sections, []).bytes);
        signatures += 2;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await pool.close();
  return { seconds, signatures, uploads: 0 };
}

/**
 * The unique work and nothing else, in-process: each shared binary signed and recompressed once,
 * each installer and each MAR signed once. `parallel` gives it all to the threads at once and
 * takes the wall-clock time, under the same load as the cold run; `serial` times each piece alone
 * and divides the sum by the threads, a bound no schedule beats on an idle machine.
 */
async function floor(config: SignerConfig, release: Release, mode: 'parallel' | 'serial'): Promise<RunFigures> {
  const { pool, authenticode, signMar } = await engines(config);
  const pieces: (() => Promise<unknown>)[] = [
    ...release.binaries.map(
      (pe) => async () => pool.runBytes({ kind: 'compress', compression: FIREFOX_XZ, data: await authenticode(pe) }),
    ),
    ...release.locales.map((locale) => () => authenticode(locale.installer)),
    ...release.locales.map((locale) => () => signMar(locale.mar)),
  ];
  const started = performance.now();
  let busy = 0;
  if (mode === 'parallel') {
    await Promise.all(pieces.map((piece) => piece()));
  } else {
    for (const piece of pieces) {
      const pieceStarted = performance.now();
      await piece();
      busy += performance.now() - pieceStarted;
    }
  }
  const seconds = mode === 'parallel' ? (performance.now() - started) / 1000 : busy / 1000 / workers;
  await pool.close();
  return { seconds, signatures: pieces.length, uploads: 0 };
}

const dir = await mkdtemp(join(tmpdir(), 'switchyard-bench-signing-'));
try {
  log(`machine: ${describeMachine()}`);
  log(
    `release: ${shape.locales} locales × ${shape.entries} entries (${shape.binaries} shared binaries of ${shape.binaryKib} KiB, xz BCJ-x86 CRC64), an installer of ${shape.installerKib} KiB per locale; ${workers} signing threads, ${concurrency} locales at a time`,
  );
  const keys = await createTestKeys(join(dir, 'keys'));
  const built = performance.now();
  const release = await buildRelease(shape, (done) => {
    if (done % 25 === 0) log(`  built ${done}/${shape.locales} locales`);
  });
  log(
    `  built in ${((performance.now() - built) / 1000).toFixed(1)} s: ${(release.marBytes / 2 ** 20).toFixed(1)} MiB of MARs`,
  );

  const signerDir = join(dir, 'signer');
  await mkdir(signerDir);
  log('cold: empty cache…');
  const cold = await signRelease(signerDir, keys, release);
  log(`  ${cold.seconds.toFixed(1)} s`);
  log('warm: signer restarted on the same cache…');
  const warm = await signRelease(signerDir, keys, release);
  log(`  ${warm.seconds.toFixed(1)} s`);
  const config = await loadSignerConfig(join(signerDir, 'signer.yaml'), {
    SWITCHYARD_TEST_SIGNING_SECRET: 'x'.repeat(64),
  });
  log('naive: no cache, every signable entry of every locale…');
  const naiveRun = await naive(config, release);
  log(`  ${naiveRun.seconds.toFixed(1)} s`);
  log('floor: the unique work alone…');
  const floorRun = await floor(config, release, 'parallel');
  const boundRun = await floor(config, release, 'serial');
  log(
    `  ${floorRun.seconds.toFixed(1)} s on the threads at once, ${boundRun.seconds.toFixed(1)} s timed alone ÷ threads`,
  );

  const rows = [
    ['cold (empty cache)', cold],
    ['warm (restarted, same cache)', warm],
    ['naive (no cache)', naiveRun],
    ['floor (unique work, on the threads at once)', floorRun],
    ['floor bound (unique work timed alone ÷ threads)', boundRun],
  ] as const;
  console.log(`\n${describeMachine()}`);
  console.log(
    `${shape.locales} locales × ${shape.entries} entries, ${shape.binaries} shared binaries; ${workers} threads; ${concurrency} locales at a time\n`,
  );
  const files = 2 * shape.locales;
  console.log('| run | seconds | files/s | signatures made | signatures/s/core | bodies uploaded |');
  console.log('| --- | ------- | ------- | --------------- | ----------------- | --------------- |');
  for (const [name, run] of rows) {
    const rate = run.signatures / run.seconds / cores;
    const perSecond = name.startsWith('floor') ? '–' : (files / run.seconds).toFixed(1);
    const uploads = name.startsWith('cold') || name.startsWith('warm') ? `${run.uploads} of ${files}` : '–';
    console.log(
      `| ${name} | ${run.seconds.toFixed(2)} | ${perSecond} | ${run.signatures} | ${rate.toFixed(1)} | ${uploads} |`,
    );
  }
  console.log(
    `\ncold / floor: ${(cold.seconds / floorRun.seconds).toFixed(2)}× (bound: ${(cold.seconds / boundRun.seconds).toFixed(2)}×)   naive / cold: ${(naiveRun.seconds / cold.seconds).toFixed(1)}×   naive / warm: ${(naiveRun.seconds / warm.seconds).toFixed(1)}×`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
