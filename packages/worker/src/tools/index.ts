export { type FileCheck, fileSha512 } from './file-check.ts';
export {
  formatManifest,
  ManifestError,
  parseManifest,
  readManifest,
  type ToolManifest,
  type ToolManifestRecord,
  writeManifest,
} from './manifest.ts';
export { type AddResult, addToManifest, type FileValidation, validateManifest } from './manifest-edit.ts';
export { type PurgeResult, ToolCache } from './tool-cache.ts';
export {
  type FetchedTool,
  type FetchToolsOptions,
  fetchTools,
  ToolFetchError,
  type ToolFetchReport,
  type ToolSource,
} from './tool-fetch.ts';
export { type ToolUploadReport, type UploadedTool, type UploadToolsOptions, uploadTools } from './tool-upload.ts';
