import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ArtifactSpec } from '@switchyard/protocol';
import { glob, isDynamicPattern } from 'tinyglobby';

/** A file to upload, and the name it is stored under. */
export interface ArtifactFile {
  name: string;
  /** Relative to the directory the steps ran in, as the log shows it. */
  path: string;
  file: string;
  size: number;
}

export interface ArtifactSelection {
  files: ArtifactFile[];
  /** Declared artifacts left out because they are optional and missing. */
  skipped: string[];
  /** Why the job fails instead: required artifacts missing, or names given twice. */
  problems: string[];
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,199}$/;

/**
 * Finds the files a builder's `artifacts:` declare, in the directory its steps ran in. A glob
 * uploads every file it matches under the file's name (or under `name`, when it matches exactly
 * one); a path names one file. Whatever is missing and not optional is a problem for the job.
 */
export async function selectArtifactFiles(specs: ArtifactSpec[], directory: string): Promise<ArtifactSelection> {
  const selection: ArtifactSelection = { files: [], skipped: [], problems: [] };
  const byName = new Map<string, string>();
  for (const spec of specs) {
    const paths = isDynamicPattern(spec.path)
      ? (await glob(spec.path, { cwd: directory, onlyFiles: true, dot: true, expandDirectories: false })).sort()
      : (await isFile(join(directory, spec.path)))
        ? [spec.path]
        : [];
    if (paths.length === 0) {
      if (spec.optional) selection.skipped.push(spec.path);
      else
        selection.problems.push(
          `artifact ${spec.path}: no file ${isDynamicPattern(spec.path) ? 'matches' : 'at'} ${spec.path}`,
        );
      continue;
    }
    if (spec.name !== undefined && paths.length > 1) {
      selection.problems.push(
        `artifact ${spec.path}: ${paths.length} files match (${paths.slice(0, 5).join(', ')}), but \`name: ${spec.name}\` can name only one`,
      );
      continue;
    }
    for (const path of paths) {
      const name = spec.name ?? basename(path);
      if (!NAME.test(name)) {
        selection.problems.push(`artifact ${path}: "${name}" can't be an artifact name; give the entry a \`name:\``);
        continue;
      }
      const earlier = byName.get(name);
      if (earlier !== undefined) {
        selection.problems.push(`artifacts ${earlier} and ${path} would both be named "${name}"`);
        continue;
      }
      byName.set(name, path);
      const file = join(directory, path);
      selection.files.push({ name, path, file, size: (await stat(file)).size });
    }
  }
  return selection;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}
