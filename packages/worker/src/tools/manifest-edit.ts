import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ToolVisibility } from '@switchyard/protocol';
import { checkFile, type FileCheck, fileSha512 } from './file-check.ts';
import {
  isManifestFilename,
  ManifestError,
  readManifest,
  type ToolManifest,
  type ToolManifestRecord,
  writeManifest,
} from './manifest.ts';

export interface AddOptions {
  visibility?: ToolVisibility;
  unpack?: boolean;
}

export interface AddResult {
  /** Records appended, in the order the files were given. */
  added: ToolManifestRecord[];
  /** Files the manifest already listed with the same content: left as they were. */
  unchanged: string[];
}

/**
 * tooltool's `add`: lists files in a manifest (made if missing) by name, size and sha512. A file
 * whose name the manifest already lists with other content is refused, and then nothing is
 * written; the same content again changes nothing.
 */
export async function addToManifest(
  manifestPath: string,
  files: string[],
  options: AddOptions = {},
): Promise<AddResult> {
  const manifest = await readOrCreate(manifestPath);
  const result: AddResult = { added: [], unchanged: [] };
  const problems: string[] = [];
  for (const file of files) {
    const filename = basename(file);
    const info = await stat(file).catch(() => null);
    if (!info?.isFile()) {
      problems.push(`${file}: no such file`);
      continue;
    }
    if (!isManifestFilename(filename)) {
      problems.push(`${file}: "${filename}" can't be a tooltool filename`);
      continue;
    }
    const record: ToolManifestRecord = {
      filename,
      size: info.size,
      digest: await fileSha512(file),
      algorithm: 'sha512',
      ...(options.unpack && { unpack: true }),
      ...(options.visibility && { visibility: options.visibility }),
    };
    const listed = manifest.records.find((existing) => existing.filename === filename);
    if (!listed) {
      manifest.records.push(record);
      result.added.push(record);
    } else if (listed.digest === record.digest && listed.size === record.size) {
      result.unchanged.push(filename);
    } else {
      problems.push(`${file}: the manifest already lists a different file named "${filename}"`);
    }
  }
  if (problems.length > 0) throw new ManifestError(manifestPath, problems);
  if (result.added.length > 0) await writeManifest(manifest);
  return result;
}

async function readOrCreate(path: string): Promise<ToolManifest> {
  const exists = await stat(path).then(
    () => true,
    () => false,
  );
  return exists ? readManifest(path) : { path, records: [], trailingNewline: false };
}

export interface FileValidation {
  filename: string;
  status: FileCheck;
}

/** tooltool's `validate`: is every listed file in `dir`, with its size and sha512? */
export async function validateManifest(
  manifestPath: string,
  dir: string,
): Promise<{ valid: boolean; files: FileValidation[] }> {
  const manifest = await readManifest(manifestPath);
  const files: FileValidation[] = [];
  for (const record of manifest.records) {
    files.push({ filename: record.filename, status: await checkFile(join(dir, record.filename), record) });
  }
  return { valid: files.every((file) => file.status === 'ok'), files };
}
