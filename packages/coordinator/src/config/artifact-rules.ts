import { posix } from 'node:path';
import { type BuilderConfig, type FarmConfig, FETCH_STEP, isUnpackable, UPLOAD_STEP } from '@switchyard/protocol';
import picomatch from 'picomatch';
import { afterNames } from './builder-dependencies.ts';
import type { ConfigProblem } from './config-error.ts';

const ARTIFACT_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;

/**
 * What a schema can't say about `artifacts:` and `fetch:`: paths stay inside the job's
 * directory, names are unique, and every fetch names an artifact that a builder this one waits
 * for (directly or through others) declares.
 */
export function artifactProblems(config: FarmConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const byName = new Map(config.builders.map((b) => [b.name, b]));
  config.builders.forEach((builder, i) => {
    const at = `builders[${i}]`;
    const stepNames = new Set(builder.steps.map((s) => s.name));
    if (builder.fetch?.length && stepNames.has(FETCH_STEP)) {
      problems.push({ path: `${at}.steps`, message: `"${FETCH_STEP}" is the name of the step that runs \`fetch:\`` });
    }
    if (builder.artifacts?.length && stepNames.has(UPLOAD_STEP)) {
      problems.push({
        path: `${at}.steps`,
        message: `"${UPLOAD_STEP}" is the name of the step that uploads \`artifacts:\``,
      });
    }
    const declared = new Map<string, number>();
    (builder.artifacts ?? []).forEach((entry, j) => {
      const path = typeof entry === 'string' ? entry : entry.path;
      const where = typeof entry === 'string' ? `${at}.artifacts[${j}]` : `${at}.artifacts[${j}].path`;
      const outside = escapesJobDirectory(path);
      if (outside) problems.push({ path: where, message: outside });
      const name = staticName(entry);
      if (name === null) return;
      if (!ARTIFACT_NAME.test(name)) {
        problems.push({
          path: where,
          message: `"${name}" can't be an artifact name (letters, digits, ".", "_", "+", "-"); give it a \`name:\``,
        });
      } else if (declared.has(name)) {
        problems.push({
          path: where,
          message: `duplicate artifact "${name}" (first at ${at}.artifacts[${declared.get(name)}])`,
        });
      } else {
        declared.set(name, j);
      }
    });
    (builder.fetch ?? []).forEach((entry, j) => {
      const where = `${at}.fetch[${j}]`;
      const source = byName.get(entry.from);
      if (!ancestorsOf(builder, byName).has(entry.from)) {
        const chain = [...ancestorsOf(builder, byName)];
        problems.push({
          path: `${where}.from`,
          message:
            `expected a builder this one runs after (through \`after\`), so its job of the same push has finished; got "${entry.from}"` +
            (chain.length > 0 ? ` (it runs after: ${chain.join(', ')})` : ' (this builder has no `after`)'),
        });
      } else if (source && !declaresArtifact(source, entry.artifact)) {
        problems.push({
          path: `${where}.artifact`,
          message: `builder "${entry.from}" declares no artifact that could be named "${entry.artifact}" (its artifacts: ${describeArtifacts(source)})`,
        });
      }
      if (entry.to !== undefined) {
        const outside = escapesJobDirectory(entry.to);
        if (outside) problems.push({ path: `${where}.to`, message: outside });
      }
      if (entry.unpack && !isUnpackable(entry.artifact)) {
        problems.push({
          path: `${where}.unpack`,
          message: `can only unpack .tar, .tar.gz, .tgz and .zip files, and "${entry.artifact}" is none of those`,
        });
      }
    });
  });
  return problems;
}

/** Builders whose jobs of the same push have succeeded before this one runs: `after`, and theirs. */
function ancestorsOf(builder: BuilderConfig, byName: Map<string, BuilderConfig>): Set<string> {
  const seen = new Set<string>();
  const pending = afterNames(builder);
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (seen.has(name)) continue;
    seen.add(name);
    const upstream = byName.get(name);
    if (upstream) pending.push(...afterNames(upstream));
  }
  return seen;
}

/** The name an entry uploads under when that is known before the job runs; null for a glob without `name`. */
function staticName(entry: string | { path: string; name?: string | undefined }): string | null {
  const path = typeof entry === 'string' ? entry : entry.path;
  if (typeof entry !== 'string' && entry.name !== undefined) return entry.name;
  return picomatch.scan(path).isGlob ? null : posix.basename(path);
}

function declaresArtifact(builder: BuilderConfig, name: string): boolean {
  return (builder.artifacts ?? []).some((entry) => {
    const known = staticName(entry);
    if (known !== null) return known === name;
    // A glob uploads each file it matches under the file's own name.
    const path = typeof entry === 'string' ? entry : entry.path;
    const lastPart = path.split('/').at(-1) as string;
    return lastPart === '**' || picomatch(lastPart, { dot: true })(name);
  });
}

function describeArtifacts(builder: BuilderConfig): string {
  const names = (builder.artifacts ?? []).map(
    (entry) => staticName(entry) ?? (typeof entry === 'string' ? entry : entry.path),
  );
  return names.length > 0 ? names.join(', ') : 'none';
}

/**
 * A problem when a path is absolute or climbs out of the job's directory; null when it is fine.
 * Any `..` climbs: in a glob (`**` + `/../c`) normalising can't tell where it lands.
 */
function escapesJobDirectory(path: string): string | null {
  if (posix.isAbsolute(path)) return `expected a path relative to where the steps run, got "${path}"`;
  if (path.split('/').includes('..')) {
    return `expected a path inside the directory the steps run in, got "${path}"`;
  }
  return null;
}
