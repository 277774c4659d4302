/**
 * Pristine checkouts from the worker's repository store against a full `git clone`, side by side.
 *
 * A generated repository (`--files` files at its tip in a few hundred nested directories, sizes
 * mostly 1–4 KiB with some larger, `--commits` commits of a handful to a few dozen changes each)
 * is served as a bare repository through a `file://` URL, so every clone and fetch goes through
 * git's transport (upload-pack and pack-objects) as a farm's would, and never copies files.
 * Each run pushes a new revision (~50 files changed across the tree) and then measures, in an
 * order that changes from run to run:
 *
 * - clone: `git clone file://…` of the new tip, the baseline;
 * - warm: checkout() into a tree a previous job left at the previous revision, with its build
 *   output (an ignored obj-x/ of a few hundred files, ignored *.o files, untracked files, a
 *   modified and a deleted tracked file), from a store that already holds the previous revision;
 * - cold: checkout() with an empty store directory and no tree.
 *
 * Every tree is verified afterwards (HEAD is the revision, `git status --porcelain --ignored` is
 * empty), so a broken checkout can't pass for a fast one. Between measurements the driver flushes
 * the disk (`sync`), so one measurement's writeback isn't paid by the next.
 *
 *   npm run bench:checkout [-- --files 50000 --commits 2000 --runs 5 --dir DIR --keep --json]
 *
 * `--dir` keeps the generated repository there and reuses it when its parameters match; without
 * it everything goes in a fresh temporary directory, removed at the end unless `--keep`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type CheckoutReport, checkout } from '../packages/worker/src/checkout/index.ts';
import { describeMachine, percentile } from './machine.ts';
import { flagOption, numberOption, textOption } from './options.ts';
import { seededRandom } from './seeded-random.ts';

const FILES = numberOption('files', 50_000);
const COMMITS = numberOption('commits', 2000);
const RUNS = numberOption('runs', 5);
const GIVEN_DIR = textOption('dir');
const KEEP = flagOption('keep');
const JSON_OUTPUT = flagOption('json');
if (FILES < 10 || COMMITS < 1 || RUNS < 1)
  throw new Error('--files must be at least 10, --commits and --runs at least 1');

/** Changes whenever the generator would produce a different repository for the same parameters. */
const GENERATOR_VERSION = 1;
const SEED = 20_261_126;
const CHANGED_PER_REVISION = 50;
const BUILD_OUTPUT_FILES = 300;
const GIT_ENV = { ...process.env, GIT_TERMINAL_PROMPT: '0' };

/** Progress goes to stderr, so that `--json` leaves stdout to the result alone. */
const progress = (line: string) => console.error(`[bench:checkout] ${line}`);

// ---- deterministic content --------------------------------------------------------------------

