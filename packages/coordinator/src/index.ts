export { type CopiedBlobs, copyBlobs } from './blobs/copy-blobs.ts';
export { openBlobStore } from './blobs/open-blob-store.ts';
export { blobsTarget } from './config/blobs-config.ts';
export { ConfigError, type ConfigProblem } from './config/config-error.ts';
export type { Builder, Farm } from './config/farm-config.ts';
export { loadConfigFile, parseConfig } from './config/load-config.ts';
export { type CoordinatorOptions, type RunningCoordinator, startCoordinator } from './coordinator.ts';
export { type CopiedTable, copyDatabase, TargetNotEmptyError } from './store/copy-database.ts';
export { isPostgresUrl } from './store/open-database.ts';
