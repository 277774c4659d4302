export { buildMar, type MarInput } from './mar-builder.ts';
export { makePeFile } from './pe-file.ts';
export {
  startTestSigner,
  TEST_KEY_IDS,
  type TestSigner,
  type TestSignerOptions,
  writeTestSignerConfig,
} from './signer-fixture.ts';
export { createTestKeys, type TestKeys } from './test-keys.ts';