/** FNV-1a: a file's content and size follow from its path alone. */
function hashOf(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

const pick = <T>(items: readonly T[], next: () => number): T => items[Math.floor(next() * items.length)] as T;

/** Picks one of `items` with a chance proportional to its weight. */
function weightedPicker<T>(items: readonly T[], weights: readonly number[]): (next: () => number) => T {
  const cumulative: number[] = [];
  let total = 0;
  for (const weight of weights) {
    total += weight;
    cumulative.push(total);
  }
  return (next) => {
    const target = next() * total;
    return items[cumulative.findIndex((sum) => sum >= target)] ?? (items.at(-1) as T);
  };
}

const WORDS = `accessible actor animation audio base bindings cache canvas channel child client codec common compositor
  config content context core crash crypto data debugger decoder device dns document editor element encoder
  event extension fetch file font frame gc glue gpu history http image input interface ipc jit layer loader
  locale manager media memory message module network observer parent parser places platform policy printing
  profiler protocol proxy reader render request runtime sandbox script service session shared socket
  storage stream style sync telemetry text thread timer track transport tree url util video view wasm webgl
  widget window worker xpcom xul`.split(/\s+/);

const TOP_LEVEL = `browser build docshell dom editor gfx intl js layout media netwerk security testing toolkit
  tools widget xpcom`.split(/\s+/);

/** File extensions and their shares of the files. */
const EXTENSION_SHARES = { cpp: 0.22, h: 0.2, js: 0.2, html: 0.1, py: 0.08, rs: 0.07, json: 0.05, txt: 0.05, sh: 0.03 };
const pickExtension = weightedPicker(Object.keys(EXTENSION_SHARES), Object.values(EXTENSION_SHARES));

const GITIGNORE = 'obj-*/\n*.o\n*.pyc\n__pycache__/\n.DS_Store\n';

/** A pool of code-like lines that files draw from: text that compresses and deltas like source. */
const LINES: readonly string[] = (() => {
  const next = seededRandom(SEED);
  const tokens = `if return const auto nsresult rv = ( ) { } ; -> nullptr RefPtr< > NS_ENSURE_SUCCESS for let
    await self. true false 0 1 && ||`.split(/\s+/);
  return Array.from({ length: 4096 }, () => {
    const indent = ' '.repeat(2 * Math.floor(next() * 4));
    const words = Array.from({ length: Math.floor(next() * 14) }, () =>
      next() < 0.5 ? pick(WORDS, next) : pick(tokens, next),
    );
    return indent + words.join(' ');
  });
})();

/** 92 % of files are 1–4 KiB, 7.5 % 4–24 KiB, 0.5 % 24–192 KiB. */
function sizeOf(path: string): number {
  const next = seededRandom(hashOf(`size:${path}`));
  const roll = next();
  if (roll < 0.92) return 1024 + next() * 3072;
  if (roll < 0.995) return 4096 + next() * 20_480;
  return 24_576 + next() * 172_032;
}

/** The content of `path` at `version`: the same lines each time, with a few edited per version. */
function contentOf(path: string, version: number): Buffer {
  const next = seededRandom(hashOf(path));
  const size = sizeOf(path);
  const lines = [`// ${path}`];
  let length = lines[0]!.length + 1;
  while (length < size) {
    const line = pick(LINES, next);
    lines.push(line);
    length += line.length + 1;
  }
  if (version > 0) {
    const edit = seededRandom(hashOf(path) ^ Math.imul(version, 0x9e3779b1));
    const edits = 1 + Math.floor(edit() * 4);
    for (let i = 0; i < edits; i++) {
      lines[1 + Math.floor(edit() * (lines.length - 1))] = `${pick(LINES, edit)} // r${version}`;
    }
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

const modeOf = (path: string) => (path.endsWith('.sh') ? '100755' : '100644');

// ---- the generated repository -------------------------------------------------------------------

/** Picks where a new file goes: one of a few hundred directories, nested up to four deep, some much fuller than others. */
function directories(next: () => number): (next: () => number) => string {
  const paths: string[] = [];
  const grow = (parent: string, depth: number) => {
    paths.push(parent);
    const continueChance = [1, 0.6, 0.3, 0][depth] ?? 0;
    if (next() >= continueChance) return;
    const count = depth === 0 ? 3 + Math.floor(next() * 5) : 1 + Math.floor(next() * 4);
    const names = new Set<string>();
    while (names.size < count) names.add(pick(WORDS, next));
    for (const name of names) grow(`${parent}/${name}`, depth + 1);
  };
  for (const top of TOP_LEVEL) grow(top, 0);
  // Exponential weights: a few big directories, many small ones, as in a real tree.
  return weightedPicker(
    paths,
    paths.map(() => -Math.log(1 - next())),
  );
}

/** The files of the tree, with O(1) removal of any of them. */
class FileSet {
  private readonly paths: string[] = [];
  private readonly indexOf = new Map<string, number>();

  get size(): number {
    return this.paths.length;
  }

  add(path: string): void {
    this.indexOf.set(path, this.paths.length);
    this.paths.push(path);
  }

  remove(path: string): void {
    const index = this.indexOf.get(path) as number;
    const last = this.paths.pop() as string;
    this.indexOf.delete(path);
    if (last !== path) {
      this.paths[index] = last;
      this.indexOf.set(last, index);
    }
  }

  has(path: string): boolean {
    return this.indexOf.has(path);
  }

  random(next: () => number): string {
    return pick(this.paths, next);
  }

  all(): readonly string[] {
    return this.paths;
  }
}

/** Batches what is written to a child's stdin and waits when the pipe is full. */
class StreamWriter {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly child: ChildProcess) {}

  async write(chunk: Buffer | string): Promise<void> {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    this.chunks.push(buffer);
    this.buffered += buffer.length;
    if (this.buffered >= 1 << 20) await this.flush();
  }

  async flush(): Promise<void> {
    const stdin = this.child.stdin!;
    const ready = stdin.write(Buffer.concat(this.chunks));
    this.chunks = [];
    this.buffered = 0;
    if (!ready) await once(stdin, 'drain');
  }
}

interface Change {
  path: string;
  /** Absent for a deletion. */
  content?: Buffer;
}

/** Streams commits to `git fast-import` on `main` of a bare repository; resolves when it is done. */
async function fastImport(
  repo: string,
  parent: string | undefined,
  commits: AsyncIterable<{ time: number; message: string; changes: Change[] }>,
): Promise<void> {
  const child = spawn('git', ['fast-import', '--quiet', '--done'], {
    cwd: repo,
    env: GIT_ENV,
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  const exited = once(child, 'exit');
  const out = new StreamWriter(child);
  let first = true;
  for await (const { time, message, changes } of commits) {
    const author = `${pick(['Ada', 'Grace', 'Linus', 'Barbara', 'Ken'], seededRandom(time))} <dev@example.org> ${time} +0000`;
    await out.write(
      `commit refs/heads/main\nauthor ${author}\ncommitter ${author}\ndata ${Buffer.byteLength(message)}\n${message}\n`,
    );
    if (first && parent) await out.write(`from ${parent}\n`);
    first = false;
    for (const { path, content } of changes) {
      if (!content) {
        await out.write(`D ${path}\n`);
        continue;
      }
      await out.write(`M ${modeOf(path)} inline ${path}\ndata ${content.length}\n`);
      await out.write(content);
      await out.write('\n');
    }
    await out.write('\n');
  }
  await out.write('done\n');
  await out.flush();
  child.stdin!.end();
  const [code] = (await exited) as [number | null];
  if (code !== 0) throw new Error(`git fast-import exited with ${code}`);
}

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, env: GIT_ENV, encoding: 'utf8', maxBuffer: 1 << 30 }).trim();

/** One commit of history: a handful to a few dozen files, most in one directory, a few adds and deletes. */
function* history(
  files: FileSet,
  pickDirectory: ReturnType<typeof directories>,
  next: () => number,
): Generator<{ time: number; message: string; changes: Change[] }> {
  const start = 1_600_000_000;
  let serial = 0;
  const newPath = () => `${pickDirectory(next)}/${pick(WORDS, next)}-${(serial++).toString(36)}.${pickExtension(next)}`;

  const initial: Change[] = [{ path: '.gitignore', content: Buffer.from(GITIGNORE) }];
  while (files.size < FILES) {
    const path = newPath();
    files.add(path);
    initial.push({ path, content: contentOf(path, 0) });
  }
  yield { time: start, message: 'Import the tree\n', changes: initial };

  for (let commit = 1; commit < COMMITS; commit++) {
    const count = 2 + Math.floor(next() ** 2 * 38);
    const focus = files.random(next);
    const focusDir = dirname(focus);
    const changed = new Map<string, Change>();
    for (let i = 0; i < count; i++) {
      const roll = next();
      if (roll < 0.08) {
        const path = next() < 0.7 ? `${focusDir}/${pick(WORDS, next)}-${(serial++).toString(36)}.cpp` : newPath();
        files.add(path);
        changed.set(path, { path, content: contentOf(path, commit) });
      } else {
        // Modifications and deletions mostly near the commit's focus: a random file of the tree, kept
        // when it shares the focus's top two directories, else tried once more.
        let path = files.random(next);
        if (!path.startsWith(focusDir.split('/').slice(0, 2).join('/'))) path = files.random(next);
        if (changed.has(path)) continue;
        if (roll < 0.15 && files.size > FILES) {
          files.remove(path);
          changed.set(path, { path });
        } else {
          changed.set(path, { path, content: contentOf(path, commit) });
        }
      }
    }
    yield {
      time: start + commit * 3600,
      message: `Change ${focusDir} (${changed.size} files)\n`,
      changes: [...changed.values()],
    };
  }
}

interface SourceDescription {
  generator: number;
  files: number;
  commits: number;
  tip: string;
}

/** The bare source repository: generated, or reused from `--dir` when it was generated with these parameters. */
async function sourceRepository(dir: string): Promise<{ repo: string; tip: string; generatedSeconds?: number }> {
  const repo = join(dir, 'source.git');
  const descriptionFile = join(dir, 'source.json');
  const wanted = { generator: GENERATOR_VERSION, files: FILES, commits: COMMITS };
  if (existsSync(descriptionFile) && existsSync(repo)) {
    const description = JSON.parse(readFileSync(descriptionFile, 'utf8')) as SourceDescription;
    if (Object.entries(wanted).every(([key, value]) => description[key as keyof SourceDescription] === value)) {
      // Earlier benchmarks pushed their revisions on top: start again from the generated tip.
      git(repo, 'update-ref', 'refs/heads/main', description.tip);
      progress(`reusing ${repo} (generated tip ${description.tip})`);
      return { repo, tip: description.tip };
    }
  }
  rmSync(repo, { recursive: true, force: true });
  const started = performance.now();
  mkdirSync(repo, { recursive: true });
  git(repo, 'init', '--quiet', '--bare', '--initial-branch=main');
  const next = seededRandom(SEED);
  const files = new FileSet();
  const commits = history(files, directories(next), next);
  let imported = 0;
  await fastImport(
    repo,
    undefined,
    (async function* () {
      for (const commit of commits) {
        if (++imported % 500 === 0) progress(`imported ${imported} of ${COMMITS} commits`);
        yield commit;
      }
    })(),
  );
  progress(`fast-import done in ${((performance.now() - started) / 1000).toFixed(1)} s; repacking as a server would`);
  // One pack with deltas and a reachability bitmap (the default for a bare repository), as a
  // hosted repository serves clones from.
  git(repo, 'repack', '-a', '-d', '-f', '--quiet');
  const tip = git(repo, 'rev-parse', 'refs/heads/main');
  writeFileSync(descriptionFile, `${JSON.stringify({ ...wanted, tip } satisfies SourceDescription, null, 2)}\n`);
  return { repo, tip, generatedSeconds: (performance.now() - started) / 1000 };
}

/** Pushes a new revision onto the source: ~50 files changed across the tree, two added, one deleted. */
async function pushRevision(repo: string, tracked: FileSet, run: number): Promise<string> {
  const next = seededRandom(SEED + run);
  const parent = git(repo, 'rev-parse', 'refs/heads/main');
  const time = Math.floor(Date.now() / 1000);
  const version = time * 10 + run;
  const changes = new Map<string, Change>();
  while (changes.size < CHANGED_PER_REVISION - 3) {
    const path = tracked.random(next);
    changes.set(path, { path, content: contentOf(path, version) });
  }
  for (let i = 0; i < 2; i++) {
    const path = `${dirname(tracked.random(next))}/added-${version.toString(36)}-${i}.cpp`;
    changes.set(path, { path, content: contentOf(path, version) });
    tracked.add(path);
  }
  let deleted = tracked.random(next);
  while (changes.has(deleted)) deleted = tracked.random(next);
  changes.set(deleted, { path: deleted });
  tracked.remove(deleted);
  await fastImport(
    repo,
    parent,
    (async function* () {
      yield { time, message: `Bench revision ${run}\n`, changes: [...changes.values()] };
    })(),
  );
  return git(repo, 'rev-parse', 'refs/heads/main');
}

// ---- one previous job's leftovers, and the checks ----------------------------------------------

/**
 * What a build leaves in its tree: an ignored objdir, ignored objects beside the sources, untracked
 * files and a directory, a tracked file edited (same size, so only its content tells) and one deleted.
 */
function leaveBuildOutput(tree: string, tracked: FileSet, run: number): string[] {
  const next = seededRandom(SEED * 7 + run);
  for (let i = 0; i < BUILD_OUTPUT_FILES; i++) {
    const path = join(tree, 'obj-x', pick(WORDS, next), pick(WORDS, next), `unit-${i}.o`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, Buffer.alloc(4096 + Math.floor(next() * 61_440), i));
  }
  for (let i = 0; i < 20; i++) writeFileSync(join(tree, `${tracked.random(next)}.o`), 'object');
  for (let i = 0; i < 5; i++) writeFileSync(join(tree, dirname(tracked.random(next)), `generated-${i}.txt`), 'scratch');
  mkdirSync(join(tree, 'scratch', 'logs'), { recursive: true });
  writeFileSync(join(tree, 'scratch', 'logs', 'test.log'), 'log');
  const edited = tracked.random(next);
  const original = readFileSync(join(tree, edited));
  writeFileSync(join(tree, edited), Buffer.from(original.toString('latin1').replace(/[a-z]/, 'Z'), 'latin1'));
  let removed = tracked.random(next);
  while (removed === edited) removed = tracked.random(next);
  unlinkSync(join(tree, removed));
  return [edited, removed];
}

/** Throws unless `tree` is exactly `revision`: HEAD, no change, no untracked or ignored file. */
function verifyPristine(tree: string, revision: string, touched: string[], what: string): void {
  const head = git(tree, 'rev-parse', 'HEAD');
  if (head !== revision) throw new Error(`${what}: HEAD is ${head}, not ${revision}`);
  const status = git(tree, 'status', '--porcelain', '--ignored', '--untracked-files=all');
  if (status !== '')
    throw new Error(`${what}: the tree is not pristine:\n${status.split('\n').slice(0, 20).join('\n')}`);
  // status trusts the index's stat data: compare the edited files' bytes too.
  for (const path of touched) {
    const expected = execFileSync('git', ['cat-file', 'blob', `${revision}:${path}`], {
      cwd: tree,
      maxBuffer: 1 << 30,
    });
    if (!readFileSync(join(tree, path)).equals(expected)) throw new Error(`${what}: ${path} differs from ${revision}`);
  }
}

// ---- the runs ----------------------------------------------------------------------------------

type Contender = 'clone' | 'warm' | 'cold';
const ORDERS: readonly Contender[][] = [
  ['clone', 'warm', 'cold'],
  ['warm', 'cold', 'clone'],
  ['cold', 'clone', 'warm'],
  ['clone', 'cold', 'warm'],
  ['warm', 'clone', 'cold'],
  ['cold', 'warm', 'clone'],
];

interface Measurement {
  seconds: number;
  /** CPU time of this process and of every git process it ran meanwhile: what the machine's load doesn't inflate much. */
  cpuSeconds: number;
}

interface Run {
  run: number;
  revision: string;
  order: Contender[];
  /** The 1-minute load average when the run started: the machine is shared. */
  loadAverage: number;
  measured: Record<Contender, Measurement>;
  warm: CheckoutReport;
  cold: CheckoutReport;
}

const median = (values: number[]) =>
  percentile(
    [...values].sort((a, b) => a - b),
    50,
  );

const sync = () => execFileSync('sync');

/**
 * Measured trees are moved aside, and deleted only when the benchmark ends. On ext4 without a
 * journal (this machine's disk), a new inode is never one freed in the last minute or five, and
 * the allocator reads every such inode to skip it: a 50,000-file tree created just after another
 * was deleted spent 20–35 s of system time in recently_deleted() and find_inode_bit() (perf),
 * against 2.5 s on a disk without recent deletions. Deleting between measurements would charge
 * that to whichever writes the most files.
 */
function trashIn(trash: string): (path: string) => void {
  mkdirSync(trash, { recursive: true });
  let count = 0;
  return (path) => renameSync(path, join(trash, `${++count}-${basename(path)}`));
}

/** CPU seconds used by this process and by the children it has waited for (cutime and cstime, in ticks of 1/100 s). */
function cpuSecondsSoFar(): number {
  const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]?.split(' ') ?? [];
  const own = process.cpuUsage();
  return (Number(fields[13]) + Number(fields[14])) / 100 + (own.user + own.system) / 1e6;
}

async function measure<T>(work: () => Promise<T> | T): Promise<{ measured: Measurement; value: T }> {
  const cpuBefore = cpuSecondsSoFar();
  const started = performance.now();
  const value = await work();
  const measured = { seconds: (performance.now() - started) / 1000, cpuSeconds: cpuSecondsSoFar() - cpuBefore };
  return { measured, value };
}

async function checkoutLogged(storeDir: string, url: string, revision: string, dest: string): Promise<CheckoutReport> {
  const lines: string[] = [];
  try {
    return await checkout({ storeDir, url, revision, dest, log: (line) => lines.push(line) });
  } catch (error) {
    throw new Error(`checkout of ${revision} into ${dest} failed: ${(error as Error).message}\n${lines.join('\n')}`);
  }
}

async function main(): Promise<void> {
  const root = GIVEN_DIR ?? mkdtempSync(join(tmpdir(), 'switchyard-bench-checkout-'));
  mkdirSync(root, { recursive: true });
  const work = mkdtempSync(join(root, 'run-'));
  const setAside = trashIn(join(work, 'trash'));
  try {
    const source = await sourceRepository(root);
    const url = pathToFileURL(source.repo).href;
    const tracked = new FileSet();
    // .gitignore stays as it is: edits and deletions go to the sources.
    for (const path of git(source.repo, 'ls-tree', '-r', '--name-only', 'main').split('\n')) {
      if (path !== '.gitignore') tracked.add(path);
    }
    const blobBytes = git(source.repo, 'ls-tree', '-r', '-l', 'main')
      .split('\n')
      .reduce((sum, line) => sum + Number(line.split(/\s+/)[3]), 0);
    const packKiB = Number(/size-pack: (\d+)/.exec(git(source.repo, 'count-objects', '-v'))?.[1]);
    const repository: RepositoryFacts = {
      url,
      files: tracked.size + 1,
      commits: Number(git(source.repo, 'rev-list', '--count', 'main')),
      directories: new Set(tracked.all().map((path) => dirname(path))).size,
      treeMiB: blobBytes / 2 ** 20,
      packMiB: packKiB / 1024,
      generatedSeconds: source.generatedSeconds,
      git: git(root, 'version'),
    };
    progress(
      `source: ${repository.files} files in ${repository.directories} directories (${repository.treeMiB.toFixed(0)} MiB), ` +
        `${repository.commits} commits, pack ${repository.packMiB.toFixed(0)} MiB, ${url}`,
    );

    const warmStore = join(work, 'warm-store');
    const warmTree = join(work, 'warm-tree');
    mkdirSync(warmStore);
    progress('the previous job: a checkout of the current tip into the warm tree (not timed)');
    await checkoutLogged(warmStore, url, git(source.repo, 'rev-parse', 'main'), warmTree);

    const runs: Run[] = [];
    for (let run = 1; run <= RUNS; run++) {
      const touched = leaveBuildOutput(warmTree, tracked, run);
      const revision = await pushRevision(source.repo, tracked, run);
      const order = ORDERS[(run - 1) % ORDERS.length]!;
      const loadAverage = loadavg()[0] as number;
      const measured = {} as Record<Contender, Measurement>;
      const reports = {} as Record<'warm' | 'cold', CheckoutReport>;
      for (const contender of order) {
        sync();
        if (contender === 'clone') {
          const dest = join(work, `clone-${run}`);
          ({ measured: measured.clone } = await measure(() =>
            execFileSync('git', ['clone', '--quiet', url, dest], { env: GIT_ENV, stdio: 'ignore' }),
          ));
          verifyPristine(dest, revision, [], 'git clone');
          setAside(dest);
        } else if (contender === 'warm') {
          ({ measured: measured.warm, value: reports.warm } = await measure(() =>
            checkoutLogged(warmStore, url, revision, warmTree),
          ));
          if (reports.warm.createdStore || reports.warm.recovered.length > 0) {
            progress(`warning: run ${run}'s warm checkout created its store or recovered (${reports.warm.recovered})`);
          }
          verifyPristine(
            warmTree,
            revision,
            touched.filter((path) => tracked.has(path)),
            'warm checkout',
          );
        } else {
          const store = join(work, `cold-store-${run}`);
          const dest = join(work, `cold-tree-${run}`);
          mkdirSync(store);
          ({ measured: measured.cold, value: reports.cold } = await measure(() =>
            checkoutLogged(store, url, revision, dest),
          ));
          verifyPristine(dest, revision, [], 'cold checkout');
          setAside(dest);
          setAside(store);
        }
      }
      runs.push({ run, revision, order: [...order], loadAverage, measured, ...reports });
      const line = (['clone', 'warm', 'cold'] as const)
        .map((contender) => `${contender} ${measured[contender].seconds.toFixed(2)} s`)
        .join(', ');
      progress(`run ${run}/${RUNS} (load average ${loadAverage.toFixed(1)}): ${line}`);
    }
    report(repository, runs);
  } finally {
    if (KEEP) progress(`kept ${GIVEN_DIR ? work : root}`);
    else rmSync(GIVEN_DIR ? work : root, { recursive: true, force: true });
  }
}

interface RepositoryFacts {
  url: string;
  files: number;
  commits: number;
  directories: number;
  treeMiB: number;
  packMiB: number;
  /** Absent when the repository was reused from `--dir`. */
  generatedSeconds: number | undefined;
  git: string;
}

type Phase = keyof CheckoutReport['timings'];
const PHASES: readonly Phase[] = ['lockMs', 'fetchMs', 'checkoutMs', 'cleanMs', 'totalMs'];

function report(repository: RepositoryFacts, runs: Run[]): void {
  const medianOf = (pickValue: (run: Run) => number) => median(runs.map(pickValue));
  const medians = Object.fromEntries(
    (['clone', 'warm', 'cold'] as const).map((contender) => [
      contender,
      {
        seconds: medianOf((run) => run.measured[contender].seconds),
        cpuSeconds: medianOf((run) => run.measured[contender].cpuSeconds),
      },
    ]),
  ) as Record<Contender, Measurement>;
  const phaseMedians = (which: 'warm' | 'cold') =>
    Object.fromEntries(PHASES.map((phase) => [phase, medianOf((run) => run[which].timings[phase])])) as Record<
      Phase,
      number
    >;
  const phases = { warm: phaseMedians('warm'), cold: phaseMedians('cold') };
  // The three run back to back within a run, so a run's own ratio is free of the drift between
  // runs (load, the disk's state); the goals are judged on the median of those paired ratios.
  const ratios = {
    cloneOverWarm: medianOf((run) => run.measured.clone.seconds / run.measured.warm.seconds),
    coldOverClone: medianOf((run) => run.measured.cold.seconds / run.measured.clone.seconds),
    ofMediansCloneOverWarm: medians.clone.seconds / medians.warm.seconds,
    ofMediansColdOverClone: medians.cold.seconds / medians.clone.seconds,
    cpuCloneOverWarm: medians.clone.cpuSeconds / medians.warm.cpuSeconds,
    cpuColdOverClone: medians.cold.cpuSeconds / medians.clone.cpuSeconds,
  };
  const goals = { cloneOverWarmAtLeast: 10, coldOverCloneAtMost: 1.1 };
  const verdict = (met: boolean) => (met ? 'met' : 'missed');
  const summary =
    `checkout: ${repository.files} files, ${repository.commits} commits, ${runs.length} runs: ` +
    `median git clone ${medians.clone.seconds.toFixed(2)} s, warm ${medians.warm.seconds.toFixed(2)} s, ` +
    `cold ${medians.cold.seconds.toFixed(2)} s; median of the runs' ratios: warm ` +
    `${ratios.cloneOverWarm.toFixed(1)}× faster than clone (goal ≥ ${goals.cloneOverWarmAtLeast}×: ` +
    `${verdict(ratios.cloneOverWarm >= goals.cloneOverWarmAtLeast)}), cold ${ratios.coldOverClone.toFixed(2)}× clone ` +
    `(goal ≤ ${goals.coldOverCloneAtMost}×: ${verdict(ratios.coldOverClone <= goals.coldOverCloneAtMost)})`;
  if (JSON_OUTPUT) {
    const machine = describeMachine();
    console.log(JSON.stringify({ machine, repository, runs, medians, phases, ratios, goals, summary }, null, 2));
    return;
  }
  const figure = ({ seconds, cpuSeconds }: Measurement) => `${seconds.toFixed(2)} (${cpuSeconds.toFixed(2)})`;
  const phaseFigure = (timings: CheckoutReport['timings']) =>
    `${timings.fetchMs.toFixed(0)}/${timings.checkoutMs.toFixed(0)}/${timings.cleanMs.toFixed(0)}`;
  const row = (cells: string[]) =>
    console.log(
      cells
        .map((cell, index) => (index < 2 ? cell.padEnd([4, 22][index] as number) : cell.padStart(index < 5 ? 14 : 10)))
        .join(' | '),
    );
  console.log(`pristine checkouts on ${describeMachine()}, ${repository.git}`);
  console.log(
    `source: ${repository.files} files in ${repository.directories} directories, ${repository.treeMiB.toFixed(0)} MiB; ` +
      `${repository.commits} commits; pack ${repository.packMiB.toFixed(0)} MiB; through ${repository.url}` +
      (repository.generatedSeconds === undefined ? '' : `; generated in ${repository.generatedSeconds.toFixed(0)} s`),
  );
  console.log('times in s, wall (CPU of every process); phases in ms, fetch/checkout/clean');
  row(['run', 'order (load)', 'git clone', 'warm', 'cold', 'clone/warm', 'cold/clone', 'warm phases', 'cold phases']);
  for (const run of runs) {
    const { clone, warm, cold } = run.measured;
    row([
      String(run.run),
      `${run.order.join(',')} (${run.loadAverage.toFixed(1)})`,
      figure(clone),
      figure(warm),
      figure(cold),
      (clone.seconds / warm.seconds).toFixed(1),
      (cold.seconds / clone.seconds).toFixed(2),
      phaseFigure(run.warm.timings),
      phaseFigure(run.cold.timings),
    ]);
  }
  row([
    'med',
    '',
    figure(medians.clone),
    figure(medians.warm),
    figure(medians.cold),
    ratios.cloneOverWarm.toFixed(1),
    ratios.coldOverClone.toFixed(2),
    phaseFigure(phases.warm),
    phaseFigure(phases.cold),
  ]);
  console.log(
    `ratios of the medians: clone/warm ${ratios.ofMediansCloneOverWarm.toFixed(1)}, cold/clone ` +
      `${ratios.ofMediansColdOverClone.toFixed(2)}; of the CPU medians: clone/warm ` +
      `${ratios.cpuCloneOverWarm.toFixed(1)}, cold/clone ${ratios.cpuColdOverClone.toFixed(2)}`,
  );
  console.log(summary);
}

await main();
