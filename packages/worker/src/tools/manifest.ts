import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isToolVisibility, type ToolVisibility } from '@switchyard/protocol';

/** One file of a tooltool manifest. */
export interface ToolManifestRecord {
  filename: string;
  size: number;
  /** sha512, 128 lower-case hex digits. */
  digest: string;
  algorithm: 'sha512';
  unpack?: boolean;
  visibility?: ToolVisibility;
  version?: string;
  /** Keys tooltool does not read (`setup`, …), kept as they were so a rewrite keeps them. */
  extra?: Record<string, unknown>;
}

export interface ToolManifest {
  path: string;
  records: ToolManifestRecord[];
  /** Whether the file ended with a newline: a rewrite keeps what it had. */
  trailingNewline: boolean;
}

/** A manifest that can't be read, with every problem found: `[2].digest: expected …`. */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
  constructor(
    readonly path: string,
    readonly problems: string[],
  ) {
    super(
      problems.length === 1
        ? `${path}: ${problems[0]}`
        : `${path} is not a valid tooltool manifest:\n${problems.map((problem) => `  ${problem}`).join('\n')}`,
    );
  }
}

const KNOWN_KEYS = new Set(['filename', 'size', 'digest', 'algorithm', 'unpack', 'visibility', 'version']);
const SHA512_HEX = /^[0-9a-f]{128}$/;

const ARCHIVE_SUFFIX = /\.(tar\.gz|tgz|tar\.xz|tar\.bz2|tar\.zst|tar|zip)$/i;

/** The directory an archive unpacks into, tooltool's way: its name without the archive suffix. */
export function unpackDirectory(filename: string): string {
  return filename.replace(ARCHIVE_SUFFIX, '');
}

/**
 * Whether a name can be a tooltool filename: one path segment, not `.` or `..`, and neither
 * it nor the directory it unpacks into is a tree's `.git` or `.hg`, which placing or unpacking
 * the file would replace.
 */
export function isManifestFilename(name: string): boolean {
  const versionControl = /^\.(git|hg)$/i;
  return (
    name.length > 0 &&
    !/[/\\\0]/.test(name) &&
    name !== '.' &&
    name !== '..' &&
    !versionControl.test(name) &&
    !versionControl.test(unpackDirectory(name))
  );
}

export async function readManifest(path: string): Promise<ToolManifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ManifestError(path, [code === 'ENOENT' ? 'no such file' : `cannot read it: ${(error as Error).message}`]);
  }
  return parseManifest(path, text);
}

/**
 * Reads a tooltool manifest. Where tooltool drops a record it can't use without a word, this
 * refuses the manifest and names every problem: which record, which key, what was expected.
 */
export function parseManifest(path: string, text: string): ToolManifest {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new ManifestError(path, [`not JSON: ${(error as Error).message}`]);
  }
  if (!Array.isArray(json)) throw new ManifestError(path, ['expected a JSON array of file records']);
  const problems: string[] = [];
  const records: ToolManifestRecord[] = [];
  const firstIndex = new Map<string, number>();
  json.forEach((value: unknown, index) => {
    const at = `[${index}]`;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      problems.push(`${at}: expected an object with filename, size, digest and algorithm`);
      return;
    }
    const record = readRecord(value as Record<string, unknown>, at, problems);
    if (!record) return;
    const first = firstIndex.get(record.filename);
    if (first !== undefined) {
      problems.push(`${at}.filename: "${record.filename}" is listed twice (also at [${first}])`);
      return;
    }
    firstIndex.set(record.filename, index);
    records.push(record);
  });
  if (problems.length > 0) throw new ManifestError(path, problems);
  return { path, records, trailingNewline: text.endsWith('\n') };
}

function readRecord(value: Record<string, unknown>, at: string, problems: string[]): ToolManifestRecord | null {
  const before = problems.length;
  const { filename, size, digest, algorithm, unpack, visibility, version } = value;
  const expect = (key: string, ok: boolean, expected: string) => {
    if (ok) return;
    const got = key in value ? `got ${JSON.stringify(value[key])}` : 'missing';
    problems.push(`${at}.${key}: expected ${expected}, ${got}`);
  };
  expect(
    'filename',
    typeof filename === 'string' && isManifestFilename(filename),
    'a file name without "/" or "\\", not "." or "..", and not the tree\'s .git or .hg',
  );
  expect('size', Number.isSafeInteger(size) && (size as number) >= 0, 'a non-negative integer (bytes)');
  expect('digest', typeof digest === 'string' && SHA512_HEX.test(digest), '128 lower-case hex digits (a sha512)');
  expect('algorithm', algorithm === 'sha512', '"sha512"');
  expect(
    'visibility',
    visibility === undefined || visibility === null || (typeof visibility === 'string' && isToolVisibility(visibility)),
    '"public" or "internal"',
  );
  expect('version', version === undefined || version === null || typeof version === 'string', 'a string');
  if (problems.length > before) return null;
  const extra = Object.fromEntries(Object.entries(value).filter(([key]) => !KNOWN_KEYS.has(key)));
  return {
    filename: filename as string,
    size: size as number,
    digest: digest as string,
    algorithm: 'sha512',
    ...('unpack' in value && { unpack: pythonTruthy(unpack) }),
    ...(typeof visibility === 'string' && { visibility: visibility as ToolVisibility }),
    ...(typeof version === 'string' && { version }),
    ...(Object.keys(extra).length > 0 && { extra }),
  };
}

/**
 * Tooltool reads `unpack` with Python's `if record.unpack:`, so Mozilla's configs that write
 * `"unpack": "True"` unpack, and so does any other truthy value; JSON's false, null, 0, "", []
 * and {} are Python's falsy ones. Written back, it is a canonical boolean.
 */
function pythonTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}

/**
 * The manifest as tooltool writes it (Python's `json.dumps(indent=2, separators=(',', ': '))`:
 * its keys in tooltool's order, non-ASCII escaped), so rewriting one made by tooltool changes
 * only what was added. Keys tooltool does not know follow, as they were.
 */
export function formatManifest(records: readonly ToolManifestRecord[], trailingNewline = false): string {
  const json = records.map((record) => ({
    filename: record.filename,
    size: record.size,
    algorithm: record.algorithm,
    digest: record.digest,
    ...(record.unpack !== undefined && { unpack: record.unpack }),
    ...(record.version !== undefined && { version: record.version }),
    ...(record.visibility !== undefined && { visibility: record.visibility }),
    ...record.extra,
  }));
  const text = JSON.stringify(json, null, 2).replace(
    /[\u0080-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
  return trailingNewline ? `${text}\n` : text;
}

/** Writes a manifest whole or not at all: a reader never sees half of one. */
export async function writeManifest(manifest: ToolManifest): Promise<void> {
  const temp = join(dirname(manifest.path), `.${basename(manifest.path)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    await writeFile(temp, formatManifest(manifest.records, manifest.trailingNewline));
    await rename(temp, manifest.path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}
